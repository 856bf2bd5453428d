import type { GraphNode, Tensor } from '../graph/graph.ts';
import { edgesOf, isOnnx } from './graphEdit.ts';

/**
 * A tensor scaled by a constant only to be multiplied (attention's q·1/√d, and its gradients) is not scaled: the
 * products that read it multiply their sums by the constant instead (Gemm's α; MatMul's executor-only `alpha`,
 * kernels/matmul.ts). (s·x)·y and s·(x·y) differ by rounding only.
 */
export function foldScalesIntoProducts(
  nodes: readonly GraphNode[],
  /** Tensors that must exist as computed (graph outputs). */
  fixed: (t: Tensor) => boolean,
  /** The single value of a tensor known when the graph is compiled, if any. */
  scalarOf: (t: Tensor) => number | null,
): GraphNode[] {
  const isProduct = (n: GraphNode) => (n.opType === 'MatMul' || n.opType === 'Gemm') && isOnnx(n);
  const { consumers } = edgesOf(nodes);
  /** Mul outputs that only products read as A or B: the tensor scaled and the scale. */
  const scaled = new Map<Tensor, { x: Tensor; s: number }>();
  for (const n of nodes) {
    if (n.opType !== 'Mul' || !isOnnx(n) || n.outputs.length !== 1) continue;
    const out = n.outputs[0]!;
    if (out.dtype !== 'float32' || fixed(out)) continue;
    const [p, q] = n.inputs;
    if (!p || !q) continue;
    const sp = scalarOf(p);
    const sq = scalarOf(q);
    const [x, s] = sq !== null ? [p, sq] : sp !== null ? [q, sp] : [null, null];
    if (!x || s === null || !Number.isFinite(Math.fround(s))) continue;
    if (x.shape.length !== out.shape.length || x.shape.some((d, i) => d !== out.shape[i])) continue;
    const rs = [...(consumers.get(out) ?? [])];
    if (rs.length === 0 || !rs.every((r) => isProduct(r) && r.inputs[2] !== out)) continue;
    scaled.set(out, { x, s });
  }
  // a scaling nothing reads any more stays in the list: the executor runs only live nodes (graphEdit.ts)
  return nodes.map((n) => {
    if (!isProduct(n) || !n.inputs.slice(0, 2).some((t) => t && scaled.has(t))) return n;
    const alpha0 = n.attributes.alpha;
    let alpha = typeof alpha0 === 'number' ? alpha0 : 1;
    const inputs = n.inputs.map((t, i) => {
      const f = i < 2 && t ? scaled.get(t) : undefined;
      if (!f) return t;
      alpha *= f.s;
      return f.x;
    });
    return { ...n, inputs, attributes: { ...n.attributes, alpha: Math.fround(alpha) } };
  });
}
