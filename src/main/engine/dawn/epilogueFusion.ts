import type { GraphNode } from '../graph/graph.ts';
import { elementwiseChainOf, type FusedGroup, type FusionContext } from './fusion.ts';
import { edgesOf, isOnnx, sameShape, spliceNodes } from './graphEdit.ts';
import type { FusedMember, FusedSource } from './kernels/fused.ts';
import { MAX_STORAGE_BUFFERS } from './kernels/perElement.ts';

/**
 * A matrix product whose result only feeds one elementwise kernel of the same shape (a Linear's output into
 * its residual add and dropout, attention scores into the causal mask) applies that kernel where it stores its
 * result (kernels/fused.ts productEpilogue): the product's output is never written or read back.
 */

export interface ProductEpilogueNode {
  /** The node that replaces the product and its consumer (opType "ProductEpilogue"). */
  readonly node: GraphNode;
  /** The product (MatMul or Gemm): its op type and attributes. */
  readonly product: GraphNode;
  /** The elementwise members; the product's result is the source { leaf: node.inputs.length }. */
  readonly members: readonly FusedMember[];
}

/** A product binds A, B, C, its output and a split-K scratch buffer; the epilogue gets what is left. */
export const MAX_EPILOGUE_LEAVES = MAX_STORAGE_BUFFERS - 5;

const isProduct = (n: GraphNode) =>
  (n.opType === 'MatMul' || n.opType === 'Gemm') && isOnnx(n) && n.outputs.length === 1;

export function fuseProductEpilogues(
  nodes: readonly GraphNode[],
  groups: ReadonlyMap<GraphNode, FusedGroup>,
  ctx: FusionContext,
): { nodes: GraphNode[]; epilogues: Map<GraphNode, ProductEpilogueNode> } {
  const { consumers, producer } = edgesOf(nodes);
  const absorbed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  const epilogues = new Map<GraphNode, ProductEpilogueNode>();
  for (const consumer of nodes) {
    const out = consumer.outputs[0];
    if (!out || out.dtype !== 'float32') continue;
    const chain = elementwiseChainOf(consumer, groups, ctx);
    if (!chain) continue;
    const product = chain.leaves
      .map((t) => ({ t, p: producer.get(t) }))
      .find(
        ({ t, p }) =>
          p !== undefined &&
          isProduct(p) &&
          !absorbed.has(p) &&
          !ctx.fixed(t) &&
          t.dtype === 'float32' &&
          sameShape(t, out) &&
          consumers.get(t)!.size === 1,
      );
    if (!product) continue;
    const others = chain.leaves.filter((t) => t !== product.t);
    if (others.length > MAX_EPILOGUE_LEAVES) continue;
    const g = product.p!;
    // Gemm's optional C keeps its place (input 2), so the epilogue's tensors start after it
    const operands = [
      ...g.inputs,
      ...new Array<null>(Math.max(0, (g.opType === 'Gemm' ? 3 : 2) - g.inputs.length)).fill(null),
    ];
    const inputs = [...operands, ...others];
    const value = inputs.length;
    const remap = (s: FusedSource | null): FusedSource | null => {
      if (!s || !('leaf' in s)) return s;
      const t = chain.leaves[s.leaf]!;
      return { leaf: t === product.t ? value : operands.length + others.indexOf(t) };
    };
    const members = chain.members.map((m) => ({ request: m.request, sources: m.sources.map(remap) }));
    const node: GraphNode = {
      opType: 'ProductEpilogue',
      domain: '',
      inputs,
      outputs: [out],
      attributes: g.attributes,
    };
    epilogues.set(node, { node, product: g, members });
    absorbed.add(g);
    replaced.set(consumer, node);
  }
  return { nodes: spliceNodes(nodes, absorbed, replaced), epilogues };
}
