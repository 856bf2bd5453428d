import type { GraphNode, Tensor } from '../graph/graph.ts';
import { isOnnx } from './graphEdit.ts';

/**
 * Transposes of the last two axes that only feed matrix products are not run: the product reads the
 * untransposed tensor with its operand marked transposed (MatMul's executor-only `transA`/`transB`, see
 * kernels/matmul.ts), and the loaders index it in that order. Attention has four such transposes per layer
 * (kᵀ forward; Pᵀ, dSᵀ and the like backward), each a full pass over a [B, H, T, T] or [B, H, T, D] tensor.
 */
export function foldTransposesIntoProducts(
  nodes: readonly GraphNode[],
  /** Tensors that must exist as computed (graph outputs). */
  fixed: (t: Tensor) => boolean,
): GraphNode[] {
  const swapsLastTwo = (n: GraphNode): boolean => {
    if (n.opType !== 'Transpose' || !isOnnx(n) || !n.inputs[0]) return false;
    const perm = n.attributes.perm;
    const rank = n.inputs[0].shape.length;
    if (!perm || typeof perm !== 'object' || !('ints' in perm) || rank < 2) return false;
    return perm.ints.every((p, d) => p === (d < rank - 2 ? d : d === rank - 2 ? rank - 1 : rank - 2));
  };
  const transposeOf = new Map<Tensor, GraphNode>();
  for (const n of nodes) if (swapsLastTwo(n) && !fixed(n.outputs[0]!)) transposeOf.set(n.outputs[0]!, n);
  const isMatMul = (n: GraphNode) => n.opType === 'MatMul' && isOnnx(n);

  // a transpose nothing reads any more stays in the list: the executor runs only live nodes (graphEdit.ts)
  const rewritten = nodes.map((n) => {
    if (!isMatMul(n)) return n;
    const [a, b] = n.inputs;
    const ta = a ? transposeOf.get(a) : undefined;
    const tb = b ? transposeOf.get(b) : undefined;
    if (!ta && !tb) return n;
    const attributes = { ...n.attributes };
    if (ta) attributes.transA = { int: 1 };
    if (tb) attributes.transB = { int: 1 };
    return {
      ...n,
      inputs: [ta ? ta.inputs[0]! : a!, tb ? tb.inputs[0]! : b!, ...n.inputs.slice(2)],
      attributes,
    };
  });
  return rewritten;
}
