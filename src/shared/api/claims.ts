import { z } from 'zod';
import { request } from './contract.ts';
import { improvementJsonSchema } from '../chain/eip712.ts';
import {
  attestationFileSchema,
  claimFileSchema,
  refusalReasons,
  verifierCheckSchema,
} from '../claims/claim.ts';
import { signerSpecSchema } from '../claims/signer.ts';
import { lossPointSchema } from '../eval/modelPackage.ts';
import { DEFAULT_SCORE_TOLERANCE } from '../eval/metrics.ts';
import { evaluationReportSchema } from '../eval/report.ts';

/**
 * Proof of model improvement: the claim wizard and the verifier.
 *
 * Claim wizard (one claim = one model version proposed to a lineage), each step a request so the UI can
 * show where a claim stands and resume it after a restart (claims are kept in <dataDir>/claims):
 *
 *   claims.start → claims.commit (or claims.commitData + wallet + claims.recordCommit)
 *   → claims.evaluate (a job: evaluation report, loss-curve image, ERC-721 metadata, all on IPFS)
 *   → claims.typedData → wallet signTypedData → claims.submitSignature (or claims.sign with a local key)
 *   → attestations: claims.attestLocally (a local verifier key re-runs and signs) / claims.addAttestation
 *   → claims.submit (or claims.submitData + wallet + claims.recordMint) → minted.
 *
 * In the renderer, sign with wagmi: `signTypedData(config, improvementTypedData(domain, improvementFromJson(improvement)))`
 * using src/shared/chain/eip712.ts (the same definitions the contract tests use).
 *
 * Verifier: `verifier.check` re-runs a claim's evaluation (a job) and explains any refusal;
 * `verifier.attest` signs with a local key when it holds; `verifier.typedData` + `verifier.submitAttestation`
 * do the same through the wallet; `verifier.inbox` lists claims waiting for this machine's verifiers.
 */
export const claimIdSchema = z.string().regex(/^claim-[0-9a-z-]+$/, 'a claim id looks like "claim-…"');
const cid = z.string().trim().min(1).max(200);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed address');
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'a 0x-prefixed hex string');
const uintString = z.string().regex(/^(0|[1-9][0-9]*)$/);

export const claimStatusSchema = z.enum(['created', 'committed', 'evaluated', 'signed', 'minted', 'failed']);
export type ClaimStatus = z.infer<typeof claimStatusSchema>;

export const claimRecordSchema = z.object({
  id: claimIdSchema,
  status: claimStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  chainId: z.number().int(),
  registry: address,
  lineageId: z.number().int().positive(),
  trainer: address,
  model: z.object({
    cid,
    name: z.string(),
    description: z.string().nullable(),
    checkpointCid: cid.nullable(),
    datasetCid: cid.nullable(),
    pipelineCid: cid.nullable(),
    parameters: z.number().int().nonnegative(),
    trainingTokens: z.number().int().nonnegative(),
    lossCurve: z.array(lossPointSchema),
  }),
  tolerance: z.number().int().nonnegative(),
  deadlineSeconds: z.number().int().positive(),
  commit: z
    .object({
      commitment: hex,
      txHash: hex.nullable(),
      committedAt: z.number().int(),
      claimableAt: z.number().int(),
    })
    .nullable(),
  evaluation: z
    .object({
      reportCid: cid,
      evalTextRef: z.string(),
      metric: z.string(),
      value: z.number(),
      score: uintString,
      bitsPerByte: z.number(),
      top1Accuracy: z.number(),
      imageCid: cid,
      metadataCid: cid,
      parentTokenId: z.number().int().nonnegative(),
      version: z.number().int().positive(),
    })
    .nullable(),
  improvement: improvementJsonSchema.nullable(),
  trainerSignature: hex.nullable(),
  claimCid: cid.nullable(),
  attestations: z.array(z.object({ verifier: address, signature: hex, attestationCid: cid.nullable() })),
  /** Verifiers the lineage needs (its quorum) and has. */
  quorum: z.number().int().nonnegative(),
  mint: z.object({ txHash: hex, tokenId: z.number().int().positive() }).nullable(),
  error: z.string().nullable(),
});
export type ClaimRecord = z.infer<typeof claimRecordSchema>;

const claimRef = z.strictObject({ claimId: claimIdSchema });
const signerParam = signerSpecSchema;

/** A claim to verify: its CID on IPFS, a local file, or its JSON. */
export const claimSourceSchema = z.union([
  z.strictObject({ cid }),
  z.strictObject({ file: z.string().min(1).max(4096) }),
  z.strictObject({ json: claimFileSchema }),
]);

