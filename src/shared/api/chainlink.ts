import { z } from 'zod';
import { request } from './contract.ts';
import { signerSchema } from './chain.ts';
import { improvementJsonSchema } from '../chain/eip712.ts';
import { chainlinkFunctionsPatchSchema, chainlinkFunctionsSettingsSchema } from './settings.ts';
import {
  attestorFailures,
  attestorRequestStatuses,
  MAX_ATTESTATION_CIDS,
} from '../chain/functionsRequest.ts';

/**
 * Chainlink attestation (issue 8): a FunctionsAttestor contract registered as a lineage verifier, which asks
 * a Chainlink Functions DON to check a claim's published evaluation report and attestations and then
 * attests it on chain (docs/chainlink.md). The claim wizard offers "Chainlink attestation" as a verifier
 * option when `chainlink.status` says `configured` (pass `lineageId` to also learn whether the attestor is
 * one of that lineage's verifiers). The claim then lists the attestor with an empty signature ("0x").
 *
 * Writes sign like the chain domain's (an anvil dev account on the embedded chain, or a key named by an
 * environment variable); a Functions request costs the subscription LINK. From a wallet, the renderer asks
 * `chainlink.requestData` for the exact call and sends it itself (the wallet signs; main sends nothing).
 */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed address');
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'a 0x-prefixed hex string');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte value');
const uintString = z.string().regex(/^(0|[1-9][0-9]*)$/, 'an unsigned integer in decimal');
const cid = z.string().trim().min(1).max(200);

export const functionsNetworkSchema = z.object({
  name: z.string(),
  chainId: z.number().int(),
  router: address,
  donId: z.string(),
  linkToken: address,
  maxCallbackGasLimit: z.number().int(),
});

export const chainlinkStatusSchema = z.object({
  /** Whether "Chainlink attestation" can be offered now (settings complete, on their chain, attestor deployed). */
  configured: z.boolean(),
  /** Why not, one sentence each (empty when configured). */
  problems: z.array(z.string()),
  settings: chainlinkFunctionsSettingsSchema,
  /** The chain the app is connected to (null when it was not checked or does not answer). */
  chainId: z.number().int().nullable(),
  /** Chainlink's published values for that chain (Ethereum Sepolia), when known. */
  knownNetwork: functionsNetworkSchema.nullable(),
  /** The deployed attestor as read from the chain (null when none is configured or it has no code). */
  attestor: z
    .object({
      address,
      owner: address,
      router: address,
      donId: z.string(),
      subscriptionId: uintString,
      callbackGasLimit: z.number().int(),
      minSignatures: z.number().int(),
      gatewayUrl: z.string(),
      /** Whether its source is this build's contracts/functions/attestClaim.js. */
      sourceUpToDate: z.boolean(),
      openRequests: z.boolean(),
    })
    .nullable(),
  /** For `lineageId`: whether the attestor is one of the lineage's verifiers (it must be, to count). */
  lineage: z.object({ lineageId: z.number().int().positive(), attestorIsVerifier: z.boolean() }).nullable(),
});
export type ChainlinkStatus = z.infer<typeof chainlinkStatusSchema>;

export const attestorRequestSchema = z.object({
  requestId: bytes32,
  status: z.enum(attestorRequestStatuses),
  failure: z.enum(attestorFailures),
  /** The DON's error (or the mismatch) when it failed, truncated to 128 bytes on chain. */
  detail: z.string(),
  attestationDigest: bytes32,
  lineageId: z.number().int(),
  requester: address,
  score: uintString,
  reportedScore: uintString,
  signatures: z.number().int(),
  /** Unix seconds; fulfilledAt is 0 while pending. */
  requestedAt: z.number().int(),
  fulfilledAt: z.number().int(),
});
export type AttestorRequestView = z.infer<typeof attestorRequestSchema>;

