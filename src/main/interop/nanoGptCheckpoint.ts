import {
  presets,
  runConfigSchema,
  type ResolvedModelConfig,
  type RunConfig,
} from '../../shared/engine/config.ts';
import { gptParamLayout, type ParamLayout } from '../engine/gpt.ts';
import { TorchGenerator } from '../engine/torchRng.ts';
import type { TrainState } from '../engine/checkpoint.ts';
import { field } from './pickle.ts';
import { TorchFile, TorchFileError, TorchTensor } from './torchFile.ts';

/**
 * nanoGPT's ckpt.pt (train.py: `{model, optimizer, model_args, iter_num, best_val_loss, config}`) read
 * into the app's training state: the state_dict by name into the flat parameter vector (torch.compile's
 * `_orig_mod.` prefix stripped, the `attn.bias` causal-mask buffers of torch < 2 ignored, `lm_head.weight`
 * checked to be wte's tie), AdamW's moments from PyTorch's optimizer state — nanoGPT's two parameter
 * groups (≥ 2-D weights decayed, the rest not), indices in named_parameters order within each group —
 * and the train.py globals into a run configuration.
 */

export interface ImportedModel {
  model: ResolvedModelConfig;
  config: RunConfig;
  state: TrainState;
  /** Whether AdamW's moments came with the file (training then continues exactly). */
  hasOptimizer: boolean;
  /** nanoGPT's `config.dataset` (the data folder's name), when present. */
  datasetName: string | null;
  /** What was read, in words (for the CLI). */
  notes: string[];
}

const PREFIX = '_orig_mod.';
const IGNORED = /\.attn\.(bias|masked_bias)$/;

function num(x: unknown, what: string): number {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'boolean') return x ? 1 : 0;
  throw new TorchFileError(`${what} is not a number`);
}

function int(x: unknown, what: string): number {
  const v = num(x, what);
  if (!Number.isInteger(v) || v <= 0) throw new TorchFileError(`${what} (${v}) is not a whole number ≥ 1`);
  return v;
}

/** nanoGPT's model_args → the engine's model config. */
export function modelFromArgs(args: unknown): ResolvedModelConfig {
  if (!(args instanceof Map))
    throw new TorchFileError('the checkpoint has no model_args dict: not a nanoGPT checkpoint');
  const get = (k: string) => {
    if (!args.has(k)) throw new TorchFileError(`model_args lacks ${k}`);
    return args.get(k);
  };
  const model = {
    nLayer: int(get('n_layer'), 'model_args.n_layer'),
    nHead: int(get('n_head'), 'model_args.n_head'),
    nEmbd: int(get('n_embd'), 'model_args.n_embd'),
    blockSize: int(get('block_size'), 'model_args.block_size'),
    vocabSize: int(get('vocab_size'), 'model_args.vocab_size'),
    dropout: args.has('dropout') ? num(args.get('dropout'), 'model_args.dropout') : 0,
    bias: args.has('bias') ? Boolean(args.get('bias')) : true,
  };
  if (model.nEmbd % model.nHead !== 0)
    throw new TorchFileError(`model_args: n_embd ${model.nEmbd} is not divisible by n_head ${model.nHead}`);
  return model;
}

