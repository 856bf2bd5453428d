import { z } from 'zod';
import {
  modelOverridesSchema,
  presetIdSchema,
  presetIds,
  presets,
  runConfigSchema,
  trainOverridesSchema,
} from '../engine/config.ts';
import {
  deviceNameSchema,
  deviceRequestSchema,
  precisionProblem,
  precisionSchema,
} from '../engine/devices.ts';
import { event, request } from './contract.ts';

/**
 * Training runs: create one from a dataset and a preset, watch it live (loss curves, learning rate,
 * throughput, checkpoints, samples), pause / resume / stop it, sample from it, export it.
 *
 * A live dashboard loads `runs.get` once (config, status, full metrics history, checkpoints, samples)
 * and then follows the events: `run.metrics` (each logged step), `run.eval` (train/val loss),
 * `run.checkpoint`, `run.sample`, `run.status`, `run.log`. Every event carries the run id.
 */

export const runIdSchema = z.string().regex(/^run-[0-9a-z-]+$/, 'a run id looks like "run-…"');

export { deviceRequestSchema, type DeviceRequestName } from '../engine/devices.ts';

/**
 * created: saved but not started (start: false); starting: the worker is building graphs and picking the device; running; paused; stopping (a stop was
 * asked, the last checkpoint is being written); completed (reached maxIters); stopped (by the user);
 * failed (an error, see `error`); interrupted (the app exited or crashed while it ran: resumable).
 */
export const runStatusSchema = z.enum([
  'created',
  'starting',
  'running',
  'paused',
  'stopping',
  'completed',
  'stopped',
  'failed',
  'interrupted',
]);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** One logged optimizer step. `step` counts completed steps (1 … maxIters). */
export const trainMetricSchema = z.object({
  kind: z.literal('train'),
  step: z.number().int().nonnegative(),
  loss: z.number(),
  lr: z.number(),
  /** Global gradient norm before clipping. */
  gradNorm: z.number(),
  msPerStep: z.number().nonnegative(),
  tokensPerSec: z.number().nonnegative(),
  tokensSeen: z.number().nonnegative(),
  /** Training time so far (pauses excluded), ms. */
  elapsedMs: z.number().nonnegative(),
  /** Estimated time to maxIters, ms (null until a few steps ran). */
  etaMs: z.number().nonnegative().nullable(),
  /** Resident memory of the process, bytes. */
  rssBytes: z.number().nonnegative(),
  /** Unix ms. */
  time: z.number(),
  /** The device the step ran on (absent in metrics written before it was recorded). */
  device: deviceNameSchema.optional(),
});
export type TrainMetric = z.infer<typeof trainMetricSchema>;

/** Consecutive steps that ran on one device: a run resumed elsewhere has several. */
export interface DeviceSpan {
  device: string;
  from: number;
  to: number;
}

export function deviceSpans(
  metrics: readonly { kind: string; step: number; device?: string }[],
): DeviceSpan[] {
  const spans: DeviceSpan[] = [];
  for (const m of metrics) {
    if (m.kind !== 'train' || !m.device) continue;
    const last = spans.at(-1);
    if (last && last.device === m.device && m.step >= last.to) last.to = m.step;
    else spans.push({ device: m.device, from: m.step, to: m.step });
  }
  return spans;
}

/** A train/val loss estimate over evalIters batches, after `step` steps. */
export const evalMetricSchema = z.object({
  kind: z.literal('eval'),
  step: z.number().int().nonnegative(),
  trainLoss: z.number(),
  valLoss: z.number(),
  /** Best validation loss so far, this one included. */
  bestValLoss: z.number(),
  isBest: z.boolean(),
  ms: z.number().nonnegative(),
  time: z.number(),
});
export type EvalMetric = z.infer<typeof evalMetricSchema>;

export const metricRecordSchema = z.discriminatedUnion('kind', [trainMetricSchema, evalMetricSchema]);
export type MetricRecord = z.infer<typeof metricRecordSchema>;

export const checkpointKindSchema = z.enum(['latest', 'best']);
export type CheckpointKind = z.infer<typeof checkpointKindSchema>;

export const checkpointInfoSchema = z.object({
  kind: checkpointKindSchema,
  step: z.number().int().nonnegative(),
  path: z.string(),
  bytes: z.number().nonnegative(),
  trainLoss: z.number().nullable(),
  valLoss: z.number().nullable(),
  /** The best-val marker: true for the checkpoint with the lowest validation loss. */
  isBest: z.boolean(),
  createdAt: z.string(),
});
export type CheckpointInfo = z.infer<typeof checkpointInfoSchema>;

export const sampleSchema = z.object({
  step: z.number().int().nonnegative(),
  prompt: z.string(),
  /** Decoded continuation (token ids joined by spaces when the dataset has no tokenizer). */
  text: z.string(),
  tokens: z.array(z.number().int().nonnegative()),
  temperature: z.number(),
  topK: z.number().int(),
  time: z.number(),
});
export type Sample = z.infer<typeof sampleSchema>;

