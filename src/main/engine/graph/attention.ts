import { backprop } from './autodiff.ts';
import {
  GraphShapeError,
  type AttentionSite,
  type Dim,
  type Graph,
  type TapeEntry,
  type Tensor,
} from './graph.ts';
import { add, dropoutKey, matmul, reshape, softmax, split, transpose } from './ops.ts';

/** A dropout site applied to attention's probabilities: its probability, its seed, and how it applies. */
export interface AttentionDropout {
  readonly p: number;
  readonly seed: number;
  /** The masked probabilities (a replayed, checkpointed block reuses its first pass's mask). */
  apply(probs: Tensor): Tensor;
}

/**
 * Causal self-attention of a Linear's packed projections qkv [B·T, 3C] (q, k, v side by side, each H heads of
 * D = C/H), the heads merged back into rows [B·T, C]:
 *   q, k, v = the heads of qkv            [B, H, T, D] each (a transpose and a split)
 *   y = dropout(softmax(scale·q·kᵀ + mask))·v
 *   out = the heads of y side by side     [B·T, C]
 * emitted as the ops it is made of (what ONNX Runtime runs) and differentiated as one op: its backward is
 * theirs, taken from a tape of its own. In a portable graph it is also recorded as an AttentionSite, by its
 * tensors, so that a backend with a fused attention kernel (dawn/attentionFusion.ts) can replace the nodes
 * that make `out` and its gradient with its own: then neither the [B, H, T, T] scores nor the per-head copies of
 * q, k, v and y are stored.
 *
 * @param mask the additive causal mask [T, T] (0 on and below the diagonal, −∞ above)
 */
export function causalSelfAttention(
  g: Graph,
  qkv: Tensor,
  opts: {
    batch: Dim;
    seq: Dim;
    heads: number;
    scale: number;
    mask: Tensor;
    dropout: AttentionDropout | null;
  },
): Tensor {
  const { batch: B, seq: T, heads: H } = opts;
  const width = qkv.shape[1];
  if (qkv.rank !== 2 || typeof width !== 'number' || width % (3 * H) !== 0)
    throw new GraphShapeError(
      `causalSelfAttention: qkv ${qkv} must be [rows, 3·C] with C a multiple of ${H}`,
    );
  const C = width / 3;
  const D = C / H;
  const saved = g.tape;
  const local: TapeEntry[] = [];
  let out: Tensor;
  g.tape = local;
  try {
    // [B·T, 3C] → [B, T, 3, H, D] → [3, B, H, T, D]: q, k, v per head in one transpose
    const heads = transpose(g, reshape(g, qkv, [B, T, 3, H, D]), [2, 0, 3, 1, 4]);
    const [q, k, v] = split(g, heads, 0, [1, 1, 1]).map((t) => reshape(g, t, [B, H, T, D])) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    let att = matmul(g, q, k, { transB: true, alpha: opts.scale }); // [B, H, T, T]
    att = softmax(g, add(g, att, opts.mask), -1);
    if (opts.dropout) att = opts.dropout.apply(att);
    const y = matmul(g, att, v); // [B, H, T, D]
    out = reshape(g, transpose(g, y, [0, 2, 1, 3]), [-1, C]); // [B·T, C]
  } finally {
    g.tape = saved;
  }
  const site: AttentionSite | null = g.portable
    ? {
        qkv,
        y: out,
        heads: H,
        seq: T,
        scale: opts.scale,
        dropout: opts.dropout ? { p: opts.dropout.p, seed: opts.dropout.seed, key: dropoutKey(g) } : null,
        grad: null,
      }
    : null;
  if (site) g.attentionSites.push(site);
  g.record('causalSelfAttention', [qkv], [out], ([dy]) => {
    const dqkv = backprop(g, local, new Map([[out, dy!]])).get(qkv) ?? null;
    if (site) site.grad = { dy: dy!, dqkv };
    return [dqkv];
  });
  return out;
}
