import { existsSync } from 'node:fs';
import { runConfigSchema, type ResolvedModelConfig, type RunConfig } from '../../shared/engine/config.ts';
import type { DatasetRef } from './data.ts';
import { gptParamLayout, type ParamLayout } from './gpt.ts';
import { readSafetensors, writeSafetensorsAtomic, type SafeTensor } from './safetensors.ts';

/**
 * Checkpoints: one safetensors file holding the parameters under nanoGPT's state_dict names (plus
 * `lm_head.weight`, tied to `transformer.wte.weight`, so `model.load_state_dict` in nanoGPT accepts it),
 * AdamW's moments as `optimizer.exp_avg.<name>` / `optimizer.exp_avg_sq.<name>`, and in the metadata
 * the step, the data generator's state, the configuration and the dataset reference. Written
 * atomically; a run keeps `latest` and `best` (lowest validation loss).
 *
 * Format versions: 1 kept the state of an xoshiro128** batch generator (`rng_state`, 32 hex digits);
 * 2 keeps PyTorch's generator (`rng_state` = `mt19937:…`, see torchRng.ts) and the prefetched training
 * batch (`pending_batch`, a JSON array of offsets), the order nanoGPT draws in (batches.ts). Both load;
 * a version-1 run resumes with its old generator.
 */
export const CHECKPOINT_FORMAT = 'xai-link-checkpoint';
export const CHECKPOINT_VERSION = '2';

export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** The batch generator's state (batches drawn so far): `mt19937:…` (version 2) or 32 hex digits (version 1). */
  rngState: string;
  /** Offsets of the training batch already drawn for the next step (version 2), or null/absent. */
  pendingBatch?: number[] | null;
  bestValLoss: number | null;
  trainLoss: number | null;
  valLoss: number | null;
  tokensSeen: number;
  elapsedMs: number;
}

export interface CheckpointMeta {
  config: RunConfig;
  model: ResolvedModelConfig;
  dataset: DatasetRef;
  /** tokenizer.json content of the dataset (so a checkpoint samples on its own), or null. */
  tokenizer: unknown;
}

export interface Checkpoint extends CheckpointMeta {
  state: TrainState;
  layout: ParamLayout;
  createdAt: string;
}

/** nanoGPT's model_args names, for tools that read nanoGPT checkpoints. */
export function nanoGptModelArgs(m: ResolvedModelConfig): Record<string, number | boolean> {
  return {
    n_layer: m.nLayer,
    n_head: m.nHead,
    n_embd: m.nEmbd,
    block_size: m.blockSize,
    bias: m.bias,
    vocab_size: m.vocabSize,
    dropout: m.dropout,
  };
}

/**
 * The dataset as a checkpoint records it: by name, sizes and fingerprint, never its path on this disk
 * (checkpoints are published to IPFS; the run's own run.json says where its data is). Older checkpoints
 * that recorded the path lose it when read, so nothing exported from them carries it either.
 */
export function publicDatasetRef<T extends DatasetRef | null>(ref: T): T {
  if (!ref) return ref;
  return { ...ref, path: '' };
}

export function saveCheckpoint(
  path: string,
  state: TrainState,
  meta: CheckpointMeta,
  opts: { optimizer?: boolean } = {},
): void {
  const layout = gptParamLayout(meta.model);
  const tensors: Record<string, SafeTensor> = {};
  const view = (flat: Float32Array, s: ParamLayout['specs'][number]): SafeTensor => ({
    dtype: 'F32',
    shape: s.shape,
    data: flat.subarray(s.offset, s.offset + s.size),
  });
  for (const s of layout.specs) tensors[s.name] = view(state.params, s);
  tensors['lm_head.weight'] = view(state.params, layout.byName.get('transformer.wte.weight')!);
  if (opts.optimizer ?? true) {
    for (const s of layout.specs) {
      tensors[`optimizer.exp_avg.${s.name}`] = view(state.m, s);
      tensors[`optimizer.exp_avg_sq.${s.name}`] = view(state.v, s);
    }
  }
  const num = (v: number | null) => (v === null ? '' : String(v));
  writeSafetensorsAtomic(path, tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    created_at: new Date().toISOString(),
    step: String(state.step),
    rng_state: state.rngState,
    ...(state.pendingBatch ? { pending_batch: JSON.stringify(state.pendingBatch) } : {}),
    best_val_loss: num(state.bestValLoss),
    train_loss: num(state.trainLoss),
    val_loss: num(state.valLoss),
    tokens_seen: String(state.tokensSeen),
    elapsed_ms: String(Math.round(state.elapsedMs)),
    optimizer: (opts.optimizer ?? true) ? 'adamw' : 'none',
    config: JSON.stringify(meta.config),
    model: JSON.stringify(meta.model),
    model_args: JSON.stringify(nanoGptModelArgs(meta.model)),
    dataset: JSON.stringify(publicDatasetRef(meta.dataset)),
    ...(meta.tokenizer ? { tokenizer: JSON.stringify(meta.tokenizer) } : {}),
  });
}

