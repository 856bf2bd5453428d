import type { OnnxAttributeValue } from '../../shared/onnx/onnxModel.ts';
import type { Graph, Shape, Tensor } from './graph/graph.ts';
import * as op from './graph/ops.ts';
import { lmHead } from './gpt.ts';

/**
 * The lm_head and the cross-entropy over a large vocabulary, a slice of rows at a time.
 *
 * With GPT-2's 50,304 tokens the logits of one gpt2-small micro-step are [12,288, 50,304]: 2.3 GiB, and the loss's
 * backward holds two or three tensors of that size at once. A GPU binds at most `maxStorageBufferBindingSize` bytes
 * of one buffer to a kernel (WebGPU guarantees 128 MiB; software Vulkan gives no more, Direct3D 12 about 2 GiB), so
 * such a step could not run on the GPU at all. Cut into row chunks, the loss is
 *   L = Σ_r (n_r / N) · mean_{i ∈ r} (lse_i − z[i, t_i]),   z_r = x_r · wteᵀ
 * (the same mean, summed in another order), and no tensor of it exceeds HEAD_CHUNK_BYTES. Its backward gives each
 * chunk's ∂x_r = ∂z_r · wte, joined back into ∂x, and ∂wte += ∂z_rᵀ · x_r per chunk.
 *
 * With `recompute` (the graph's activation checkpointing) each chunk's logits are rebuilt in the backward pass
 * instead of kept: the memory of one chunk instead of N × V floats, for one more head product (the forward's).
 *
 * GPU graphs only: the CPU keeps ONNX Runtime's SoftmaxCrossEntropyLoss over all rows, nanoGPT's arithmetic to the
 * bit (host memory has no binding limit).
 */

/** The most bytes one chunk's logits take: WebGPU's guaranteed storage binding, so any adapter binds them. */
export const HEAD_CHUNK_BYTES = 128 * 2 ** 20;