/** train.py's globals (checkpoint['config']) → a run configuration (nanoGPT's defaults where absent). */
export function runConfigFromNanoGpt(model: ResolvedModelConfig, config: unknown): RunConfig {
  const c = config instanceof Map ? config : new Map<string, unknown>();
  const base = presets['gpt2-small'].train;
  const pick = (key: string, fallback: number | boolean | undefined) => {
    const v = c.get(key);
    return typeof v === 'number' || typeof v === 'boolean' ? v : fallback;
  };
  const maxIters = pick('max_iters', 600000) as number;
  const learningRate = pick('learning_rate', base.learningRate) as number;
  const train = {
    ...base,
    batchSize: pick('batch_size', base.batchSize),
    gradAccumSteps: pick('gradient_accumulation_steps', base.gradAccumSteps),
    maxIters,
    learningRate,
    // nanoGPT's fine-tuning configs keep the default min_lr (6e-5) above a constant learning rate
    minLr: Math.min(pick('min_lr', base.minLr) as number, learningRate),
    warmupIters: pick('warmup_iters', base.warmupIters),
    lrDecayIters: pick('lr_decay_iters', maxIters),
    decayLr: pick('decay_lr', true),
    beta1: pick('beta1', base.beta1),
    beta2: pick('beta2', base.beta2),
    weightDecay: pick('weight_decay', base.weightDecay),
    gradClip: pick('grad_clip', base.gradClip),
    evalInterval: pick('eval_interval', base.evalInterval),
    evalIters: pick('eval_iters', base.evalIters),
    logInterval: pick('log_interval', base.logInterval),
  };
  const parsed = runConfigSchema.safeParse({ preset: null, model, train });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new TorchFileError(
      `the checkpoint's config does not make a valid run: ${i.path.join('.')}: ${i.message}`,
    );
  }
  return parsed.data;
}

/**
 * A fresh PyTorch generator state for a run that came without one: nanoGPT re-seeds with 1337 on resume
 * too, so the imported run draws its batches as a new nanoGPT process would.
 */
export function freshGeneratorState(seed: number): string {
  return new TorchGenerator(seed).getState();
}

/** Copies a state_dict (name → tensor) into the flat vector by the layout; returns the names it used. */
export function stateDictInto(
  file: TorchFile,
  dict: Map<unknown, unknown>,
  layout: ParamLayout,
  params: Float32Array,
  rename: (name: string) => string = (n) => n,
): void {
  const seen = new Set<string>();
  for (const [rawKey, value] of dict) {
    const key = rename(String(rawKey));
    if (IGNORED.test(key)) continue;
    if (!(value instanceof TorchTensor)) throw new TorchFileError(`state_dict entry ${key} is not a tensor`);
    const spec = layout.byName.get(key);
    if (key === 'lm_head.weight') continue; // tied to transformer.wte.weight (checked below)
    if (!spec)
      throw new TorchFileError(`unexpected tensor ${key}: not part of nanoGPT's GPT with these model_args`);
    if (value.shape.join(',') !== spec.shape.join(','))
      throw new TorchFileError(`${key} has shape [${value.shape}], model_args give [${spec.shape}]`);
    file.readTensor(value, params.subarray(spec.offset, spec.offset + spec.size));
    seen.add(key);
  }
  const missing = layout.specs.filter((s) => !seen.has(s.name));
  if (missing.length > 0)
    throw new TorchFileError(
      `the state_dict lacks ${missing
        .slice(0, 3)
        .map((s) => s.name)
        .join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`,
    );
}

/**
 * AdamW's state (PyTorch's `optimizer.state_dict()`) into m and v. nanoGPT's configure_optimizers makes
 * group 0 = parameters with ≥ 2 dimensions, group 1 = the others, each in named_parameters order.
 */
