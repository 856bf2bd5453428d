import { z } from 'zod';
import { request } from './contract.ts';
import { signerSpecSchema } from '../claims/signer.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../eval/metrics.ts';

/**
 * Trainers and verifiers on different machines (issue 13). A trainer announces a signed claim on chain
 * (`requestVerification`); a verifier's watcher follows those announcements from a saved cursor, fetches the
 * claim, model and evaluation text by CID over IPFS, re-runs it, and attests on chain (`attest`) or publishes
 * its reason (`declineVerification`). The trainer collects both from the chain.
 */

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed address');
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'a 0x-prefixed hex string');

export const WATCH_JOB_STATUSES = [
  'queued',
  'checking',
  'attesting',
  'declining',
  'attested',
  'refused',
  'failed',
] as const;

/** One announced claim in a verifier's queue, and (once done) its verdict. */
export const watchJobSchema = z.object({
  claimCid: z.string(),
  lineageId: z.number().int().positive(),
  /** The digest the announcement named; `digest` is the one recomputed from the claim. */
  announcedDigest: hex,
  digest: hex.nullable(),
  requester: address,
  trainer: address.nullable(),
  announcedAt: z.object({
    blockNumber: z.number().int().nonnegative(),
    txHash: hex,
    logIndex: z.number().int(),
  }),
  status: z.enum(WATCH_JOB_STATUSES),
  /** What the watcher is doing for this claim now (fetching model, evaluating…). */
  step: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  /** `score-mismatch`, `bad-signature`…, or `error` for a failure that is not a refusal. */
  reason: z.string().nullable(),
  message: z.string().nullable(),
  /** The lineage's metric (scores are shown in its units). */
  metric: z.string().nullable(),
  claimedScore: z.string().nullable(),
  recomputedScore: z.string().nullable(),
  evaluationCid: z.string().nullable(),
  /** The `attest` or `declineVerification` transaction. */
  txHash: hex.nullable(),
  queuedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type WatchJob = z.infer<typeof watchJobSchema>;

export const watcherStatusSchema = z.object({
  running: z.boolean(),
  /** Stopping after the current step. */
  stopping: z.boolean(),
  verifier: address.nullable(),
  /** Lineages watched; empty: every lineage this verifier is registered for. */
  lineages: z.array(z.number().int().positive()),
  chainId: z.number().int().nullable(),
  registry: address.nullable(),
  /** Last block whose announcements are all queued (saved in the data directory). */
  cursor: z.number().int().nullable(),
  latestBlock: z.number().int().nullable(),
  /** Announcements passed over: another lineage, or one this verifier does not serve. */
  ignored: z.number().int().nonnegative(),
  current: z.string().nullable(),
  jobs: z.array(watchJobSchema),
  error: z.string().nullable(),
});
export type WatcherStatus = z.infer<typeof watcherStatusSchema>;

/** A remote verifier's answer to a claim, read from the chain. */
export const remoteVerdictSchema = z.object({
  verifier: address,
  kind: z.enum(['attested-on-chain', 'declined', 'signed']),
  reason: z.string().nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  at: z.string().nullable(),
  txHash: hex.nullable(),
});
export type RemoteVerdict = z.infer<typeof remoteVerdictSchema>;

export const claimNetworkStatusSchema = z.object({
  claimId: z.string(),
  claimCid: z.string(),
  /** The claim's Attestation digest: what `requestVerification`, `attest` and `declineVerification` name. */
  attestationDigest: hex,
  announced: z.object({ txHash: hex, blockNumber: z.number().int() }).nullable(),
  quorum: z.number().int(),
  attestations: z.number().int(),
  verdicts: z.array(remoteVerdictSchema),
  minted: z.object({ tokenId: z.number().int(), txHash: hex }).nullable(),
});
export type ClaimNetworkStatus = z.infer<typeof claimNetworkStatusSchema>;

export const verifierNetworkRequests = {
  'watcher.start': request({
    description:
      "Starts this machine's verifier watcher: follows VerificationRequested events from its saved cursor, re-runs each announced claim (one at a time) and attests on chain only if it holds.",
    params: z.strictObject({
      signer: signerSpecSchema,
      /** Only these lineages (default: every lineage the signer verifies). */
      lineages: z.array(z.number().int().positive()).max(64).default([]),
      maxTolerance: z.number().int().nonnegative().default(DEFAULT_SCORE_TOLERANCE),
      /** Blocks re-read on every poll, so a reorganisation of up to this depth is seen. */
      confirmations: z.number().int().min(0).max(64).default(6),
      pollMs: z.number().int().min(50).max(60_000).default(2_000),
    }),
    result: watcherStatusSchema,
  }),
  'watcher.stop': request({
    description:
      'Stops the watcher after the current step (an evaluation in progress is abandoned and redone on the next start; a chain write completes).',
    params: z.strictObject({}),
    result: watcherStatusSchema,
  }),
  'watcher.status': request({
    description: "The watcher's state, cursor, queue and every verdict with its reason (persisted).",
    params: z.strictObject({}),
    result: watcherStatusSchema,
  }),
  'claims.announce': request({
    description:
      "Announces a signed claim to its lineage's verifiers on chain (requestVerification). Idempotent: a claim announced before is not announced again.",
    params: z.strictObject({ claimId: z.string(), signer: signerSpecSchema }),
    result: claimNetworkStatusSchema,
  }),
  'claims.networkStatus': request({
    description:
      "Remote verifiers' answers to a claim, read from the chain (on-chain attestations and refusals with their reasons); on-chain attestations are added to the claim.",
    params: z.strictObject({ claimId: z.string() }),
    result: claimNetworkStatusSchema,
  }),
};
