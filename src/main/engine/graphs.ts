import type { ResolvedModelConfig, TrainConfig } from '../../shared/engine/config.ts';
import { gradients } from './graph/autodiff.ts';
import { Graph, type KernelSet, type Tensor } from './graph/graph.ts';
import * as op from './graph/ops.ts';
import { sumOfSquares } from './graph/sumOfSquares.ts';
import { gptForward, gptHidden, lmHead, paramViews, type ParamLayout } from './gpt.ts';
import { headLoss } from './headLoss.ts';
import { flatChunks, joinFlat, splitFlat, type FlatChunk } from './flatChunks.ts';

/**
 * The ONNX graphs the engine runs:
 *  - the training step: forward, cross-entropy, backward, global-norm clipping and AdamW in ONE graph,
 *    parameters and optimizer state in as flat [P] vectors and out as their updated values;
 *  - the accumulation micro-step (forward + backward, gradient summed into a [P] accumulator);
 *  - the evaluation graph (forward + loss);
 *  - the inference graph (ids → logits), which is also the exported model.
 */

export const TRAIN_IO = {
  params: 'params',
  m: 'adam_m',
  v: 'adam_v',
  idx: 'idx',
  targets: 'targets',
  lr: 'lr',
  step: 'step',
  gradAcc: 'grad_acc',
  paramsOut: 'params_out',
  mOut: 'adam_m_out',
  vOut: 'adam_v_out',
  gradAccOut: 'grad_acc_out',
  loss: 'loss',
  gradNorm: 'grad_norm',
  logits: 'logits',
  /** uint32 scalar: the per-(micro-)step key of computed dropout masks (portable graphs with dropout). */
  dropoutKey: op.DROPOUT_KEY_INPUT,
} as const;

export interface TrainGraphOptions {
  model: ResolvedModelConfig;
  train: TrainConfig;
  layout: ParamLayout;
  /**
   * 'step': one full optimizer step (no accumulation, or the last micro-batch, adding `grad_acc`);
   * 'micro': a micro-batch that only adds its gradient into `grad_acc`.
   */
  kind: 'step' | 'micro';
  /** Seed for the dropout mask streams. */
  dropoutSeed: number;
  /** Recompute transformer blocks in the backward pass (activation checkpointing). */
  checkpointBlocks?: boolean;
  /** 'portable' for GPU providers (see KernelSet); 'ort' (default) for the CPU. */
  kernels?: KernelSet;
  /** Bytes one chunk of a GPU graph's logits may take (headLoss.ts; tests set small values). */
  headChunkBytes?: number;
  /** Bytes one piece of a GPU graph's flat vectors may take (flatChunks.ts; tests set small values). */
  flatChunkBytes?: number;
}

/** How a graph cuts its flat vectors: a GPU graph in pieces one binding holds (flatChunks.ts), a CPU graph whole. */
function chunksOf(g: Graph, layout: ParamLayout, flatChunkBytes?: number): FlatChunk[] {
  return flatChunks(layout, g.portable ? flatChunkBytes : Infinity);
}

/** The per-parameter views of a flat vector, cut piece by piece. */
function viewsOf(
  g: Graph,
  pieces: readonly Tensor[],
  layout: ParamLayout,
  chunks: readonly FlatChunk[],
  requiresGrad: boolean,
): Record<string, Tensor> {
  const views: Record<string, Tensor> = {};
  chunks.forEach((c, k) =>
    Object.assign(
      views,
      paramViews(g, pieces[k]!, { specs: layout.specs.slice(c.first, c.end) }, requiresGrad),
    ),
  );
  return views;
}