/** A claim: this machine's claim id, a claim JSON on IPFS, or a claim JSON file. */
export const chainlinkClaimRefSchema = z.union([
  z.strictObject({ claimId: z.string().regex(/^claim-[0-9a-z-]+$/) }),
  z.strictObject({ cid }),
  z.strictObject({ file: z.string().min(1).max(4096) }),
]);
export type ChainlinkClaimRef = z.infer<typeof chainlinkClaimRefSchema>;

const attestationCidsParam = z.array(cid).min(1).max(MAX_ATTESTATION_CIDS).optional();

/** The transaction a wallet sends to ask for a Chainlink attestation, and what it sets in motion. */
export const chainlinkRequestDataSchema = z.object({
  chainId: z.number().int(),
  /** The FunctionsAttestor to call. */
  attestor: address,
  functionName: z.literal('requestAttestation'),
  /** Its arguments: the claim (JSON form: numbers as decimal strings) and the attestation CIDs. */
  improvement: improvementJsonSchema,
  attestationCids: z.array(z.string()),
  /** The EIP-712 attestation digest the DON's answer must match (`chainlink.result` reports it). */
  attestationDigest: bytes32,
  /** Who pays and who answers, as the attestor is configured on chain. */
  subscriptionId: uintString,
  donId: z.string(),
  callbackGasLimit: z.number().int(),
  /** Whether any account may call; otherwise only `owner` and the requesters it approved. */
  openRequests: z.boolean(),
  owner: address,
});
export type ChainlinkRequestData = z.infer<typeof chainlinkRequestDataSchema>;

export const chainlinkRequests = {
  'chainlink.status': request({
    description:
      'Whether Chainlink attestation is configured on the current network (the claim wizard shows it as a verifier option when it is), and the attestor read from the chain.',
    params: z.strictObject({ lineageId: z.number().int().positive().optional() }),
    result: chainlinkStatusSchema,
  }),
  'chainlink.configure': request({
    description:
      'Changes some Chainlink Functions settings (router, DON id, subscription, gas limit, gateway, attestor); the others keep their values.',
    params: chainlinkFunctionsPatchSchema,
    result: chainlinkFunctionsSettingsSchema,
  }),
  'chainlink.deploy': request({
    description:
      "Deploys a FunctionsAttestor on the current network with the configured router, uploads this build's Functions source, sets DON, subscription and gas, and records its address. Add it to the subscription's consumers (or pass addConsumer when the signer owns the subscription) and to a lineage's verifiers.",
    params: z.strictObject({
      signer: signerSchema.default({ devAccount: 0 }),
      addConsumer: z.boolean().default(false),
    }),
    result: z.object({ chainId: z.number().int(), attestor: address, txHash: hex, sourceHash: bytes32 }),
  }),
  'chainlink.request': request({
    description:
      "Asks the DON to check a claim's evaluation report and verifier attestations (by CID) and to attest it; costs the subscription LINK.",
    params: z.strictObject({
      claim: chainlinkClaimRefSchema,
      /** Attestation JSON CIDs; default: those recorded with the local claim. */
      attestationCids: attestationCidsParam,
      signer: signerSchema.default({ devAccount: 0 }),
    }),
    result: z.object({
      requestId: bytes32,
      txHash: hex,
      attestor: address,
      attestationDigest: bytes32,
      attestationCids: z.array(z.string()),
    }),
  }),
  'chainlink.requestData': request({
    description:
      'What a wallet sends to ask for a Chainlink attestation of a claim: FunctionsAttestor.requestAttestation(claim, attestationCids), checked as chainlink.request checks it (configured, 1 to 4 CIDs); reads only, sends nothing.',
    params: z.strictObject({
      claim: chainlinkClaimRefSchema,
      /** Attestation JSON CIDs; default: those recorded with the local claim. */
      attestationCids: attestationCidsParam,
    }),
    result: chainlinkRequestDataSchema,
  }),
  'chainlink.result': request({
    description:
      'Where a Functions attestation request stands: pending, attested, or failed with its reason.',
    params: z.strictObject({ requestId: bytes32 }),
    result: attestorRequestSchema,
  }),
};
