import { backprop } from './autodiff.ts';
import type { AttentionSite, Graph, TapeEntry, Tensor } from './graph.ts';
import { add, dropoutKey, matmul, softmax } from './ops.ts';

/** A dropout site applied to attention's probabilities: its probability, its seed, and how it applies. */
export interface AttentionDropout {
  readonly p: number;
  readonly seed: number;
  /** The masked probabilities (a replayed, checkpointed block reuses its first pass's mask). */
  apply(probs: Tensor): Tensor;
}

/**
 * Causal self-attention of q, k, v [B, H, T, D]:
 *   y = dropout(softmax(scale·q·kᵀ + mask))·v
 * emitted as the ops it is made of (what ONNX Runtime runs) and differentiated as one op: its backward is
 * theirs, taken from a tape of its own. In a portable graph it is also recorded as an AttentionSite, by its
 * tensors, so that a backend with a fused attention kernel (dawn/attentionFusion.ts) can replace the nodes
 * that make y and its gradients with its own and never store the [B, H, T, T] scores.
 *
 * @param mask the additive causal mask [T, T] (0 on and below the diagonal, −∞ above)
 */
export function causalSelfAttention(
  g: Graph,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { scale: number; mask: Tensor; dropout: AttentionDropout | null },
): Tensor {
  const saved = g.tape;
  const local: TapeEntry[] = [];
  let y: Tensor;
  g.tape = local;
  try {
    let att = matmul(g, q, k, { transB: true, alpha: opts.scale }); // [B, H, T, T]
    att = softmax(g, add(g, att, opts.mask), -1);
    if (opts.dropout) att = opts.dropout.apply(att);
    y = matmul(g, att, v); // [B, H, T, D]
  } finally {
    g.tape = saved;
  }
  const site: AttentionSite | null = g.portable
    ? {
        q,
        k,
        v,
        y,
        scale: opts.scale,
        dropout: opts.dropout ? { p: opts.dropout.p, seed: opts.dropout.seed, key: dropoutKey(g) } : null,
        grad: null,
      }
    : null;
  if (site) g.attentionSites.push(site);
  g.record('causalSelfAttention', [q, k, v], [y], ([dy]) => {
    const grads = backprop(g, local, new Map([[y, dy!]]));
    const [dq, dk, dv] = [q, k, v].map((t) => grads.get(t) ?? null) as [
      Tensor | null,
      Tensor | null,
      Tensor | null,
    ];
    if (site) site.grad = { dy: dy!, dq, dk, dv };
    return [dq, dk, dv];
  });
  return y;
}