export const verdictSchema = z.object({
  ok: z.boolean(),
  claimCid: z.string().nullable(),
  lineageId: z.number().int(),
  modelCid: z.string(),
  trainer: z.string(),
  metric: z.string(),
  claimed: z.object({ score: uintString, value: z.number() }),
  recomputed: z
    .object({ score: uintString, value: z.number(), evaluationCid: z.string().nullable() })
    .nullable(),
  tolerance: z.number().int(),
  checks: z.array(verifierCheckSchema),
  refusal: z.object({ reason: z.enum(refusalReasons), message: z.string() }).nullable(),
});
export type VerdictView = z.infer<typeof verdictSchema>;

export const inboxEntrySchema = z.object({
  claimCid: z.string().nullable(),
  claimId: claimIdSchema.nullable(),
  lineageId: z.number().int(),
  modelCid: z.string(),
  trainer: z.string(),
  score: uintString,
  metric: z.string(),
  addedAt: z.string(),
  /** The last verdict on this machine, if any. */
  verdict: verdictSchema.nullable(),
  attestedBy: z.array(address),
});
export type InboxEntry = z.infer<typeof inboxEntrySchema>;

const typedDataResult = z.object({
  domain: z.object({
    name: z.string(),
    version: z.string(),
    chainId: z.number().int(),
    verifyingContract: address,
  }),
  primaryType: z.enum(['Improvement', 'Attestation']),
  /** The claim (JSON form): build the message with improvementFromJson + improvementTypedData/attestationTypedData. */
  improvement: improvementJsonSchema,
  /** Who must sign. */
  signer: address.nullable(),
});