export class CheckpointError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

export function loadCheckpoint(path: string, opts: { optimizer?: boolean } = {}): Checkpoint {
  if (!existsSync(path)) throw new CheckpointError(`no checkpoint at ${path}`);
  const withOptimizer = opts.optimizer ?? true;
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(path, { only: (n) => withOptimizer || !n.startsWith('optimizer.') });
  } catch (e) {
    throw new CheckpointError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  const md = file.metadata;
  if (md.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(`${path} is not an XAI-Link checkpoint (format "${md.format ?? 'none'}")`);
  const version = Number(md.format_version ?? '1');
  if (!(version >= 1 && version <= Number(CHECKPOINT_VERSION)))
    throw new CheckpointError(
      `${path} is checkpoint format ${md.format_version}, newer than this XAI-Link reads (${CHECKPOINT_VERSION}): update XAI-Link`,
    );
  let config: RunConfig;
  let model: ResolvedModelConfig;
  try {
    config = runConfigSchema.parse(JSON.parse(md.config ?? '{}'));
    model = JSON.parse(md.model ?? '{}') as ResolvedModelConfig;
  } catch (e) {
    throw new CheckpointError(
      `${path}: its config metadata is unreadable (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`,
      { cause: e },
    );
  }
  const layout = gptParamLayout(model);
  const params = new Float32Array(layout.total);
  const m = new Float32Array(layout.total);
  const v = new Float32Array(layout.total);
  const hasOptimizer = md.optimizer === 'adamw';
  for (const s of layout.specs) {
    const put = (flat: Float32Array, name: string) => {
      const t = file.tensors[name];
      if (!t) throw new CheckpointError(`${path} lacks tensor ${name}`);
      if (t.dtype !== 'F32' || t.shape.join(',') !== s.shape.join(',')) {
        throw new CheckpointError(`${path}: ${name} is ${t.dtype}[${t.shape}], expected F32[${s.shape}]`);
      }
      flat.set(t.data as Float32Array, s.offset);
    };
    put(params, s.name);
    if (withOptimizer && hasOptimizer) {
      put(m, `optimizer.exp_avg.${s.name}`);
      put(v, `optimizer.exp_avg_sq.${s.name}`);
    }
  }
  const num = (x: string | undefined) => (x === undefined || x === '' ? null : Number(x));
  return {
    config,
    model,
    layout,
    dataset: publicDatasetRef(JSON.parse(md.dataset ?? 'null') as DatasetRef),
    tokenizer: md.tokenizer ? JSON.parse(md.tokenizer) : null,
    createdAt: md.created_at ?? '',
    state: {
      step: Number(md.step ?? 0),
      params,
      m,
      v,
      rngState: md.rng_state ?? '',
      pendingBatch: md.pending_batch ? (JSON.parse(md.pending_batch) as number[]) : null,
      bestValLoss: num(md.best_val_loss),
      trainLoss: num(md.train_loss),
      valLoss: num(md.val_loss),
      tokensSeen: Number(md.tokens_seen ?? 0),
      elapsedMs: Number(md.elapsed_ms ?? 0),
    },
  };
}
