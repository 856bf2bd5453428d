import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadCheckpoint, nanoGptModelArgs, type Checkpoint } from '../engine/checkpoint.ts';
import { readSafetensorsHeader } from '../engine/safetensors.ts';
import { PyTuple } from './pickle.ts';
import { pickle, PyFloat, PyOrderedDict, TensorOut } from './pickleWriter.ts';
import { ZipWriter } from './zip.ts';

/**
 * A run's checkpoint as nanoGPT's ckpt.pt: the dict train.py saves — model (state_dict, lm_head.weight
 * sharing wte's storage), optimizer (PyTorch AdamW state_dict: nanoGPT's two groups, ≥ 2-D weights
 * decayed, indices in named_parameters order; step, exp_avg, exp_avg_sq per parameter), model_args,
 * iter_num, best_val_loss, config (train.py's globals; the dataset by name, never a local path) — in
 * PyTorch's ZIP format, so `torch.load` in sample.py and train.py (init_from='resume') read it as
 * their own. The attention-mask buffers of torch < 2 are not written (nanoGPT on torch ≥ 2 has none).
 */

const ARCHIVE = 'archive';

function tuple(...items: unknown[]): PyTuple {
  const t = new PyTuple();
  t.push(...items);
  return t;
}

/** train.py's globals for this run (the keys nanoGPT saves as `config`). */
function nanoGptConfig(ckpt: Checkpoint): Record<string, unknown> {
  const t = ckpt.config.train;
  const m = ckpt.model;
  return {
    out_dir: 'out',
    eval_interval: t.evalInterval,
    log_interval: t.logInterval,
    eval_iters: t.evalIters,
    eval_only: false,
    always_save_checkpoint: true,
    init_from: 'resume',
    wandb_log: false,
    dataset: ckpt.dataset?.name ?? '',
    gradient_accumulation_steps: t.gradAccumSteps,
    batch_size: t.batchSize,
    block_size: m.blockSize,
    n_layer: m.nLayer,
    n_head: m.nHead,
    n_embd: m.nEmbd,
    dropout: new PyFloat(m.dropout),
    bias: m.bias,
    learning_rate: new PyFloat(t.learningRate),
    max_iters: t.maxIters,
    weight_decay: new PyFloat(t.weightDecay),
    beta1: new PyFloat(t.beta1),
    beta2: new PyFloat(t.beta2),
    grad_clip: new PyFloat(t.gradClip),
    decay_lr: t.decayLr,
    warmup_iters: t.warmupIters,
    lr_decay_iters: t.lrDecayIters ?? t.maxIters,
    min_lr: new PyFloat(t.minLr),
    dtype: 'float32',
    compile: false,
  };
}

export function writeNanoGptCheckpoint(
  ckpt: Checkpoint,
  outPath: string,
  opts: { optimizer: boolean },
): void {
  const { layout, state } = ckpt;
  // storages: one per tensor, written after data.pkl in the order they are numbered
  const storages: Float32Array[] = [];
  const tensor = (data: Float32Array, shape: number[]) => {
    storages.push(data);
    return new TensorOut(String(storages.length - 1), data.length, shape);
  };
  const view = (flat: Float32Array, s: (typeof layout.specs)[number]) =>
    flat.subarray(s.offset, s.offset + s.size);
  const model: [string, unknown][] = [];
  let wte: TensorOut | null = null;
  for (const s of layout.specs) {
    const t = tensor(view(state.params, s), s.shape);
    if (s.name === 'transformer.wte.weight') wte = t;
    model.push([s.name, t]);
  }
  model.push(['lm_head.weight', wte!]);

  const decay = layout.specs.filter((s) => s.decay);
  const nodecay = layout.specs.filter((s) => !s.decay);
  const ordered = [...decay, ...nodecay];
  const optState = new Map<number, unknown>();
  if (opts.optimizer && state.step > 0) {
    const step = new Float32Array([state.step]);
    ordered.forEach((s, i) => {
      optState.set(i, {
        step: tensor(step, []),
        exp_avg: tensor(view(state.m, s), s.shape),
        exp_avg_sq: tensor(view(state.v, s), s.shape),
      });
    });
  }
  const t = ckpt.config.train;
  const group = (weightDecay: number, ids: number[]) => ({
    weight_decay: new PyFloat(weightDecay),
    lr: new PyFloat(t.learningRate),
    betas: tuple(new PyFloat(t.beta1), new PyFloat(t.beta2)),
    eps: new PyFloat(t.eps),
    amsgrad: false,
    foreach: null,
    maximize: false,
    capturable: false,
    differentiable: false,
    fused: null,
    params: ids,
  });
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const root = {
    model: new PyOrderedDict(model),
    optimizer: {
      state: optState,
      param_groups: [group(t.weightDecay, ids(0, decay.length)), group(0, ids(decay.length, nodecay.length))],
    },
    model_args: nanoGptModelArgs(ckpt.model),
    iter_num: state.step,
    best_val_loss: new PyFloat(state.bestValLoss ?? 1e9),
    config: nanoGptConfig(ckpt),
  };
  const pkl = pickle(root);

  const dir = dirname(outPath);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(outPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const zip = new ZipWriter(fd);
    zip.add(`${ARCHIVE}/data.pkl`, pkl);
    zip.add(`${ARCHIVE}/byteorder`, new TextEncoder().encode('little'));
    storages.forEach((d, i) =>
      zip.add(`${ARCHIVE}/data/${i}`, new Uint8Array(d.buffer, d.byteOffset, d.byteLength)),
    );
    zip.add(`${ARCHIVE}/version`, new TextEncoder().encode('3\n'));
    zip.finish();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, outPath);
}

/** `export --format nanogpt`: a run checkpoint (.safetensors) → ckpt.pt. */
export async function exportNanoGptCheckpoint(
  checkpointPath: string,
  outPath: string,
): Promise<{ path: string; bytes: number; step: number; params: number }> {
  const optimizer = readSafetensorsHeader(checkpointPath).metadata.optimizer === 'adamw';
  const ckpt = loadCheckpoint(checkpointPath, { optimizer });
  writeNanoGptCheckpoint(ckpt, outPath, { optimizer });
  return { path: outPath, bytes: statSync(outPath).size, step: ckpt.state.step, params: ckpt.layout.total };
}