export const claimsRequests = {
  'claims.start': request({
    description:
      'Starts a claim: a published model package (its CID) proposed as the next version of a lineage. Checks the lineage, the model (ONNX policy) and that its CID was never minted.',
    params: z.strictObject({
      lineageId: z.number().int().positive(),
      modelCid: cid,
      /** The trainer's address (the token is minted to it). */
      trainer: address,
      name: z.string().min(1).max(200).optional(),
      description: z.string().max(4000).optional(),
      checkpointCid: cid.optional(),
      datasetCid: cid.optional(),
      pipelineCid: cid.optional(),
      tolerance: z.number().int().nonnegative().max(1_000_000).default(DEFAULT_SCORE_TOLERANCE),
      deadlineSeconds: z
        .number()
        .int()
        .min(60)
        .max(365 * 86_400)
        .default(86_400),
    }),
    result: claimRecordSchema,
  }),
  'claims.signerAddress': request({
    description:
      'The address a local signer stands for (a dev account, a key in an environment variable, a keystore); the key is never returned.',
    params: z.strictObject({ signer: signerParam }),
    result: z.object({ address }),
  }),
  'claims.list': request({
    description: 'Claims kept on this machine, newest first.',
    params: z.strictObject({ lineageId: z.number().int().positive().optional() }),
    result: z.array(claimRecordSchema),
  }),
  'claims.get': request({
    description: 'One claim and where it stands.',
    params: claimRef,
    result: claimRecordSchema,
  }),
  'claims.commitData': request({
    description:
      'What the wallet sends to commit: ModelRegistry.commit(commitment) (the salt stays on this machine until the claim reveals it).',
    params: claimRef,
    result: z.object({ registry: address, chainId: z.number().int(), commitment: hex }),
  }),
  'claims.commit': request({
    description: 'Publishes the commitment on chain with a local signer (CLI, headless host).',
    params: z.strictObject({ claimId: claimIdSchema, signer: signerParam }),
    result: claimRecordSchema,
  }),
  'claims.recordCommit': request({
    description: 'Records a commit the wallet sent (reads its time from the chain).',
    params: z.strictObject({ claimId: claimIdSchema, txHash: hex }),
    result: claimRecordSchema,
  }),
  'claims.evaluate': request({
    description:
      "Evaluates the model on the lineage's evaluation text (a job), then publishes the report, the loss-curve image and the ERC-721 metadata.",
    params: claimRef,
    result: claimRecordSchema,
  }),
  'claims.typedData': request({
    description: "The EIP-712 Improvement the trainer signs (reads the trainer's nonce; sets the deadline).",
    params: claimRef,
    result: typedDataResult,
  }),
  'claims.submitSignature': request({
    description:
      "Records the trainer's signature of claims.typedData (checked) and publishes the claim JSON to IPFS.",
    params: z.strictObject({ claimId: claimIdSchema, signature: hex }),
    result: claimRecordSchema,
  }),
  'claims.sign': request({
    description:
      'Signs the Improvement with a local signer (CLI, headless host) and publishes the claim JSON.',
    params: z.strictObject({ claimId: claimIdSchema, signer: signerParam }),
    result: claimRecordSchema,
  }),
  'claims.attestLocally': request({
    description: 'A local verifier key re-runs the evaluation (a job) and, if the claim holds, attests it.',
    params: z.strictObject({ claimId: claimIdSchema, signer: signerParam }),
    result: z.object({ claim: claimRecordSchema, verdict: verdictSchema }),
  }),
  'claims.addAttestation': request({
    description:
      'Adds an attestation collected from a verifier (attestation JSON by CID, file, or a bare signature); checked.',
    params: z.strictObject({
      claimId: claimIdSchema,
      attestation: z.union([
        z.strictObject({ cid }),
        z.strictObject({ file: z.string().min(1) }),
        z.strictObject({ verifier: address, signature: hex }),
      ]),
    }),
    result: claimRecordSchema,
  }),
  'claims.submitData': request({
    description:
      'The arguments of ModelRegistry.claim for the wallet (JSON form; attestations sorted by verifier).',
    params: claimRef,
    result: z.object({
      registry: address,
      chainId: z.number().int(),
      improvement: improvementJsonSchema,
      salt: hex,
      trainerSignature: hex,
      attestations: z.array(z.object({ verifier: address, signature: hex })),
    }),
  }),
  'claims.submit': request({
    description:
      'Submits the claim with its attestations from a local signer; the token is minted to the trainer.',
    params: z.strictObject({ claimId: claimIdSchema, signer: signerParam }),
    result: claimRecordSchema,
  }),
  'claims.recordMint': request({
    description: 'Records a claim transaction the wallet sent (reads the minted token from its receipt).',
    params: z.strictObject({ claimId: claimIdSchema, txHash: hex }),
    result: claimRecordSchema,
  }),
  'claims.versions': request({
    description:
      "A lineage's minted versions with their evaluation reports (when available on IPFS), best first.",
    params: z.strictObject({ lineageId: z.number().int().positive() }),
    result: z.array(
      z.object({
        tokenId: z.number().int().positive(),
        version: z.number().int().positive(),
        parentTokenId: z.number().int().nonnegative(),
        score: uintString,
        value: z.number(),
        modelCid: z.string(),
        evaluationCid: z.string(),
        metadataCid: z.string(),
        trainer: address,
        priceWei: uintString,
        evaluation: evaluationReportSchema.nullable(),
      }),
    ),
  }),
  'verifier.check': request({
    description:
      "Re-runs a claim's evaluation (a job: fetches model and text by CID) and checks signature, commitment, parent, nonce, score within tolerance and ε; never signs.",
    params: z.strictObject({
      claim: claimSourceSchema,
      /** Also check that this address is a verifier of the lineage. */
      verifier: address.optional(),
      maxTolerance: z.number().int().nonnegative().default(DEFAULT_SCORE_TOLERANCE),
    }),
    result: verdictSchema,
  }),
  'verifier.attest': request({
    description:
      'Checks a claim (a job) and, only if every check holds, signs and publishes an Attestation with a local signer.',
    params: z.strictObject({
      claim: claimSourceSchema,
      signer: signerParam,
      maxTolerance: z.number().int().nonnegative().default(DEFAULT_SCORE_TOLERANCE),
    }),
    result: z.object({
      verdict: verdictSchema,
      attestation: attestationFileSchema.nullable(),
      attestationCid: z.string().nullable(),
    }),
  }),
  'verifier.typedData': request({
    description: 'The EIP-712 Attestation a verifier signs for a claim (call verifier.check first).',
    params: z.strictObject({ claim: claimSourceSchema }),
    result: typedDataResult,
  }),
  'verifier.submitAttestation': request({
    description:
      'Records an attestation signed by the wallet (checked), publishes it, and adds it to the local claim if it is one.',
    params: z.strictObject({
      claim: claimSourceSchema,
      verifier: address,
      signature: hex,
      recomputed: z
        .object({ score: uintString, value: z.number(), evaluationCid: z.string().nullable() })
        .nullable()
        .default(null),
    }),
    result: z.object({ attestation: attestationFileSchema, attestationCid: z.string() }),
  }),
  'verifier.inbox': request({
    description:
      "Claims waiting for attestation on this machine: this machine's own claims and claims added by CID.",
    params: z.strictObject({}),
    result: z.array(inboxEntrySchema),
  }),
  'verifier.addToInbox': request({
    description: 'Adds a claim (by CID or file) to the verifier inbox.',
    params: z.strictObject({ claim: claimSourceSchema }),
    result: inboxEntrySchema,
  }),
};
