import { z } from 'zod';

/**
 * Model and training configuration of the training engine, with nanoGPT's names in comments and its
 * defaults (config/train_shakespeare_char.py). Pure (zod only) so the renderer validates a form with the
 * same rules the engine applies before anything runs.
 */

const posInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be at least 1`);

/** GPT architecture (nanoGPT's GPTConfig). */
export const modelConfigBaseSchema = z.strictObject({
  /** n_layer: transformer blocks. */
  nLayer: posInt('nLayer (number of layers)'),
  /** n_head: attention heads per block. */
  nHead: posInt('nHead (number of attention heads)'),
  /** n_embd: embedding width. */
  nEmbd: posInt('nEmbd (embedding size)'),
  /** block_size: context length in tokens. */
  blockSize: posInt('blockSize (context length)'),
  /** vocab_size: taken from the dataset when omitted. */
  vocabSize: posInt('vocabSize').optional(),
  /** dropout probability (0 = off). */
  dropout: z
    .number()
    .min(0, 'dropout must be between 0 and 0.9')
    .max(0.9, 'dropout must be between 0 and 0.9')
    .default(0),
  /** bias in Linear and LayerNorm layers (nanoGPT default: false). */
  bias: z.boolean().default(false),
});

function checkHeads(c: { nEmbd: number; nHead: number }, ctx: z.RefinementCtx): void {
  if (c.nEmbd % c.nHead !== 0) {
    const lower = Math.floor(c.nEmbd / c.nHead) * c.nHead;
    ctx.addIssue({
      code: 'custom',
      path: ['nEmbd'],
      message: `nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}): use nEmbd ${lower > 0 ? `${lower} or ` : ''}${lower + c.nHead}, or change nHead`,
    });
  }
}

export const modelConfigSchema = modelConfigBaseSchema.superRefine(checkHeads);
export type ModelConfigInput = z.input<typeof modelConfigSchema>;
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** A model config with the vocabulary known (after the dataset was read). */
export type ResolvedModelConfig = ModelConfig & { vocabSize: number };

/** Optimisation and loop settings (nanoGPT's train.py globals). */
export const trainConfigBaseSchema = z.strictObject({
  /** batch_size: sequences per micro-batch. */
  batchSize: posInt('batchSize'),
  /** gradient_accumulation_steps: micro-batches per optimizer step. */
  gradAccumSteps: posInt('gradAccumSteps').default(1),
  /** max_iters: optimizer steps. */
  maxIters: posInt('maxIters'),
  /** learning_rate: peak learning rate. */
  learningRate: z
    .number()
    .positive('learningRate must be above 0')
    .max(1, 'learningRate must be at most 1')
    .default(1e-3),
  /** min_lr: floor of the cosine decay. */
  minLr: z.number().nonnegative('minLr must be at least 0').default(1e-4),
  /** warmup_iters: linear warm-up steps. */
  warmupIters: z.number().int().nonnegative('warmupIters must be at least 0').default(100),
  /** lr_decay_iters: end of the cosine decay (defaults to maxIters). */
  lrDecayIters: posInt('lrDecayIters').optional(),
  /** decay_lr: false keeps the learning rate constant. */
  decayLr: z.boolean().default(true),
  beta1: z.number().min(0).lt(1, 'beta1 must be below 1').default(0.9),
  beta2: z.number().min(0).lt(1, 'beta2 must be below 1').default(0.99),
  eps: z.number().positive().default(1e-8),
  /** weight_decay: AdamW decoupled decay, applied to ≥2-D weights only. */
  weightDecay: z.number().nonnegative('weightDecay must be at least 0').default(0.1),
  /** grad_clip: clip the global gradient norm to this (0 = off). */
  gradClip: z.number().nonnegative('gradClip must be at least 0 (0 turns clipping off)').default(1),
  /** eval_interval: steps between train/val loss estimates (and checkpoints). */
  evalInterval: posInt('evalInterval').default(250),
  /** eval_iters: batches per loss estimate. */
  evalIters: posInt('evalIters').default(200),
  /** log_interval: steps between metrics events. */
  logInterval: posInt('logInterval').default(10),
  /** Steps between checkpoints of the latest state (defaults to evalInterval). */
  checkpointInterval: posInt('checkpointInterval').optional(),
  /** Steps between generated samples (0 = only at the end). */
  sampleInterval: z.number().int().nonnegative().default(0),
  sampleTokens: posInt('sampleTokens').max(4096).default(200),
  temperature: z.number().positive('temperature must be above 0').max(10).default(0.8),
  topK: z.number().int().nonnegative().default(200),
  /**
   * Recompute each transformer block during the backward pass instead of storing its activations:
   * far less memory for about a third more compute. "auto" turns it on when the activations of a
   * step would exceed 1 GiB, or, training on a GPU whose free memory is known (NVIDIA), half of it.
   */
  activationCheckpointing: z.enum(['auto', 'on', 'off']).default('auto'),
  seed: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 32 - 1)
    .default(1337),
});

export const trainConfigSchema = trainConfigBaseSchema.superRefine((t, ctx) => {
  if (t.minLr > t.learningRate) {
    ctx.addIssue({
      code: 'custom',
      path: ['minLr'],
      message: `minLr (${t.minLr}) must not exceed learningRate (${t.learningRate})`,
    });
  }
});
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

export const presetIds = ['cpu-tiny', 'baby', 'gpt2-small'] as const;
export const presetIdSchema = z.enum(presetIds);
export type PresetId = z.infer<typeof presetIdSchema>;

export interface Preset {
  id: PresetId;
  label: string;
  description: string;
  model: ModelConfigInput;
  train: TrainConfigInput;
}

/** nanoGPT's shakespeare_char hyperparameters, shared by the presets unless they say otherwise. */
const shakespeareChar = {
  learningRate: 1e-3,
  minLr: 1e-4,
  warmupIters: 100,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.1,
  gradClip: 1,
  evalInterval: 250,
  evalIters: 200,
  logInterval: 10,
};

export const presets: Record<PresetId, Preset> = {
  'cpu-tiny': {
    id: 'cpu-tiny',
    label: 'CPU tiny (0.8M parameters)',
    description:
      "nanoGPT's CPU configuration: 4 layers, 4 heads, 128 wide, 64-token context. Trains on a laptop in minutes.",
    model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false },
    train: {
      ...shakespeareChar,
      batchSize: 12,
      maxIters: 2000,
      lrDecayIters: 2000,
      evalIters: 20,
      logInterval: 1,
    },
  },
  baby: {
    id: 'baby',
    label: 'Baby GPT (10.7M parameters)',
    description:
      "nanoGPT's shakespeare_char model: 6 layers, 6 heads, 384 wide, 256-token context. Wants a GPU or patience.",
    model: { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, dropout: 0.2, bias: false },
    train: { ...shakespeareChar, batchSize: 64, maxIters: 5000, lrDecayIters: 5000 },
  },
  'gpt2-small': {
    id: 'gpt2-small',
    label: 'GPT-2 small (124M parameters)',
    description: 'GPT-2 small: 12 layers, 12 heads, 768 wide, 1024-token context. Needs a GPU.',
    model: { nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, dropout: 0, bias: false },
    train: {
      ...shakespeareChar,
      batchSize: 12,
      gradAccumSteps: 5,
      maxIters: 20000,
      learningRate: 6e-4,
      minLr: 6e-5,
      warmupIters: 2000,
      beta2: 0.95,
      evalInterval: 1000,
    },
  },
};

/** A full run configuration: the model, the optimisation, and where it came from. */
export const runConfigSchema = z.strictObject({
  preset: presetIdSchema.nullable().default(null),
  model: modelConfigSchema,
  train: trainConfigSchema,
});
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;

/** A schema's fields all optional and without their defaults: overrides that leave unset fields to the preset. */
function overridesOf<S extends z.ZodRawShape>(shape: S) {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(shape)) {
    const inner = v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType);
    out[k] = inner instanceof z.ZodOptional ? inner : inner.optional();
  }
  return z.strictObject(out as { [K in keyof S]: z.ZodOptional<z.ZodType<z.output<S[K]>, z.input<S[K]>>> });
}

/** Model fields to change on top of a preset (no defaults: an absent field keeps the preset's value). */
export const modelOverridesSchema = overridesOf(modelConfigBaseSchema.shape);
/** Training fields to change on top of a preset (no defaults: an absent field keeps the preset's value). */
export const trainOverridesSchema = overridesOf(trainConfigBaseSchema.shape);

/** Overrides a user may put on top of a preset (any field of model or train). */
export const runOverridesSchema = z.strictObject({
  model: modelOverridesSchema.optional(),
  train: trainOverridesSchema.optional(),
});
export type RunOverrides = z.infer<typeof runOverridesSchema>;

/** Builds a validated run config from a preset and overrides; throws a zod error naming the field. */
export function configFromPreset(
  id: PresetId,
  overrides: { model?: Partial<ModelConfigInput>; train?: Partial<TrainConfigInput> } = {},
): RunConfig {
  const p = presets[id];
  return runConfigSchema.parse({
    preset: id,
    model: { ...p.model, ...overrides.model },
    train: { ...p.train, ...overrides.train },
  });
}

/** What the engine knows about a dataset before it runs. */
export interface DataFacts {
  vocabSize: number;
  trainTokens: number;
  valTokens: number;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Checks a config against the dataset it will train on: the context must fit in each split (a batch
 * needs blockSize + 1 consecutive tokens), and the model's vocabulary must cover the data's.
 * Returns the problems, each with what to change; empty when the run can start.
 */
export function checkConfigAgainstData(config: RunConfig, data: DataFacts): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { blockSize } = config.model;
  for (const [split, tokens] of [
    ['train', data.trainTokens],
    ['val', data.valTokens],
  ] as const) {
    if (tokens <= blockSize) {
      issues.push({
        path: 'model.blockSize',
        message:
          tokens <= 1
            ? `the ${split} split has ${tokens} token${tokens === 1 ? '' : 's'}: prepare a dataset with more text`
            : `blockSize ${blockSize} does not fit the ${split} split (${tokens} tokens): use blockSize ${tokens - 1} or less, or add data`,
      });
    }
  }
  const vocab = config.model.vocabSize;
  if (vocab !== undefined && vocab < data.vocabSize) {
    issues.push({
      path: 'model.vocabSize',
      message: `vocabSize ${vocab} is smaller than the dataset's vocabulary (${data.vocabSize} tokens): use vocabSize ${data.vocabSize} (or leave it out to take the dataset's)`,
    });
  }
  return issues;
}

/** The model config with the vocabulary taken from the data when not set. */
export function resolveModelConfig(
  config: RunConfig,
  data: Pick<DataFacts, 'vocabSize'>,
): ResolvedModelConfig {
  return { ...config.model, vocabSize: config.model.vocabSize ?? data.vocabSize };
}

/** Parameter count of a GPT (tied embeddings counted once, as nanoGPT's get_num_params with non_embedding=False). */
export function countParams(m: ResolvedModelConfig): number {
  const c = m.nEmbd;
  const b = m.bias ? 1 : 0;
  const ln = c + b * c;
  const block =
    2 * ln + (3 * c * c + b * 3 * c) + (c * c + b * c) + (4 * c * c + b * 4 * c) + (4 * c * c + b * c);
  return m.vocabSize * c + m.blockSize * c + m.nLayer * block + ln;
}

/**
 * Floating-point operations to train on one token, forward and backward: 6 per parameter (position embeddings
 * aside) and 12·L·C·T for attention's products (PaLM's appendix B, as nanoGPT's estimate_mfu). A lower bound on
 * what a step does: recomputed blocks and everything outside the products come on top.
 */
export function trainingFlopsPerToken(m: ResolvedModelConfig): number {
  return 6 * (countParams(m) - m.blockSize * m.nEmbd) + 12 * m.nLayer * m.nEmbd * m.blockSize;
}

/** Rough bytes of the activations one training micro-step keeps for its backward pass (float32). */
export function activationBytes(m: ResolvedModelConfig, batchSize: number): number {
  const n = batchSize * m.blockSize;
  // per layer: ~14 [N, C] tensors (LN outputs, q/k/v, projections, 4C MLP activations) and the
  // attention probabilities [B, H, T, T] (twice with dropout)
  const perLayer =
    n * 14 * m.nEmbd + batchSize * m.nHead * m.blockSize * m.blockSize * (m.dropout > 0 ? 2 : 1);
  return 4 * (m.nLayer * perLayer + n * m.vocabSize * 2);
}

export const CHECKPOINTING_THRESHOLD_BYTES = 1 << 30;

/**
 * Whether the training graph recomputes blocks (see trainConfig.activationCheckpointing). `gpuFreeBytes`: the free
 * memory of the GPU the run trains on, where known. A GPU that holds the activations twice over need not pay a third
 * more compute to save memory it has; the 1 GiB rule is for host memory, and for GPUs that do not say what they have.
 */
export function usesActivationCheckpointing(
  config: RunConfig,
  model: ResolvedModelConfig,
  gpuFreeBytes: number | null = null,
): boolean {
  const mode = config.train.activationCheckpointing;
  if (mode !== 'auto') return mode === 'on';
  const bytes = activationBytes(model, config.train.batchSize);
  return gpuFreeBytes !== null ? bytes > gpuFreeBytes / 2 : bytes > CHECKPOINTING_THRESHOLD_BYTES;
}

/** Tokens processed per optimizer step. */
export function tokensPerStep(config: RunConfig): number {
  return config.train.batchSize * config.train.gradAccumSteps * config.model.blockSize;
}