/** Near-equal row counts, each chunk's float32 [rows, vocab] logits within `maxBytes`; one part when all fit. */
export function headRowChunks(rows: number, vocab: number, maxBytes = HEAD_CHUNK_BYTES): number[] {
  const maxRows = Math.max(1, Math.floor(maxBytes / (vocab * 4)));
  if (rows <= maxRows) return [rows];
  const parts = Math.ceil(rows / maxRows);
  const base = Math.floor(rows / parts);
  const extra = rows % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

export interface HeadLossOptions {
  /** Rebuild each chunk's logits in the backward pass rather than keep them (activation checkpointing). */
  recompute?: boolean;
  /** Bytes one chunk's logits may take (tests use small values; default HEAD_CHUNK_BYTES). */
  chunkBytes?: number;
}

/**
 * Mean cross-entropy of the lm_head's logits over rows x [N, C] against targets [N]: in chunks on a GPU graph
 * whose logits would exceed `chunkBytes`, in one piece otherwise.
 */
export function headLoss(
  g: Graph,
  params: Record<string, Tensor>,
  x: Tensor,
  targets: Tensor,
  o: HeadLossOptions = {},
): Tensor {
  const wte = params['transformer.wte.weight'];
  const [n, vocab] = [x.shape[0], wte?.shape[0]];
  const sizes =
    g.portable && typeof n === 'number' && typeof vocab === 'number'
      ? headRowChunks(n, vocab, o.chunkBytes)
      : [];
  if (sizes.length < 2) return op.crossEntropy(g, lmHead(g, params, x), targets);
  return g.scope('head', () => chunkedHeadLoss(g, x, wte!, targets, sizes, o.recompute ?? false));
}

/**
 * The chunks' forward and backward written out (one differentiable op), so that the backward owns the order:
 * chunk by chunk, each chunk's weight gradient added into the running one by its product's C input
 * (∂wte = ∂z_rᵀ·x_r + ∂wte), and a rebuilt chunk's logits made only once the chunk before is done. Left to the
 * autodiff, every chunk's ∂wte [V, C] was a separate tensor alive until a later Add.
 *   forward, per chunk:  z_r = x_r·wteᵀ,  s_r = z_r − max z_r,  lse_r,  L += (n_r/N)·mean(lse_r − s_r[t])
 *   backward, per chunk: ∂z_r = (exp(s_r − lse_r) − onehot(t_r))·dL/N,  ∂x_r = ∂z_r·wte,  ∂wte += ∂z_rᵀ·x_r
 */
function chunkedHeadLoss(
  g: Graph,
  x: Tensor,
  wte: Tensor,
  targets: Tensor,
  sizes: readonly number[],
  recompute: boolean,
): Tensor {
  const n = x.shape[0] as number;
  const width = x.shape[1] as number;
  const vocab = wte.shape[0] as number;
  const float = (
    opType: string,
    ins: Tensor[],
    shape: Shape,
    attrs: Record<string, OnnxAttributeValue> = {},
  ) => g.emit1(opType, ins, shape, 'float32', attrs);
  const logitsOf = (xr: Tensor, rows: number) =>
    float('Gemm', [xr, wte], [rows, vocab], { transB: { int: 1 } });
  const chunks: { x: Tensor; t: Tensor; rows: number; shifted: Tensor | null; lse: Tensor }[] = [];
  let loss: Tensor | null = null;
  const wasRecording = g.recording;
  g.recording = false;
  try {
    // Rows split as one flat vector (they are contiguous): ONNX Runtime's WebGPU provider leaves a Split along
    // the first axis of a matrix to the CPU. The targets go through float32 (exact below 2²⁴): it has no int32
    // Split, and it fuses Slices that cover a tensor into one.
    const xs = op
      .split(
        g,
        op.reshape(g, x, [n * width]),
        0,
        sizes.map((rows) => rows * width),
      )
      .map((part, r) => op.reshape(g, part, [sizes[r]!, width]));
    const asFloat = float('Cast', [targets], targets.shape, { to: { int: 1 } });
    const ts = op
      .split(g, asFloat, 0, sizes)
      .map((t, r) =>
        g.emit1('Cast', [op.reshape(g, t, [sizes[r]!, 1])], [sizes[r]!, 1], 'int32', { to: { int: 6 } }),
      );
    for (const [r, rows] of sizes.entries()) {
      const rowsLoss = g.scope(`chunk${r}`, () => op.crossEntropyRows(g, logitsOf(xs[r]!, rows), ts[r]!));
      const weighted = float('Mul', [rowsLoss.loss, g.scalar(rows / n)], []);
      loss = loss ? float('Add', [loss, weighted], []) : weighted;
      chunks.push({
        x: xs[r]!,
        t: ts[r]!,
        rows,
        shifted: recompute ? null : rowsLoss.shifted,
        lse: rowsLoss.lse,
      });
    }
  } finally {
    g.recording = wasRecording;
  }
  g.record('headLoss', [x, wte], [loss!], ([dL]) => {
    const perRow = float('Mul', [dL!, g.scalar(1 / n)], []);
    let dW: Tensor | null = null;
    const dxs: Tensor[] = [];
    for (const [r, c] of chunks.entries()) {
      g.scope(`chunk${r}`, () => {
        let shifted = c.shifted;
        if (!shifted) {
          // x_r + 0·(the last ∂wte's first element, or dL): ONNX Runtime orders nodes depth-first from the
          // outputs, and would otherwise rebuild every chunk's logits before the first chunk's gradient
          const after = dW ? float('Slice', [dW, g.vector([0, 0]), g.vector([1, 1])], [1, 1]) : dL!;
          const xr = float('Add', [c.x, float('Mul', [after, g.scalar(0)], after.shape)], [c.rows, width]);
          shifted = op.shiftedRows(g, logitsOf(xr, c.rows));
        }
        const dz = op.crossEntropyRowsGradient(g, shifted, c.lse, c.t, perRow);
        dxs.push(op.reshape(g, float('Gemm', [dz, wte], [c.rows, width]), [c.rows * width]));
        dW = float('Gemm', dW ? [dz, c.x, dW] : [dz, c.x], [vocab, width], { transA: { int: 1 } });
      });
    }
    return [op.reshape(g, op.concat(g, dxs, 0), [n, width]), dW];
  });
  return loss!;
}
