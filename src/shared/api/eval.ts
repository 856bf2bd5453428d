import { z } from 'zod';
import { request } from './contract.ts';
import { EVAL_MAX_TOKENS } from '../eval/metrics.ts';
import { modelCardSchema } from '../eval/modelPackage.ts';
import { evaluationReportSchema } from '../eval/report.ts';
import { onnxRefusalReasons } from '../onnx/onnxPolicy.ts';

/**
 * Deterministic evaluation (protocol and score: src/shared/eval/metrics.ts). A model is a model package
 * (src/shared/eval/modelPackage.ts) by CID or folder, or a training checkpoint exported on the fly; the text
 * is a UTF-8 file by CID or path, or a private set held on this machine ("sha256:<hex>").
 */
const cid = z.string().trim().min(1).max(200);
const path = z.string().min(1).max(4096);

export const modelSourceSchema = z.union([
  z.strictObject({ cid }),
  z.strictObject({ dir: path }),
  z.strictObject({ checkpoint: path }),
]);
export const textSourceSchema = z.union([
  z.strictObject({ cid }),
  z.strictObject({ file: path }),
  z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex') }),
]);

export const onnxFactsSchema = z.object({
  bytes: z.number().int(),
  irVersion: z.number().int(),
  opsetVersion: z.number().int(),
  producer: z.string(),
  nodes: z.number().int(),
  ops: z.record(z.string(), z.number().int()),
  parameters: z.number().int(),
  input: z.object({ name: z.string(), shape: z.array(z.union([z.number(), z.string()])) }),
  output: z.object({ name: z.string(), shape: z.array(z.union([z.number(), z.string()])) }),
  vocabSize: z.number().int(),
  metadata: z.record(z.string(), z.string()),
});

export const evalRequests = {
  'eval.run': request({
    description:
      'Evaluates a model on a text (a job: job.progress events, cancel with jobs.cancel): bits per byte, mean loss, perplexity, top-1 accuracy, on-chain scores. Optionally publishes the report to IPFS.',
    params: z.strictObject({
      model: modelSourceSchema,
      text: textSourceSchema,
      maxTokens: z.number().int().positive().max(EVAL_MAX_TOKENS).default(EVAL_MAX_TOKENS),
      publish: z.boolean().default(false),
    }),
    result: z.object({ report: evaluationReportSchema, reportCid: z.string().nullable() }),
  }),
  'eval.publish': request({
    description:
      "Publishes a training checkpoint as a model package on IPFS (a job): the checkpoint, the exported model, its tokenizer and card (with the run's loss curve and, when the dataset folder is here, the dataset's CID). Returns the model CID a claim takes.",
    params: z.strictObject({
      checkpoint: path,
      /** The run folder (its metrics give the loss curve in the card and the NFT image). */
      runDir: path.optional(),
      name: z.string().trim().min(1).max(200).optional(),
      /** The dataset it was trained on; default: the dataset folder named in the checkpoint, published, when it is here. */
      datasetCid: cid.optional(),
      /** The model this one was continued from. */
      parentModelCid: cid.optional(),
    }),
    result: z.object({
      modelCid: z.string(),
      checkpointCid: z.string(),
      datasetCid: z.string().nullable(),
      card: modelCardSchema,
      /** Where the package is kept on this machine (<dataDir>/models/<model CID>). */
      dir: z.string(),
    }),
  }),
  'eval.report': request({
    description: 'Reads a published evaluation report by CID (checked against its schema).',
    params: z.strictObject({ cid }),
    result: evaluationReportSchema,
  }),
  'eval.inspect': request({
    description:
      'Checks a model package without running it: card, tokenizer and what the ONNX safety check found (operators, opset, parameters). Refusals name their reason.',
    params: z.strictObject({ model: modelSourceSchema }),
    result: z.object({
      ok: z.boolean(),
      card: modelCardSchema.nullable(),
      tokenizerSha256: z.string().nullable(),
      facts: onnxFactsSchema.nullable(),
      refusal: z
        .object({ reason: z.union([z.enum(onnxRefusalReasons), z.string()]), message: z.string() })
        .nullable(),
    }),
  }),
  'eval.hold': request({
    description:
      'Keeps a private evaluation set on this machine (a verifier of a lineage whose evaluation set is published only as its hash); returns its reference "sha256:<hex>".',
    params: z.strictObject({ file: path }),
    result: z.object({ sha256: z.string(), ref: z.string(), bytes: z.number().int() }),
  }),
};
