import { z } from 'zod';
import { request } from './contract.ts';
import {
  DEFAULT_CALLBACK_GAS_LIMIT,
  DEFAULT_GATEWAY_URL,
  DEFAULT_MIN_SIGNATURES,
  MAX_ATTESTATION_CIDS,
} from '../chain/functionsRequest.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../eval/metrics.ts';

/** An address, or empty for "not configured". */
const ADDRESS_OR_EMPTY = /^(0x[0-9a-fA-F]{40})?$/;

/**
 * Chainlink Functions as a lineage verifier (docs/chainlink.md): where the FunctionsAttestor lives and what its
 * requests use. Every field defaults to "not configured"; `chainlink.status` says whether it is usable on the
 * current network. Sepolia's router and DON id are in src/shared/chain/functionsRequest.ts (SEPOLIA_FUNCTIONS).
 * The messages are the reasons the Settings page shows as the user types (and the CLI's INVALID_PARAMS).
 */
export const chainlinkFunctionsSettingsSchema = z.object({
  /** The chain these values belong to (null: not configured). */
  chainId: z
    .number('a chain id is a whole number, e.g. 11155111 for Sepolia')
    .int('a chain id is a whole number, e.g. 11155111 for Sepolia')
    .positive('a chain id is a positive number, e.g. 11155111 for Sepolia')
    .nullable()
    .default(null),
  /** The network's Functions router, e.g. 0xb83E…38D0 on Sepolia; empty: not configured. */
  routerAddress: z
    .string()
    .regex(ADDRESS_OR_EMPTY, 'a router address is 0x followed by 40 hexadecimal characters')
    .default(''),
  /** The DON id, e.g. "fun-ethereum-sepolia-1" (at most 32 bytes). */
  donId: z.string().max(32, 'a DON id has at most 32 characters, e.g. fun-ethereum-sepolia-1').default(''),
  /** The Functions subscription (uint64, decimal) that pays; empty: not configured. */
  subscriptionId: z
    .string()
    .regex(
      /^([1-9][0-9]{0,19})?$/,
      'a subscription id is a whole number from functions.chain.link, without leading zeros',
    )
    .default(''),
  /** Gas for the attestor's fulfilment callback (public DONs allow at most 300 000). */
  callbackGasLimit: z
    .number('the callback gas limit is a whole number')
    .int('the callback gas limit is a whole number')
    .min(50_000, 'the callback gas limit is at least 50,000')
    .max(2_500_000, 'the callback gas limit is at most 2,500,000 (public DONs: 300,000)')
    .default(DEFAULT_CALLBACK_GAS_LIMIT),
  /** IPFS gateway prefix the DON fetches CIDs from. */
  gatewayUrl: z
    .url({ protocol: /^https?$/, error: 'the gateway is an http(s) URL such as https://ipfs.io/ipfs/' })
    .default(DEFAULT_GATEWAY_URL),
  /** Valid signatures of other lineage verifiers the DON must find. */
  minSignatures: z
    .number('the signature count is a whole number')
    .int('the signature count is a whole number')
    .min(1, 'the DON must find at least 1 signature')
    .max(MAX_ATTESTATION_CIDS, `a request carries at most ${MAX_ATTESTATION_CIDS} attestations`)
    .default(DEFAULT_MIN_SIGNATURES),
  /** Largest difference (score units) between the report's score and a verifier's recomputed score. */
  scoreTolerance: z
    .number('the score tolerance is a whole number of score units')
    .int('the score tolerance is a whole number of score units')
    .min(0, 'the score tolerance cannot be negative')
    .max(1_000_000, 'the score tolerance is at most 1,000,000 score units')
    .default(DEFAULT_SCORE_TOLERANCE),
  /** The deployed FunctionsAttestor (`chainlink.deploy` fills it in); empty: none. */
  attestorAddress: z
    .string()
    .regex(ADDRESS_OR_EMPTY, 'an attestor address is 0x followed by 40 hexadecimal characters')
    .default(''),
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