export const runDataSchema = z.object({
  kind: z.enum(['dataset', 'tokens']),
  path: z.string(),
  name: z.string(),
  vocabSize: z.number().int().positive(),
  trainTokens: z.number().int().nonnegative(),
  valTokens: z.number().int().nonnegative(),
  tokenizer: z.string().nullable(),
});

/** f16 products need the engine's own kernels: a request for them elsewhere names the field to change. */
function refinePrecision(
  p: { device: z.infer<typeof deviceRequestSchema>; precision: 'f32' | 'f16' },
  ctx: z.RefinementCtx,
) {
  const problem = precisionProblem(p.device, p.precision);
  if (problem) ctx.addIssue({ code: 'custom', path: ['precision'], message: problem });
}

export const runDeviceSchema = z.object({
  requested: deviceRequestSchema,
  /** The device it runs on, once started. */
  used: deviceNameSchema.nullable(),
  threads: z.number().int().positive().nullable(),
  /** The matrix products' arithmetic (runs saved before it existed are f32). */
  precision: precisionSchema.default('f32'),
  /** What was tried and why it fell back, in words. */
  message: z.string(),
});

export const runSummarySchema = z.object({
  id: runIdSchema,
  name: z.string(),
  status: runStatusSchema,
  preset: presetIdSchema.nullable(),
  config: runConfigSchema,
  data: runDataSchema,
  device: runDeviceSchema,
  params: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  maxIters: z.number().int().positive(),
  tokensPerStep: z.number().int().positive(),
  lastMetric: trainMetricSchema.nullable(),
  lastEval: evalMetricSchema.nullable(),
  bestValLoss: z.number().nullable(),
  error: z.string().nullable(),
  runDir: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const runDetailSchema = z.object({
  run: runSummarySchema,
  metrics: z.array(metricRecordSchema),
  checkpoints: z.array(checkpointInfoSchema),
  samples: z.array(sampleSchema),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

const sampleParams = {
  prompt: z.string().max(10_000).default(''),
  maxNewTokens: z.number().int().positive().max(4096).default(200),
  temperature: z.number().min(0).max(10).default(0.8),
  topK: z.number().int().nonnegative().default(200),
  seed: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 32 - 1)
    .optional(),
};

/** Where a run's data is: a dataset directory, a nanoGPT data folder or a token file. */
export const runDataParamsSchema = z.strictObject({
  path: z.string().min(1, 'the dataset path is required'),
  /** Required for a bare token file. */
  vocabSize: z.number().int().positive().optional(),
});

export const importFormatSchema = z.enum(['nanogpt', 'huggingface']);
export const exportFormatSchema = z.enum(['onnx', 'nanogpt']);

export const presetInfoSchema = z.object({
  id: presetIdSchema,
  label: z.string(),
  description: z.string(),
  config: runConfigSchema,
});

export const runsRequests = {
  'runs.presets': request({
    description: 'The model presets with their full configurations (to fill a new-run form).',
    params: z.strictObject({}),
    result: z.array(presetInfoSchema),
  }),
  'runs.create': request({
    description:
      'Creates a training run from a dataset (a prepared dataset directory, or a token file with its vocabulary size) and a preset with overrides; validates everything against the data, then starts it unless start is false.',
    params: z
      .strictObject({
        name: z.string().max(200).optional(),
        data: runDataParamsSchema,
        preset: presetIdSchema.default('cpu-tiny'),
        model: modelOverridesSchema.default({}),
        train: trainOverridesSchema.default({}),
        device: deviceRequestSchema.default('auto'),
        /** The matrix products' arithmetic: f32, or f16 on the GPU's matrix units (device dawn). */
        precision: precisionSchema.default('f32'),
        /** CPU threads (default: one per core). */
        threads: z.number().int().positive().max(256).optional(),
        /** Run directory (default: <data dir>/runs/<id>). */
        outDir: z.string().optional(),
        start: z.boolean().default(true),
      })
      .superRefine(refinePrecision),
    result: runSummarySchema,
  }),
  'runs.list': request({
    description:
      'Every run (newest first), including those of earlier sessions; runs cut off by a crash show as "interrupted".',
    params: z.strictObject({}),
    result: z.array(runSummarySchema),
  }),
  'runs.get': request({
    description:
      'One run with its full metrics history, checkpoints and samples (the dashboard loads this once, then follows events).',
    params: z.strictObject({ runId: runIdSchema }),
    result: runDetailSchema,
  }),
  'runs.pause': request({
    description: 'Pauses a running run after the current step (the worker keeps its state in memory).',
    params: z.strictObject({ runId: runIdSchema }),
    result: runSummarySchema,
  }),
  'runs.resume': request({
    description:
      'Continues a paused run, or restarts a stopped / interrupted / failed run from its latest checkpoint (exactly where it left off).',
    params: z.strictObject({
      runId: runIdSchema,
      device: deviceRequestSchema.optional(),
      /** Change the products' arithmetic from here on (the run's own by default). */
      precision: precisionSchema.optional(),
      /** Raise maxIters to train further than planned. */
      maxIters: z.number().int().positive().optional(),
      /** Train on this data from now on (an imported run has none; fine-tuning takes new data). */
      data: runDataParamsSchema.optional(),
    }),
    result: runSummarySchema,
  }),
  'runs.stop': request({
    description:
      'Stops a run: writes a checkpoint of the current step and ends the worker. It can be resumed later.',
    params: z.strictObject({ runId: runIdSchema }),
    result: runSummarySchema,
  }),
  'runs.checkpoints': request({
    description: "A run's checkpoints (latest and best-val).",
    params: z.strictObject({ runId: runIdSchema }),
    result: z.array(checkpointInfoSchema),
  }),
  'runs.sample': request({
    description:
      'Generates text from a run (its live weights while it trains, else a checkpoint) or from a checkpoint or exported .onnx file.',
    params: z.strictObject({
      runId: runIdSchema.optional(),
      checkpoint: checkpointKindSchema.default('best'),
      /** A checkpoint (.safetensors) or exported model (.onnx) path instead of a run. */
      path: z.string().optional(),
      ...sampleParams,
    }),
    result: sampleSchema,
  }),
  'runs.export': request({
    description:
      'Exports a checkpoint as an inference ONNX model (input_ids → logits) with its config and tokenizer in the metadata.',
    params: z.strictObject({
      runId: runIdSchema.optional(),
      checkpoint: checkpointKindSchema.default('best'),
      /** A checkpoint file instead of a run. */
      checkpointPath: z.string().optional(),
      /** Output path (default: <run dir>/export/model.onnx, or ckpt.pt for nanogpt). */
      outPath: z.string().optional(),
      /** onnx: an inference model; nanogpt: a PyTorch ckpt.pt that nanoGPT's train.py and sample.py load. */
      format: exportFormatSchema.default('onnx'),
    }),
    result: z.object({
      path: z.string(),
      bytes: z.number().nonnegative(),
      step: z.number().int().nonnegative(),
      params: z.number().int(),
    }),
  }),
  'runs.import': request({
    description:
      "Makes a run from a model trained elsewhere: nanoGPT's ckpt.pt (PyTorch; weights, AdamW state, iteration, config) or Hugging Face GPT-2 model.safetensors + config.json. The file is read as untrusted data (no code in it runs).",
    params: z.strictObject({
      /** ckpt.pt, model.safetensors, or a folder holding model.safetensors + config.json. */
      path: z.string().min(1, 'the model file is required'),
      /** nanoGPT's meta.pkl (char vocabulary). */
      meta: z.string().optional(),
      /** char (with meta), gpt2, or a tokenizer.json path; default: from meta, else gpt2 for GPT-2 vocabularies. */
      tokenizer: z.string().optional(),
      /** Hugging Face config.json (default: next to model.safetensors). */
      config: z.string().optional(),
      name: z.string().max(200).optional(),
      /** Data to continue training on (can also be given when resuming). */
      data: runDataParamsSchema.optional(),
      /** Run directory (default: <data dir>/runs/<id>). */
      outDir: z.string().optional(),
    }),
    result: z.object({
      run: runSummarySchema,
      format: importFormatSchema,
      hasOptimizer: z.boolean(),
      tokenizer: z.string().nullable(),
      notes: z.array(z.string()),
    }),
  }),
};

const withRun = <T extends z.ZodRawShape>(shape: T) => z.object({ runId: runIdSchema, ...shape });

export const runsEvents = {
  'run.status': event({
    description: 'A run changed status (with the device message once it started).',
    payload: withRun({
      status: runStatusSchema,
      step: z.number().int().nonnegative(),
      message: z.string().optional(),
      run: runSummarySchema,
    }),
  }),
  'run.metrics': event({
    description: 'A logged training step (loss, lr, grad norm, throughput, ETA, memory).',
    payload: withRun({ metric: trainMetricSchema }),
  }),
  'run.eval': event({
    description: 'A train/val loss estimate.',
    payload: withRun({ metric: evalMetricSchema }),
  }),
  'run.checkpoint': event({
    description: 'A checkpoint was written.',
    payload: withRun({ checkpoint: checkpointInfoSchema }),
  }),
  'run.sample': event({
    description: 'Text generated during training.',
    payload: withRun({ sample: sampleSchema }),
  }),
  'run.log': event({
    description: 'A log line from the run.',
    payload: withRun({ level: z.enum(['info', 'warn', 'error']), message: z.string(), time: z.number() }),
  }),
};

/** The presets as the form shows them. */
export function presetInfos(): z.infer<typeof presetInfoSchema>[] {
  return presetIds.map((id) => ({
    id,
    label: presets[id].label,
    description: presets[id].description,
    config: runConfigSchema.parse({ preset: id, model: presets[id].model, train: presets[id].train }),
  }));
}
