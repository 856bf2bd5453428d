import { Tensor, type AttentionSite, type GraphNode } from '../graph/graph.ts';
import { EXECUTOR_DOMAIN, edgesOf } from './graphEdit.ts';
import { attentionFits } from './kernels/attention.ts';

/**
 * Each causal self-attention of the graph (graph/attention.ts records them as sites) runs as the fused kernels
 * of kernels/attention.ts: a CausalAttention node produces the site's y (and the row log-sum-exps the backward
 * needs) from the packed qkv, and where the graph is differentiated a CausalAttentionGrad node produces its dqkv.
 * The unfused nodes that made them (the head transposes and split, the products, the mask add, Softmax, the
 * dropout hash, the softmax backward, and the concatenation and transposes of the backward) are then read by
 * nothing and are not run (graphEdit.ts liveNodes): per layer and step that is every pass over a [B, H, T, T]
 * tensor and every per-head copy of q, k, v and y.
 *
 * XAI_LINK_DAWN_ATTENTION=0 keeps the unfused nodes (to compare; `npm run bench:dawn-step` times both).
 */
export const attentionFusionEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.XAI_LINK_DAWN_ATTENTION !== '0';

const staticShape = (t: Tensor): number[] | null =>
  t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]) : null;

export function fuseAttention(nodes: readonly GraphNode[], sites: readonly AttentionSite[]): GraphNode[] {
  const { producer } = edgesOf(nodes);
  const replace = new Map<GraphNode, GraphNode>(); // an unfused node → the fused node taking its place
  const before = new Map<GraphNode, GraphNode[]>(); // fused nodes to insert before an existing node
  for (const site of sites) {
    const packed = staticShape(site.qkv);
    const merged = staticShape(site.y);
    if (!packed || !merged || typeof site.seq !== 'number' || packed.length !== 2 || merged.length !== 2)
      continue;
    const [rows, width] = packed as [number, number];
    const t = site.seq;
    const h = site.heads;
    const c = width / 3;
    if (rows % t !== 0 || c % h !== 0 || merged[0] !== rows || merged[1] !== c) continue;
    if (!attentionFits([rows / t, h, t, c / h])) continue;
    const yNode = producer.get(site.y);
    const grad = site.grad;
    const gradNode = grad?.dqkv ? producer.get(grad.dqkv) : undefined;
    const withGrad = gradNode !== undefined && gradNode.outputs.length === 1 && !replace.has(gradNode);
    if (!yNode && !withGrad) continue; // neither the forward nor the backward is run
    if (yNode && (yNode.outputs.length !== 1 || replace.has(yNode))) continue;
    const key = site.dropout ? [site.dropout.key] : [];
    const attributes = {
      heads: { int: h },
      seq: { int: t },
      scale: site.scale,
      p: site.dropout?.p ?? 0,
      seed: { int: site.dropout?.seed ?? 0 },
    };
    const lse = new Tensor(`${site.y.name}.lse`, [rows / t, h, t], 'float32');
    const forward: GraphNode = {
      opType: 'CausalAttention',
      domain: EXECUTOR_DOMAIN,
      inputs: [site.qkv, ...key],
      outputs: [site.y, lse],
      attributes,
    };
    if (withGrad) {
      // in place of the node that made dqkv: after dy, before anything that reads it
      replace.set(gradNode, {
        opType: 'CausalAttentionGrad',
        domain: EXECUTOR_DOMAIN,
        inputs: [site.qkv, site.y, lse, grad!.dy, ...key],
        outputs: [grad!.dqkv!],
        attributes,
      });
      // a recomputed (checkpointed) block's forward may be read only by its backward
      if (!yNode) before.set(gradNode, [forward]);
    }
    if (yNode) replace.set(yNode, forward);
  }
  return nodes.flatMap((n) => [...(before.get(n) ?? []), replace.get(n) ?? n]);
}