function optimizerInto(
  file: TorchFile,
  opt: unknown,
  layout: ParamLayout,
  m: Float32Array,
  v: Float32Array,
): number | null {
  const state = field(opt, 'state');
  const groups = field(opt, 'param_groups');
  if (!(state instanceof Map) || !Array.isArray(groups))
    throw new TorchFileError('optimizer is not a PyTorch optimizer state_dict (state, param_groups)');
  const decay = layout.specs.filter((s) => s.decay);
  const nodecay = layout.specs.filter((s) => !s.decay);
  if (groups.length !== 2)
    throw new TorchFileError(
      `optimizer has ${groups.length} parameter groups; nanoGPT's AdamW has 2 (decay, no decay)`,
    );
  let step: number | null = null;
  [decay, nodecay].forEach((specs, g) => {
    const ids = field(groups[g], 'params');
    if (!Array.isArray(ids) || ids.length !== specs.length)
      throw new TorchFileError(
        `optimizer group ${g} holds ${Array.isArray(ids) ? ids.length : 'no'} parameters, the model has ${specs.length} ${g === 0 ? 'decayed (≥ 2-D)' : 'undecayed'} ones`,
      );
    specs.forEach((spec, i) => {
      const s = state.get(Number(ids[i]));
      if (s === undefined) return; // never stepped: zero moments
      const put = (name: string, dest: Float32Array) => {
        const t = field(s, name);
        if (!(t instanceof TorchTensor) || t.numel !== spec.size)
          throw new TorchFileError(`optimizer state of ${spec.name} has no ${name} of ${spec.size} values`);
        file.readTensor(t, dest.subarray(spec.offset, spec.offset + spec.size));
      };
      put('exp_avg', m);
      put('exp_avg_sq', v);
      const st = field(s, 'step');
      if (st !== undefined) step = st instanceof TorchTensor ? file.scalar(st) : num(st, 'optimizer step');
    });
  });
  return step;
}

/** Reads a nanoGPT ckpt.pt (or a bare state_dict saved with torch.save) into an importable model. */
export function readNanoGptCheckpoint(path: string): ImportedModel {
  const file = new TorchFile(path);
  try {
    const root = file.root;
    if (!(root instanceof Map)) throw new TorchFileError(`${path} does not hold a dict`);
    const notes: string[] = [];
    const model = modelFromArgs(root.get('model_args'));
    const config = runConfigFromNanoGpt(model, root.get('config'));
    const sd = root.get('model');
    if (!(sd instanceof Map)) throw new TorchFileError(`${path} has no model state_dict`);
    const layout = gptParamLayout(model);
    const params = new Float32Array(layout.total);
    const compiled = [...sd.keys()].some((k) => String(k).startsWith(PREFIX));
    if (compiled) notes.push(`stripped torch.compile's ${PREFIX} prefix`);
    stateDictInto(file, sd, layout, params, (n) => (n.startsWith(PREFIX) ? n.slice(PREFIX.length) : n));
    const dtypes = new Set(
      [...sd.values()].filter((t) => t instanceof TorchTensor).map((t) => (t as TorchTensor).dtype),
    );
    notes.push(
      `weights ${[...dtypes].join('/')}${dtypes.has('float32') && dtypes.size === 1 ? '' : ' → float32'}`,
    );
    const iterNum = root.has('iter_num') ? num(root.get('iter_num'), 'iter_num') : 0;
    const bvl = root.get('best_val_loss');
    const bestValLoss =
      bvl instanceof TorchTensor ? file.scalar(bvl) : typeof bvl === 'number' && bvl < 1e9 ? bvl : null;
    let m = new Float32Array(0);
    let v = new Float32Array(0);
    const opt = root.get('optimizer');
    const hasOptimizer = opt instanceof Map;
    if (hasOptimizer) {
      m = new Float32Array(layout.total);
      v = new Float32Array(layout.total);
      const step = optimizerInto(file, opt, layout, m, v);
      if (step !== null && step !== iterNum)
        notes.push(`optimizer step ${step}, iter_num ${iterNum}: continuing at ${iterNum}`);
      notes.push('AdamW state imported');
    } else notes.push('no optimizer state: training continues with fresh AdamW moments');
    const ds = field(root.get('config'), 'dataset');
    return {
      model,
      config,
      hasOptimizer,
      datasetName: typeof ds === 'string' ? ds : null,
      notes,
      state: {
        step: iterNum,
        params,
        m,
        v,
        rngState: freshGeneratorState(config.train.seed),
        pendingBatch: null,
        bestValLoss:
          bestValLoss !== null && Number.isFinite(bestValLoss) && bestValLoss < 1e9 ? bestValLoss : null,
        trainLoss: null,
        valLoss: null,
        tokensSeen: iterNum * config.train.batchSize * config.train.gradAccumSteps * model.blockSize,
        elapsedMs: 0,
      },
    };
  } finally {
    file.close();
  }
}