function forwardLoss(
  g: Graph,
  o: {
    model: ResolvedModelConfig;
    layout: ParamLayout;
    batch: number;
    train: boolean;
    dropoutSeed?: number;
    checkpointBlocks?: boolean;
    /** Also output the logits [B·T, V] (in one piece, then). */
    logits?: boolean;
    headChunkBytes?: number;
    flatChunkBytes?: number;
  },
) {
  const { model, layout, batch } = o;
  const P = layout.total;
  const T = model.blockSize;
  const flat = g.input(TRAIN_IO.params, 'float32', [P]);
  const idx = g.input(TRAIN_IO.idx, 'int32', [batch, T]);
  const targets = g.input(TRAIN_IO.targets, 'int32', [batch, T]);
  const chunks = chunksOf(g, layout, o.flatChunkBytes);
  const pieces = g.scope('params', () => splitFlat(g, flat, chunks));
  const params = viewsOf(g, pieces, layout, chunks, o.train);
  const forward = {
    train: o.train,
    dropoutSeed: o.dropoutSeed,
    checkpointBlocks: o.checkpointBlocks,
  };
  const rows = op.reshape(g, targets, [batch * T]);
  const hidden = gptHidden(g, model, params, idx, forward);
  if (o.logits) {
    const logits = lmHead(g, params, hidden);
    return { chunks, pieces, params, logits, loss: op.crossEntropy(g, logits, rows) };
  }
  const recompute = o.train && o.checkpointBlocks;
  return {
    chunks,
    pieces,
    params,
    loss: headLoss(g, params, hidden, rows, { recompute, chunkBytes: o.headChunkBytes }),
  };
}

/** The flat gradient, piece by piece: every parameter's gradient flattened and joined in layout order. */
function flatGradient(
  g: Graph,
  loss: Tensor,
  params: Record<string, Tensor>,
  layout: ParamLayout,
  chunks: readonly FlatChunk[],
  seed?: Tensor,
): { pieces: Tensor[]; sumSquares: Tensor | null } {
  const wrt = layout.specs.map((s) => params[s.name]!);
  const grads = gradients(g, loss, wrt, seed);
  return g.scope('grad', () => {
    // Σg² per parameter, then summed (as clip_grad_norm_: the norm of the per-tensor norms), each by rows
    // (sumOfSquares: one float32 sum over millions of squares drifts on the CPU). A GPU's graph (null here:
    // emitAdamW takes the flat vector) reduces once across the device: a few dispatches instead of a
    // kernel per parameter tensor (39 for the baby preset) and the adds between them.
    let sumSquares: Tensor | null = null;
    if (!g.portable)
      for (const d of grads) {
        const s = sumOfSquares(g, d);
        sumSquares = sumSquares ? g.emit1('Add', [sumSquares, s], [], 'float32') : s;
      }
    // op.concat builds a tree of narrow Concat nodes (see MAX_NODE_FAN); nothing differentiates this.
    const flat = grads.map((d, i) => op.reshape(g, d, [layout.specs[i]!.size]));
    const pieces = chunks.map((c) => op.concat(g, flat.slice(c.first, c.end), 0));
    return { pieces, sumSquares };
  });
}

export function buildTrainGraph(o: TrainGraphOptions): Graph {
  const { model, train, layout, kind } = o;
  const P = layout.total;
  const g = new Graph(kind === 'step' ? 'train_step' : 'train_micro_step', { kernels: o.kernels });
  const accumulate = train.gradAccumSteps > 1;
  const { chunks, pieces, params, loss } = forwardLoss(g, {
    model,
    layout,
    batch: train.batchSize,
    train: true,
    dropoutSeed: o.dropoutSeed,
    checkpointBlocks: o.checkpointBlocks,
    headChunkBytes: o.headChunkBytes,
    flatChunkBytes: o.flatChunkBytes,
  });
  g.output(loss, TRAIN_IO.loss);
  // With accumulation each micro-batch contributes ∂(loss/K): the seed of the backward pass is 1/K.
  const seed = accumulate ? g.scalar(1 / train.gradAccumSteps) : undefined;
  const fg = flatGradient(g, loss, params, layout, chunks, seed);
  let grad = fg.pieces;
  let sumSquares: Tensor | null = fg.sumSquares;
  if (accumulate) {
    const acc = splitFlat(g, g.input(TRAIN_IO.gradAcc, 'float32', [P]), chunks);
    grad = grad.map((d, k) => g.emit1('Add', [acc[k]!, d], d.shape, 'float32'));
    sumSquares = null; // the accumulated gradient's norm is taken over the flat vector
  }
  if (kind === 'micro') {
    g.output(joinFlat(g, grad), TRAIN_IO.gradAccOut);
    return g;
  }
  g.scope('adamw', () => emitAdamW(g, o, chunks, pieces, grad, sumSquares));
  return g;
}

