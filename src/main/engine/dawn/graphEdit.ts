import type { GraphNode, Tensor } from '../graph/graph.ts';

/** What the executor's graph rewrites (fusion.ts and its siblings) share: the graph's edges and how to edit it. */

/**
 * The domain of nodes only the executor's rewrites make and only its kernels run (CausalAttention,
 * CausalAttentionGrad, LayerNormGrad): never part of an ONNX model.
 */
export const EXECUTOR_DOMAIN = 'xai.link';

/** A node of the standard ONNX domain. */
export const isOnnx = (n: GraphNode): boolean => n.domain === '' || n.domain === 'ai.onnx';

export const sameShape = (a: Tensor, b: Tensor): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** Who reads each tensor and who writes it. */
export function edgesOf(nodes: readonly GraphNode[]): {
  consumers: ReadonlyMap<Tensor, ReadonlySet<GraphNode>>;
  producer: ReadonlyMap<Tensor, GraphNode>;
} {
  const consumers = new Map<Tensor, Set<GraphNode>>();
  const producer = new Map<Tensor, GraphNode>();
  for (const n of nodes) {
    for (const t of n.inputs) if (t) (consumers.get(t) ?? consumers.set(t, new Set()).get(t)!).add(n);
    for (const t of n.outputs) producer.set(t, n);
  }
  return { consumers, producer };
}

/** The nodes with `absorbed` left out and each key of `replaced` swapped for its new node, in place. */
export function spliceNodes(
  nodes: readonly GraphNode[],
  absorbed: ReadonlySet<GraphNode>,
  replaced: ReadonlyMap<GraphNode, GraphNode>,
): GraphNode[] {
  return nodes.flatMap((n) => (absorbed.has(n) ? [] : [replaced.get(n) ?? n]));
}

/** The nodes some graph output depends on, in their order: what a rewrite left unread is not run. */
export function liveNodes(nodes: readonly GraphNode[], outputs: readonly Tensor[]): GraphNode[] {
  const needed = new Set(outputs);
  const kept: GraphNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const t of n.inputs) if (t) needed.add(t);
  }
  return kept.reverse();
}
