/**
 * Chainlink Functions as a lineage verifier (contracts/src/FunctionsAttestor.sol): the request arguments the
 * contract builds for contracts/functions/attestClaim.js, the response it expects, the outcomes it records,
 * and the public networks' values. Defined once here for the main process, the renderer and the tests.
 *
 * What the JavaScript source reads from IPFS (formats defined in src/shared/eval/report.ts and
 * src/shared/claims/claim.ts):
 * - the evaluation report at the claim's `evaluationCid`: `format` "xai-link-evaluation",
 *   `result.scores[<metric>]` (decimal string, must equal the claim's score), `model.cid` (when set, must be
 *   the claim's modelCid) and, for a lineage metric "…@tokenizer:<sha256>", `model.tokenizer.sha256`;
 * - each attestation file: `format` "xai-link-attestation", `chainId`, `registry`, `improvement` (the
 *   claim, JSON form), `attestation.{verifier, signature}` (65-byte ECDSA over the EIP-712 Attestation) and
 *   `recomputed.score` (within the attestor's tolerance of the report's score).
 */
import { decodeAbiParameters, getAddress, hexToString, stringToHex, type Address, type Hex } from 'viem';
import type { Improvement } from './eip712.ts';

/** args[0]: the layout version FunctionsAttestor.ARGS_VERSION. */
export const FUNCTIONS_ARGS_VERSION = '1';
/** Attestation CIDs per request (a Functions execution makes at most 5 HTTP requests; one is the report). */
export const MAX_ATTESTATION_CIDS = 4;
/** The fixed arguments before the attestation CIDs. */
export const FIXED_ARGS = 18;

export interface AttestorArgsInput {
  chainId: number | bigint;
  registry: string;
  attestor: string;
  /** Prefix the CID is appended to, e.g. "https://ipfs.io/ipfs/". */
  gatewayUrl: string;
  /** The lineage's metric name ("bits_per_byte", "top1_accuracy@tokenizer:<sha256>"). */
  metricName: string;
  verifiers: readonly string[];
  minSignatures: number;
  scoreTolerance: number | bigint;
  claim: Improvement;
  attestationCids: readonly string[];
}

/**
 * The `args` FunctionsAttestor sends (its `_args`): every number in decimal, addresses in lower case, the
 * lineage's verifiers comma-separated in the registry's order.
 */
export function attestorArgs(i: AttestorArgsInput): string[] {
  const c = i.claim;
  return [
    FUNCTIONS_ARGS_VERSION,
    BigInt(i.chainId).toString(),
    i.registry.toLowerCase(),
    i.attestor.toLowerCase(),
    i.gatewayUrl,
    i.metricName,
    i.verifiers.map((v) => v.toLowerCase()).join(','),
    String(i.minSignatures),
    BigInt(i.scoreTolerance).toString(),
    c.lineageId.toString(),
    c.parentTokenId.toString(),
    c.trainer.toLowerCase(),
    c.modelCid,
    c.metadataCid,
    c.evaluationCid,
    c.score.toString(),
    c.nonce.toString(),
    c.deadline.toString(),
    ...i.attestationCids,
  ];
}

/** What the source returns: `abi.encode(uint256 score, bytes32 attestationDigest, uint256 validSignatures)`. */
export interface AttestorResponse {
  score: bigint;
  digest: Hex;
  signatures: bigint;
}

export function decodeAttestorResponse(response: Hex): AttestorResponse {
  const [score, digest, signatures] = decodeAbiParameters(
    [{ type: 'uint256' }, { type: 'bytes32' }, { type: 'uint256' }],
    response,
  );
  return { score, digest, signatures };
}

/** `FunctionsAttestor.Status`, by its uint8 value. */
export const attestorRequestStatuses = ['none', 'pending', 'attested', 'failed'] as const;
export type AttestorRequestStatus = (typeof attestorRequestStatuses)[number];

/** `FunctionsAttestor.Failure`, by its uint8 value. */
export const attestorFailures = [
  'none',
  'oracle-error',
  'malformed-response',
  'digest-mismatch',
  'score-mismatch',
  'too-few-signatures',
] as const;
export type AttestorFailure = (typeof attestorFailures)[number];

/** Error codes the source throws (the text before ":" in a failed request's detail). */
export const sourceErrorCodes = [
  'bad-args',
  'missing-content',
  'bad-content',
  'bad-report',
  'report-mismatch',
  'score-mismatch',
  'bad-attestation',
  'attestation-mismatch',
  'unknown-verifier',
  'self-attestation',
  'duplicate-verifier',
  'bad-signature',
  'too-few-signatures',
] as const;

/** A DON id as the contracts take it: the UTF-8 name, right-padded to 32 bytes. */
export function donIdToBytes32(donId: string): Hex {
  if (new TextEncoder().encode(donId).length > 32)
    throw new Error(`DON id "${donId}" is longer than 32 bytes`);
  return stringToHex(donId, { size: 32 });
}

export function donIdFromBytes32(b: Hex): string {
  return hexToString(b, { size: 32 }).replace(/\0+$/, '');
}

/** Chainlink Functions on a public network. */
export interface FunctionsNetwork {
  name: string;
  chainId: number;
  router: Address;
  donId: string;
  linkToken: Address;
  /** The network's cap on the callback gas (Chainlink's service limits). */
  maxCallbackGasLimit: number;
}

/**
 * Ethereum Sepolia. Sources: Chainlink's "Supported Networks" page
 * (docs.chain.link/chainlink-functions/supported-networks) and the networks.js of Chainlink's
 * functions-hardhat-starter-kit (router, DON id "fun-ethereum-sepolia-1", LINK token); the 300 000 gas
 * callback cap is on "Service Limits" (docs.chain.link/chainlink-functions/resources/service-limits).
 */
export const SEPOLIA_FUNCTIONS: FunctionsNetwork = {
  name: 'Ethereum Sepolia',
  chainId: 11_155_111,
  router: getAddress('0xb83E47C2bC239B3bf370bc41e1459A34b41238D0'),
  donId: 'fun-ethereum-sepolia-1',
  linkToken: getAddress('0x779877A7B0D9E8603169DdbD7836e478b4624789'),
  maxCallbackGasLimit: 300_000,
};

export const FUNCTIONS_NETWORKS: readonly FunctionsNetwork[] = [SEPOLIA_FUNCTIONS];

/** Defaults of an attestor's request configuration. */
export const DEFAULT_CALLBACK_GAS_LIMIT = 300_000;
export const DEFAULT_MIN_SIGNATURES = 1;
export const DEFAULT_GATEWAY_URL = 'https://ipfs.io/ipfs/';
