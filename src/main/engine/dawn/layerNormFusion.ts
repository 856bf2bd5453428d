import type { GraphNode, LayerNormGradSite } from '../graph/graph.ts';
import { EXECUTOR_DOMAIN, edgesOf } from './graphEdit.ts';

/**
 * Each LayerNorm input gradient of the graph (ops.ts layerNorm records them as sites) is computed by one row
 * kernel (kernels/reduce.ts layerNormGradKernel): a LayerNormGrad node takes the place of the node that made the
 * site's ∂x. The graph's spelling of it, g = dy ⊙ w, x̂, mean(g), mean(g ⊙ x̂) and the combination, is four to
 * five kernels even fused (each row's means are reductions that the elementwise passes around them wait for) and
 * passes over [rows, C] tensors about seven times; the row kernel reads x and dy once and writes ∂x once. What the
 * unfused nodes computed only for ∂x is then read by nothing and not run; x̂ stays for ∂w (Σ dy ⊙ x̂), which the
 * executor then computes where that reduction reads it.
 */

/** The op type of the executor-only node this rewrite makes (in EXECUTOR_DOMAIN). */
export const LAYER_NORM_GRAD = 'LayerNormGrad';

export function fuseLayerNormGrads(
  nodes: readonly GraphNode[],
  sites: readonly LayerNormGradSite[],
): GraphNode[] {
  const { producer } = edgesOf(nodes);
  const replace = new Map<GraphNode, GraphNode>();
  for (const site of sites) {
    const made = producer.get(site.dx);
    if (!made || made.outputs.length !== 1 || replace.has(made)) continue;
    // the shapes are ops.ts layerNorm's (w [C] for x [..., C]); the kernel checks them again
    const { x, w, mean, invStd, dy, dx } = site;
    replace.set(made, {
      opType: LAYER_NORM_GRAD,
      domain: EXECUTOR_DOMAIN,
      inputs: [x, mean, invStd, w, dy],
      outputs: [dx],
      attributes: {},
    });
  }
  return nodes.map((n) => replace.get(n) ?? n);
}
