import {
  chainlinkFunctionsPatchSchema,
  type ChainlinkFunctionsSettings,
} from '../../../../shared/api/settings.ts';
import { SEPOLIA_FUNCTIONS } from '../../../../shared/chain/functionsRequest.ts';

/**
 * The Chainlink Functions card's form: text as typed, checked field by field against the same zod schema
 * `chainlink.configure` checks (src/shared/api/settings.ts), so the reason shown is the one main would give.
 */
export type ChainlinkField = keyof ChainlinkFunctionsSettings;
export type ChainlinkForm = Record<ChainlinkField, string>;
export type ChainlinkPatch = Partial<ChainlinkFunctionsSettings>;

const NUMBER_FIELDS = new Set<ChainlinkField>([
  'chainId',
  'callbackGasLimit',
  'minSignatures',
  'scoreTolerance',
]);

export function formFromSettings(s: ChainlinkFunctionsSettings): ChainlinkForm {
  return {
    chainId: s.chainId === null ? '' : String(s.chainId),
    routerAddress: s.routerAddress,
    donId: s.donId,
    subscriptionId: s.subscriptionId,
    callbackGasLimit: String(s.callbackGasLimit),
    gatewayUrl: s.gatewayUrl,
    minSignatures: String(s.minSignatures),
    scoreTolerance: String(s.scoreTolerance),
    attestorAddress: s.attestorAddress,
  };
}

/** Chainlink's published Sepolia router, DON id and chain id; the other fields keep what was typed. */
export function withSepoliaValues(form: ChainlinkForm): ChainlinkForm {
  return {
    ...form,
    chainId: String(SEPOLIA_FUNCTIONS.chainId),
    routerAddress: SEPOLIA_FUNCTIONS.router,
    donId: SEPOLIA_FUNCTIONS.donId,
  };
}

/** Typed text → the value the schema takes: numbers may be written "300 000" or "300,000"; "" is no chain. */
function valueOf(field: ChainlinkField, text: string): unknown {
  const t = text.trim();
  if (!NUMBER_FIELDS.has(field)) return t;
  if (field === 'chainId' && t === '') return null;
  const digits = t.replace(/[\s_,]/g, '');
  // Anything that is not a decimal number becomes NaN, which the schema refuses with its own reason.
  return /^-?[0-9]+(\.[0-9]+)?$/.test(digits) ? Number(digits) : Number.NaN;
}

function sentence(message: string): string {
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

export interface CheckedChainlinkForm {
  /** Each refused field's reason. */
  errors: Partial<Record<ChainlinkField, string>>;
  /** The fields that differ from the saved settings (what Save sends), when none is refused. */
  changes: ChainlinkPatch;
}

export function checkChainlinkForm(
  form: ChainlinkForm,
  saved: ChainlinkFunctionsSettings,
): CheckedChainlinkForm {
  const errors: CheckedChainlinkForm['errors'] = {};
  const changes: Record<string, unknown> = {};
  for (const field of Object.keys(form) as ChainlinkField[]) {
    const parsed = chainlinkFunctionsPatchSchema.shape[field].safeParse(valueOf(field, form[field]));
    if (!parsed.success) {
      errors[field] = sentence(parsed.error.issues[0]?.message ?? 'this value is not valid');
    } else if (parsed.data !== saved[field]) {
      changes[field] = parsed.data;
    }
  }
  return { errors, changes: changes as ChainlinkPatch };
}
