import { z } from 'zod';
import { tokenizerSpecSchema } from '../datasets/options.ts';
import { presetIdSchema } from '../engine/config.ts';
import { deviceRequestSchema } from '../engine/devices.ts';
import { signerSpecSchema } from '../claims/signer.ts';
import { DEFAULT_SCORE_TOLERANCE, EVAL_MAX_TOKENS } from '../eval/metrics.ts';

/**
 * A pipeline file (JSON): how a model version is made and proven, stage by stage,
 *
 *   prepare → train (from scratch, or continued from a parent model CID) → evaluate → publish → claim
 *
 * Each stage's inputs and outputs are content-addressed: a stage's key is the SHA-256 of its settings and
 * of its inputs (file contents, upstream CIDs), and its outputs are CIDs. `xai-link run` skips a stage
 * whose key has completed before (in any pipeline: the cache is shared), and resumes an interrupted one
 * (training continues from its last checkpoint; a claim continues from its last completed step). The
 * pipeline file itself is published to IPFS and its CID goes into the token's metadata, so anyone can
 * reproduce the model.
 *
 * Relative paths are relative to the pipeline file's folder.
 */
export const PIPELINE_FORMAT = 'xai-link-pipeline';

const cid = z.string().min(1).max(200);

export const prepareStageSchema = z.strictObject({
  /** Text files or folders (.txt, .md, .jsonl, .csv). */
  inputs: z.array(z.string().min(1)).min(1).max(1000),
  tokenizer: tokenizerSpecSchema.default('char'),
  valRatio: z.number().min(0.001).max(0.5).default(0.1),
  dedup: z.boolean().default(false),
  seed: z.number().int().min(0).max(0xffffffff).default(1337),
});

export const trainStageSchema = z.strictObject({
  preset: presetIdSchema.default('cpu-tiny'),
  /** Model overrides on top of the preset (ignored when continuing: the parent's architecture is kept). */
  model: z.record(z.string(), z.unknown()).default({}),
  /** Training overrides on top of the preset (batchSize, learningRate, evalInterval…). */
  train: z.record(z.string(), z.unknown()).default({}),
  /** Optimizer steps: from scratch, the total; when continuing, how many more than the parent. */
  iters: z.number().int().positive().max(10_000_000),
  seed: z.number().int().min(0).max(0xffffffff).default(1337),
  /** Continue training this model package (its model.json names its checkpoint CID). */
  from: z.strictObject({ modelCid: cid }).nullable().default(null),
  device: deviceRequestSchema.default('cpu'),
  threads: z.number().int().min(1).max(256).optional(),
});

export const evaluateStageSchema = z.strictObject({
  /** "prepared": the prepare stage's validation text; or a text file by CID or path. */
  text: z
    .union([z.literal('prepared'), z.strictObject({ cid }), z.strictObject({ file: z.string().min(1) })])
    .default('prepared'),
  maxTokens: z.number().int().positive().max(EVAL_MAX_TOKENS).default(EVAL_MAX_TOKENS),
});

export const publishStageSchema = z.strictObject({
  pin: z.boolean().default(true),
});

export const claimStageSchema = z.strictObject({
  lineageId: z.number().int().positive(),
  /** Signs the Improvement (the trainer; the token is minted to it). */
  trainer: signerSpecSchema,
  /** Local verifier keys to re-run the evaluation and attest (each must be a verifier of the lineage). */
  verifiers: z.array(signerSpecSchema).max(32).default([]),
  /** Attestations collected from other verifiers: attestation JSON files or CIDs. */
  attestations: z
    .array(z.union([z.strictObject({ cid }), z.strictObject({ file: z.string().min(1) })]))
    .max(32)
    .default([]),
  /** Sends the commit and the claim transactions (default: the trainer). */
  submitter: signerSpecSchema.optional(),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(4000).optional(),
  tolerance: z.number().int().nonnegative().max(1_000_000).default(DEFAULT_SCORE_TOLERANCE),
  /** Seconds the claim stays valid after signing. */
  deadlineSeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .default(86_400),
});

export const pipelineSchema = z.strictObject({
  format: z.literal(PIPELINE_FORMAT),
  version: z.literal(1),
  /** Names the pipeline's state folder; letters, digits, ".", "_" and "-". */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a name of letters, digits, ".", "_" or "-"'),
  description: z.string().max(4000).optional(),
  stages: z.strictObject({
    prepare: prepareStageSchema,
    train: trainStageSchema,
    evaluate: evaluateStageSchema.prefault({}),
    publish: publishStageSchema.prefault({}),
    claim: claimStageSchema.optional(),
  }),
});
export type PipelineInput = z.input<typeof pipelineSchema>;
export type Pipeline = z.output<typeof pipelineSchema>;

export const stageNames = ['prepare', 'train', 'evaluate', 'publish', 'claim'] as const;
export type StageName = (typeof stageNames)[number];

export const stageStatusSchema = z.enum([
  'pending',
  'cached',
  'running',
  'done',
  'resumed',
  'skipped',
  'failed',
]);
export type StageStatus = z.infer<typeof stageStatusSchema>;

/** What each stage produced (all content-addressed). */
export const stageOutputsSchema = z.object({
  prepare: z
    .object({
      datasetCid: cid,
      datasetDir: z.string(),
      evalTextCid: cid,
      tokenizer: z.string(),
      vocabSize: z.number().int().positive(),
      trainTokens: z.number().int().nonnegative(),
    })
    .optional(),
  train: z
    .object({
      checkpointCid: cid,
      checkpointPath: z.string(),
      iterations: z.number().int().nonnegative(),
      tokens: z.number().int().nonnegative(),
      trainLoss: z.number().nullable(),
      valLoss: z.number().nullable(),
      parentModelCid: cid.nullable(),
    })
    .optional(),
  evaluate: z
    .object({
      modelCid: cid,
      modelDir: z.string(),
      evaluationCid: cid,
      evalTextCid: cid,
      bitsPerByte: z.number(),
      top1Accuracy: z.number(),
      parameters: z.number().int().nonnegative(),
    })
    .optional(),
  publish: z.object({ pipelineCid: cid, pinned: z.array(cid) }).optional(),
  claim: z
    .object({
      claimId: z.string(),
      claimCid: cid.nullable(),
      metadataCid: cid.nullable(),
      tokenId: z.number().int().positive().nullable(),
      score: z.string().nullable(),
      status: z.string(),
    })
    .optional(),
});
export type StageOutputs = z.infer<typeof stageOutputsSchema>;

export const stageReportSchema = z.object({
  stage: z.enum(stageNames),
  status: stageStatusSchema,
  /** SHA-256 of the stage's inputs; null when it did not run. */
  key: z.string().nullable(),
  seconds: z.number().nonnegative(),
  message: z.string(),
});
export type StageReport = z.infer<typeof stageReportSchema>;

export const pipelineRunResultSchema = z.object({
  name: z.string(),
  stages: z.array(stageReportSchema),
  outputs: stageOutputsSchema,
  seconds: z.number().nonnegative(),
});
export type PipelineRunResult = z.infer<typeof pipelineRunResultSchema>;
