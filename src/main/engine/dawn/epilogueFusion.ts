import type { GraphNode } from '../graph/graph.ts';
import { elementwiseChainOf, type FusedGroup, type FusionContext } from './fusion.ts';
import { EXECUTOR_DOMAIN, edgesOf, isOnnx, sameShape, spliceNodes } from './graphEdit.ts';
import type { FusedMember, FusedSource } from './kernels/fused.ts';
import { MAX_STORAGE_BUFFERS } from './kernels/perElement.ts';
import { LAYER_NORM_GRAD } from './layerNormFusion.ts';

/**
 * A matrix product whose result only feeds one elementwise kernel of the same shape (a Linear's output into
 * its residual add and dropout, attention scores into the causal mask) applies that kernel where it stores its
 * result (kernels/fused.ts productEpilogue): the product's output is never written or read back. LayerNorm's
 * input-gradient kernel (layerNormFusion.ts) takes an epilogue the same way: the residual stream's gradient
 * that it is added to.
 */

export interface ProductEpilogueNode {
  /** The node that replaces the product and its consumer (opType "ProductEpilogue"). */
  readonly node: GraphNode;
  /** The product (MatMul or Gemm) or LayerNormGrad: its op type and attributes. */
  readonly product: GraphNode;
  /** The elementwise members; the product's result is the source { leaf: node.inputs.length }. */
  readonly members: readonly FusedMember[];
}

/**
 * The nodes that take an epilogue, by op type: the inputs each binds before the epilogue's (absent optional ones
 * included: Gemm's C keeps its place, input 2) and its other buffers (its output, and a product's split-K scratch).
 * The epilogue's tensors get the storage bindings left.
 */
const EPILOGUE_TAKERS: Readonly<Record<string, { domain: string; operands: number; own: number }>> = {
  MatMul: { domain: '', operands: 2, own: 2 },
  Gemm: { domain: '', operands: 3, own: 2 },
  [LAYER_NORM_GRAD]: { domain: EXECUTOR_DOMAIN, operands: 5, own: 1 },
};

const takerOf = (n: GraphNode) => {
  const taker = Object.hasOwn(EPILOGUE_TAKERS, n.opType) ? EPILOGUE_TAKERS[n.opType] : undefined;
  const domain = isOnnx(n) ? '' : n.domain;
  return taker && taker.domain === domain && n.outputs.length === 1 ? taker : null;
};

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
          takerOf(p) !== null &&
          !absorbed.has(p) &&
          !ctx.fixed(t) &&
          t.dtype === 'float32' &&
          sameShape(t, out) &&
          consumers.get(t)!.size === 1,
      );
    if (!product) continue;
    const others = chain.leaves.filter((t) => t !== product.t);
    const g = product.p!;
    const { operands: count, own } = takerOf(g)!;
    if (others.length > MAX_STORAGE_BUFFERS - count - own) continue;
    const operands = [...g.inputs, ...new Array<null>(Math.max(0, count - g.inputs.length)).fill(null)];
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