/**
 * Global-norm clipping and AdamW (PyTorch's torch.optim.AdamW, decoupled weight decay), on flat vectors:
 *   ‖g‖ = √Σg²,   c = min(1, clip/(‖g‖ + 1e-6))            (torch.nn.utils.clip_grad_norm_)
 *   m ← β₁m + (1−β₁)·c·g,   v ← β₂v + (1−β₂)·c²·g²
 *   p ← p·(1 − lr·wd·decayMask) − a·m / (√v + ε'),
 *   with bias correction folded into scalars: a = lr·√(1−β₂ᵗ)/(1−β₁ᵗ), ε' = ε·√(1−β₂ᵗ)
 * (algebraically PyTorch's lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)). The clip factor rides on the scalar
 * multipliers, so clipping costs no pass over the gradient. lr and t are inputs: the schedule lives
 * outside the graph.
 */
function emitAdamW(
  g: Graph,
  o: TrainGraphOptions,
  chunks: readonly FlatChunk[],
  p: readonly Tensor[],
  grad: readonly Tensor[],
  sumSquares: Tensor | null,
): void {
  const { train, layout } = o;
  const P = layout.total;
  const s = (v: number) => g.scalar(v);
  const sc = (opType: string, ...ins: Tensor[]) => g.emit1(opType, ins, [], 'float32');
  const m = splitFlat(g, g.input(TRAIN_IO.m, 'float32', [P]), chunks);
  const v = splitFlat(g, g.input(TRAIN_IO.v, 'float32', [P]), chunks);
  const lr = g.input(TRAIN_IO.lr, 'float32', []);
  const t = g.input(TRAIN_IO.step, 'float32', []);

  // Σg² piece by piece, then the pieces' sums (sumOfSquares sums each by rows already)
  const squares = sumSquares ?? grad.map((d) => sumOfSquares(g, d)).reduce((a, b) => sc('Add', a, b));
  const norm = sc('Sqrt', squares);
  g.output(norm, TRAIN_IO.gradNorm);
  const coef =
    train.gradClip > 0 ? sc('Min', s(1), sc('Div', s(train.gradClip), sc('Add', norm, s(1e-6)))) : s(1);

  const { beta1: b1, beta2: b2 } = train;
  const bc1 = sc('Sub', s(1), sc('Pow', s(b1), t));
  const sqrtBc2 = sc('Sqrt', sc('Sub', s(1), sc('Pow', s(b2), t)));
  const stepSize = sc('Div', sc('Mul', lr, sqrtBc2), bc1);
  const epsHat = sc('Mul', s(train.eps), sqrtBc2);
  const gradScale = sc('Mul', coef, s(1 - b1));
  const squareScale = sc('Mul', sc('Mul', coef, coef), s(1 - b2));
  const decayRate = train.weightDecay > 0 ? sc('Mul', lr, s(train.weightDecay)) : null;

  const out = { p: [] as Tensor[], m: [] as Tensor[], v: [] as Tensor[] };
  chunks.forEach((c, k) => {
    const vec = [c.size];
    const v1 = (opType: string, ...ins: Tensor[]) => g.emit1(opType, ins, vec, 'float32');
    const mNew = v1('Add', v1('Mul', m[k]!, s(b1)), v1('Mul', grad[k]!, gradScale));
    const gg = v1('Mul', grad[k]!, grad[k]!);
    const vNew = v1('Add', v1('Mul', v[k]!, s(b2)), v1('Mul', gg, squareScale));
    const update = v1('Mul', v1('Div', mNew, v1('Add', v1('Sqrt', vNew), epsHat)), stepSize);

    let decayed = p[k]!;
    if (decayRate) {
      // p·(1 − lr·wd·mask): mask 1 on decayed parameters (a float mask: ONNX Runtime's Where is 4× slower)
      const mask = new Float32Array(c.size);
      for (const spec of layout.specs.slice(c.first, c.end))
        if (spec.decay) mask.fill(1, spec.offset - c.offset, spec.offset - c.offset + spec.size);
      const maskT = g.constant(mask, vec, 'float32', chunks.length === 1 ? 'decay_mask' : `decay_mask_${k}`);
      decayed = v1('Mul', p[k]!, v1('Sub', s(1), v1('Mul', maskT, decayRate)));
    }
    out.p.push(v1('Sub', decayed, update));
    out.m.push(mNew);
    out.v.push(vNew);
  });
  g.output(joinFlat(g, out.p), TRAIN_IO.paramsOut);
  g.output(joinFlat(g, out.m), TRAIN_IO.mOut);
  g.output(joinFlat(g, out.v), TRAIN_IO.vOut);
}

