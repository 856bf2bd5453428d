import { z } from 'zod';
import { request } from './contract.ts';
import {
  DEFAULT_CALLBACK_GAS_LIMIT,
  DEFAULT_GATEWAY_URL,
  DEFAULT_MIN_SIGNATURES,
  MAX_ATTESTATION_CIDS,
} from '../chain/functionsRequest.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../eval/metrics.ts';

/**
 * Chainlink Functions as a lineage verifier (docs/chainlink.md): where the FunctionsAttestor lives and what its
 * requests use. Every field defaults to "not configured"; `chainlink.status` says whether it is usable on the
 * current network. Sepolia's router and DON id are in src/shared/chain/functionsRequest.ts (SEPOLIA_FUNCTIONS).
 */
export const chainlinkFunctionsSettingsSchema = z.object({
  /** The chain these values belong to (null: not configured). */
  chainId: z.number().int().positive().nullable().default(null),
  /** The network's Functions router, e.g. 0xb83E…38D0 on Sepolia; empty: not configured. */
  routerAddress: z.union([z.literal(''), z.string().regex(/^0x[0-9a-fA-F]{40}$/)]).default(''),
  /** The DON id, e.g. "fun-ethereum-sepolia-1" (at most 32 bytes). */
  donId: z.string().max(32).default(''),
  /** The Functions subscription (uint64, decimal) that pays; empty: not configured. */
  subscriptionId: z.union([z.literal(''), z.string().regex(/^[1-9][0-9]{0,19}$/)]).default(''),
  /** Gas for the attestor's fulfilment callback (public DONs allow at most 300 000). */
  callbackGasLimit: z.number().int().min(50_000).max(2_500_000).default(DEFAULT_CALLBACK_GAS_LIMIT),
  /** IPFS gateway prefix the DON fetches CIDs from. */
  gatewayUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_GATEWAY_URL),
  /** Valid signatures of other lineage verifiers the DON must find. */
  minSignatures: z.number().int().min(1).max(MAX_ATTESTATION_CIDS).default(DEFAULT_MIN_SIGNATURES),
  /** Largest difference (score units) between the report's score and a verifier's recomputed score. */
  scoreTolerance: z.number().int().min(0).max(1_000_000).default(DEFAULT_SCORE_TOLERANCE),
  /** The deployed FunctionsAttestor (`chainlink.deploy` fills it in); empty: none. */
  attestorAddress: z.union([z.literal(''), z.string().regex(/^0x[0-9a-fA-F]{40}$/)]).default(''),
});
export type ChainlinkFunctionsSettings = z.infer<typeof chainlinkFunctionsSettingsSchema>;

const cf = chainlinkFunctionsSettingsSchema.shape;
/** A change to the Chainlink Functions section: the fields named, no defaults (`chainlink.configure`). */
export const chainlinkFunctionsPatchSchema = z.strictObject({
  chainId: cf.chainId.unwrap().optional(),
  routerAddress: cf.routerAddress.unwrap().optional(),
  donId: cf.donId.unwrap().optional(),
  subscriptionId: cf.subscriptionId.unwrap().optional(),
  callbackGasLimit: cf.callbackGasLimit.unwrap().optional(),
  gatewayUrl: cf.gatewayUrl.unwrap().optional(),
  minSignatures: cf.minSignatures.unwrap().optional(),
  scoreTolerance: cf.scoreTolerance.unwrap().optional(),
  attestorAddress: cf.attestorAddress.unwrap().optional(),
});

/**
 * Settings the user can change, stored as settings.json in the data directory.
 * Every field has a default, so an older or partial file still loads; unknown fields are dropped.
 */
export const settingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** WalletConnect Cloud project id; empty means WalletConnect is not configured. */
  walletConnectProjectId: z.string().max(64).default(''),
  /** Chainlink Functions attestation (issue 8); defaults: not configured. */
  chainlinkFunctions: chainlinkFunctionsSettingsSchema.prefault({}),
});
export type Settings = z.infer<typeof settingsSchema>;

/** A change to the settings: every field optional and without a default. */
export const settingsPatchSchema = z.strictObject({
  theme: settingsSchema.shape.theme.unwrap().optional(),
  walletConnectProjectId: settingsSchema.shape.walletConnectProjectId.unwrap().optional(),
  chainlinkFunctions: chainlinkFunctionsSettingsSchema.optional(),
});

export const settingsRequests = {
  'settings.get': request({
    description: 'The current settings.',
    params: z.strictObject({}),
    result: settingsSchema,
  }),
  'settings.update': request({
    description: 'Changes some settings and saves them atomically; returns the new settings.',
    // Fields left out keep their values (no defaults here: a default would overwrite them). A section such as
    // chainlinkFunctions is replaced whole; `chainlink.configure` merges field by field.
    params: z.strictObject({ patch: settingsPatchSchema }),
    result: settingsSchema,
  }),
};
