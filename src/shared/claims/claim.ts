import { z } from 'zod';
import { improvementJsonSchema, verifierSignatureJsonSchema } from '../chain/eip712.ts';
import { EVALUATOR_NAME } from '../eval/metrics.ts';

/**
 * The files of the claim flow that are published to IPFS, so that verifiers, buyers and oracles (the
 * Chainlink attestor of a later issue) can check a token's proof without trusting anyone:
 *
 * - claim JSON ("xai-link-claim"): the trainer's signed EIP-712 Improvement, the commit salt, the metric
 *   and the tolerance a verifier may allow. Its CID is what `xai-link verify` takes.
 * - attestation JSON ("xai-link-attestation"): one verifier's EIP-712 Attestation of that claim, with the
 *   CID of the evaluation report the verifier computed itself.
 *
 * The EIP-712 types, the domain and the JSON form of an Improvement are src/shared/chain/eip712.ts.
 */
export const CLAIM_FORMAT = 'xai-link-claim';
export const ATTESTATION_FORMAT = 'xai-link-attestation';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address');
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'a 0x-prefixed hex string');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte hex value');
const cid = z.string().min(1).max(200);

export const claimFileSchema = z.object({
  format: z.literal(CLAIM_FORMAT),
  version: z.literal(1),
  chainId: z.number().int().positive(),
  /** The ModelRegistry (the EIP-712 verifying contract). */
  registry: address,
  improvement: improvementJsonSchema,
  /** The salt of the trainer's commitment to modelCid (the claim reveals it). */
  salt: bytes32,
  trainerSignature: hex,
  metric: z.object({
    /** The lineage's metric name (e.g. "bits_per_byte"). */
    name: z.string(),
    /** The claimed value (score / 10^6). */
    value: z.number(),
    /** Largest difference, in score units, between the claimed and a re-computed score a verifier should accept. */
    tolerance: z.number().int().nonnegative(),
  }),
  evaluator: z.object({ name: z.literal(EVALUATOR_NAME), version: z.number().int().positive() }),
  createdAt: z.string(),
});
export type ClaimFile = z.infer<typeof claimFileSchema>;

export const attestationFileSchema = z.object({
  format: z.literal(ATTESTATION_FORMAT),
  version: z.literal(1),
  chainId: z.number().int().positive(),
  registry: address,
  /** The claim JSON this attests. */
  claimCid: cid.nullable(),
  improvement: improvementJsonSchema,
  attestation: verifierSignatureJsonSchema,
  /** What the verifier computed itself. */
  recomputed: z.object({ evaluationCid: cid.nullable(), score: z.string(), value: z.number() }),
  evaluator: z.object({ name: z.literal(EVALUATOR_NAME), version: z.number().int().positive() }),
  createdAt: z.string(),
});
export type AttestationFile = z.infer<typeof attestationFileSchema>;

/** Why a verifier refused to attest (stable codes, each with a sentence in the verdict). */
export const refusalReasons = [
  'bad-claim',
  'wrong-chain',
  'bad-signature',
  'unknown-lineage',
  'metric-mismatch',
  'not-a-verifier',
  'stale-parent',
  'already-minted',
  'no-commitment',
  'expired',
  'stale-nonce',
  'missing-content',
  'disallowed-operator',
  'bad-model',
  'tokenizer-mismatch',
  'evaluator-version',
  'tolerance-too-large',
  'score-mismatch',
  'insufficient-improvement',
  'metadata-mismatch',
] as const;
export type RefusalReason = (typeof refusalReasons)[number];

export const verifierCheckSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  message: z.string(),
});
export type VerifierCheck = z.infer<typeof verifierCheckSchema>;
