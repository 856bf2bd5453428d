import { Tensor, type AttentionSite, type GraphNode } from '../graph/graph.ts';
import { edgesOf } from './graphEdit.ts';
import { attentionFits } from './kernels/attention.ts';

/**
 * Each causal self-attention of the graph (graph/attention.ts records them as sites) runs as the fused kernels
 * of kernels/attention.ts: a CausalAttention node produces the site's y (and the row log-sum-exps the backward
 * needs), and where the graph is differentiated a CausalAttentionGrad node produces its dq, dk and dv. The
 * unfused nodes that made them (the products, the mask add, Softmax, the dropout hash, the softmax backward)
 * are then read by nothing and are not run (graphEdit.ts liveNodes): per layer and step that is every pass
 * over a [B, H, T, T] tensor.
 *
 * XAI_LINK_DAWN_ATTENTION=0 keeps the unfused nodes (to compare; `npm run bench:dawn-step` times both).
 */
export const attentionFusionEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.XAI_LINK_DAWN_ATTENTION !== '0';

/** The executor-only op types this rewrite makes (domain `xai.link`). */
export const FUSED_ATTENTION_OPS = ['CausalAttention', 'CausalAttentionGrad'] as const;
export const FUSED_ATTENTION_DOMAIN = 'xai.link';

const staticShape = (t: Tensor): number[] | null =>
  t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]) : null;

export function fuseAttention(
  nodes: readonly GraphNode[],
  sites: readonly AttentionSite[],
): { nodes: GraphNode[]; fused: number } {
  const { producer } = edgesOf(nodes);
  const replace = new Map<GraphNode, GraphNode>(); // an unfused node → the fused node taking its place
  const before = new Map<GraphNode, GraphNode[]>(); // fused nodes to insert before an existing node
  let fused = 0;
  for (const site of sites) {
    const shape = staticShape(site.q);
    const same = (t: Tensor) => staticShape(t)?.join() === shape?.join();
    if (!shape || !attentionFits(shape) || ![site.k, site.v, site.y].every(same)) continue;
    const yNode = producer.get(site.y);
    const grad = site.grad;
    const gradNodes = grad && [grad.dq, grad.dk, grad.dv].map((t) => (t ? producer.get(t) : undefined));
    const withGrad =
      grad !== null &&
      gradNodes !== null &&
      gradNodes.every((n) => n !== undefined && n.outputs.length === 1 && !replace.has(n)) &&
      new Set(gradNodes).size === 3;
    if (!yNode && !withGrad) continue; // neither the forward nor the backward is run
    if (yNode && (yNode.outputs.length !== 1 || replace.has(yNode))) continue;
    const [b, h, t] = shape as [number, number, number, number];
    const key = site.dropout ? [site.dropout.key] : [];
    const attributes = {
      scale: site.scale,
      p: site.dropout?.p ?? 0,
      seed: { int: site.dropout?.seed ?? 0 },
    };
    const lse = new Tensor(`${site.y.name}.lse`, [b, h, t], 'float32');
    const forward: GraphNode = {
      opType: 'CausalAttention',
      domain: FUSED_ATTENTION_DOMAIN,
      inputs: [site.q, site.k, site.v, ...key],
      outputs: [site.y, lse],
      attributes,
    };
    if (withGrad) {
      const backward: GraphNode = {
        opType: 'CausalAttentionGrad',
        domain: FUSED_ATTENTION_DOMAIN,
        inputs: [site.q, site.k, site.v, site.y, lse, grad.dy, ...key],
        outputs: [grad.dq!, grad.dk!, grad.dv!],
        attributes,
      };
      // in place of the first of the nodes that made dq, dk and dv: after dy, before anything that reads them
      const first = nodes.find((n) => gradNodes.includes(n))!;
      replace.set(first, backward);
      for (const n of gradNodes) if (n !== first) replace.set(n!, DROPPED);
      // a recomputed (checkpointed) block's forward may be read only by its backward
      if (!yNode) before.set(first, [forward]);
    }
    if (yNode) replace.set(yNode, forward);
    fused++;
  }
  const out: GraphNode[] = [];
  for (const n of nodes) {
    out.push(...(before.get(n) ?? []));
    const r = replace.get(n);
    if (r !== DROPPED) out.push(r ?? n);
  }
  return { nodes: out, fused };
}

/** Marks an unfused node whose output the fused backward now makes. */
const DROPPED: GraphNode = { opType: '', domain: '', inputs: [], outputs: [], attributes: {} };
