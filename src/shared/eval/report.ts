import { z } from 'zod';
import { EVALUATOR_NAME, metricIds } from './metrics.ts';

/**
 * The evaluation report: what `eval.run` returns and what is published to IPFS as a claim's
 * `evaluationCid` (JSON, format "xai-link-evaluation"). `result` is deterministic — two runs of the same
 * evaluator version on the same model and text and machine give the same `result`, bit for bit — while
 * `run` says when, where and how long, and differs between runs.
 */
export const EVALUATION_FORMAT = 'xai-link-evaluation';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const cid = z.string().min(1).max(200);
/** A uint64 as a decimal string (JSON has no 64-bit integers). */
export const uint64String = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, { message: 'an unsigned integer in decimal', abort: true })
  .refine((s) => BigInt(s) < 1n << 64n, 'must fit in 64 bits');

export const metricIdSchema = z.enum(metricIds);

export const evaluationResultSchema = z.object({
  /** Scored tokens (windows × block size). */
  tokens: z.number().int().positive(),
  /** UTF-8 bytes spelled by the scored tokens. */
  bytes: z.number().int().positive(),
  windows: z.number().int().positive(),
  blockSize: z.number().int().positive(),
  /** Tokens the whole text encodes to, and whether the cap left some out. */
  textTokens: z.number().int().nonnegative(),
  truncated: z.boolean(),
  totalNats: z.number(),
  correct: z.number().int().nonnegative(),
  metrics: z.object({
    bits_per_byte: z.number(),
    mean_loss: z.number(),
    perplexity: z.number(),
    top1_accuracy: z.number(),
  }),
  /** On-chain scores of each metric (round(value × 10^6)). */
  scores: z.object({ bits_per_byte: uint64String, top1_accuracy: uint64String }),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;

export const evaluationReportSchema = z.object({
  format: z.literal(EVALUATION_FORMAT),
  version: z.literal(1),
  evaluator: z.object({
    name: z.literal(EVALUATOR_NAME),
    version: z.number().int().positive(),
    onnxRuntime: z.string(),
    settings: z.object({
      provider: z.literal('cpu'),
      intraOpThreads: z.literal(1),
      executionMode: z.literal('sequential'),
      graphOptimization: z.string(),
      batchWindows: z.number().int().positive(),
      maxTokens: z.number().int().positive(),
    }),
  }),
  model: z.object({
    /** The model package's CID, when it was evaluated from IPFS or published. */
    cid: cid.nullable(),
    onnxSha256: sha256Hex,
    parameters: z.number().int().nonnegative(),
    vocabSize: z.number().int().positive(),
    tokenizer: z.object({ kind: z.string(), sha256: sha256Hex }),
  }),
  text: z.object({
    cid: cid.nullable(),
    sha256: sha256Hex,
    bytes: z.number().int().nonnegative(),
  }),
  result: evaluationResultSchema,
  run: z.object({
    startedAt: z.string(),
    durationMs: z.number().nonnegative(),
    platform: z.string(),
    cpu: z.string(),
  }),
});
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

/** The value and score of one metric of a report. */
export function reportMetric(
  report: Pick<EvaluationReport, 'result'>,
  metric: z.infer<typeof metricIdSchema>,
) {
  return { value: report.result.metrics[metric], score: BigInt(report.result.scores[metric]) };
}