/** Forward + mean loss for a batch (evaluation), optionally the logits [B·T, V] too. */
export function buildEvalGraph(o: {
  model: ResolvedModelConfig;
  layout: ParamLayout;
  batch: number;
  logits?: boolean;
  kernels?: KernelSet;
  headChunkBytes?: number;
}): Graph {
  const g = new Graph('eval', { kernels: o.kernels });
  const { logits, loss } = forwardLoss(g, {
    model: o.model,
    layout: o.layout,
    batch: o.batch,
    train: false,
    logits: o.logits,
    headChunkBytes: o.headChunkBytes,
  });
  g.output(loss, TRAIN_IO.loss);
  if (logits) g.output(logits, TRAIN_IO.logits);
  return g;
}

export const INFERENCE_IO = {
  inputIds: 'input_ids',
  logits: 'logits',
  params: 'params',
  /** int64 [1]: the one position whose logits a `position` graph returns. */
  position: 'position',
} as const;

/**
 * The inference graph: input_ids int64 [batch, seq] → logits float [batch, seq, vocab], seq ≤ blockSize.
 * Weights are initializers under their nanoGPT names (the exported model), or one flat `params`
 * input (sampling during training, without rebuilding the session each time).
 */
export function buildInferenceGraph(o: {
  model: ResolvedModelConfig;
  layout: ParamLayout;
  weights: Float32Array | 'input';
  kernels?: KernelSet;
  opset?: number;
  /**
   * Fixed input shape instead of symbolic batch and seq: no run-time shape arithmetic (Shape/Concat
   * nodes, which GPU providers leave to the CPU). Generation pads the window (generate.ts).
   */
  fixed?: { batch: number; seq: number };
  /**
   * One position's logits, for sampling (the next token needs only the last position's): an int64 `position` [1]
   * input picks it, batch is 1, and the output is [1, 1, vocab]. The lm_head then multiplies one row instead of
   * seq (with GPT-2's tokens a third of gpt2-small's arithmetic per token), and a GPU hands back one row.
   */
  position?: boolean;
}): Graph {
  const { model, layout } = o;
  if (o.position && o.fixed && o.fixed.batch !== 1)
    throw new Error(`buildInferenceGraph: one position's logits are for batch 1, not ${o.fixed.batch}`);
  const g = new Graph('gpt', { kernels: o.kernels, opset: o.opset });
  const ids = g.input(
    INFERENCE_IO.inputIds,
    'int64',
    o.fixed ? [o.fixed.batch, o.fixed.seq] : [o.position ? 1 : 'batch', 'seq'],
  );
  let params: Record<string, Tensor>;
  if (o.weights === 'input') {
    params = paramViews(g, g.input(INFERENCE_IO.params, 'float32', [layout.total]), layout, false);
  } else {
    const flat = o.weights;
    if (flat.length !== layout.total)
      throw new Error(`buildInferenceGraph: ${flat.length} weights for a model of ${layout.total}`);
    params = {};
    for (const s of layout.specs)
      params[s.name] = g.constant(flat.subarray(s.offset, s.offset + s.size), s.shape, 'float32', s.name);
  }
  if (o.position) {
    const hidden = gptHidden(g, model, params, ids, { train: false });
    const row = op.gather(g, hidden, g.input(INFERENCE_IO.position, 'int64', [1]));
    g.output(op.reshape(g, lmHead(g, params, row), [1, 1, model.vocabSize]), INFERENCE_IO.logits);
    return g;
  }
  const logits = gptForward(g, model, params, ids, { train: false });
  g.output(op.reshape(g, logits, [...ids.shape, model.vocabSize]), INFERENCE_IO.logits);
  return g;
}

/**
 * params, adam_m, adam_v in → the same values out, as CPU outputs: how device-resident training state is
 * downloaded for a checkpoint (runner.ts says why not Tensor.getData()).
 */
export function buildStateCopyGraph(size: number): Graph {
  const g = new Graph('state_copy', { kernels: 'portable' });
  g.output(g.input(TRAIN_IO.params, 'float32', [size]), TRAIN_IO.paramsOut);
  g.output(g.input(TRAIN_IO.m, 'float32', [size]), TRAIN_IO.mOut);
  g.output(g.input(TRAIN_IO.v, 'float32', [size]), TRAIN_IO.vOut);
  return g;
}
