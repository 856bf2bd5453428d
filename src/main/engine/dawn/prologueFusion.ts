import type { GraphNode } from '../graph/graph.ts';
import { elementwiseChainOf, type FusedGroup, type FusionContext } from './fusion.ts';
import { edgesOf, isOnnx, spliceNodes } from './graphEdit.ts';
import type { FusedMember } from './kernels/fused.ts';
import { MAX_STORAGE_BUFFERS } from './kernels/perElement.ts';

/**
 * A reduction whose data input is an elementwise kernel's result that nothing else reads (the causal mask added
 * before Softmax, dy·x before the ReduceSum of a LayerNorm's backward) computes that kernel where it reads its
 * input (kernels/fused.ts reductionPrologue): the input is never stored.
 */

export interface ReductionPrologueNode {
  readonly node: GraphNode;
  /** The reduction: its op type and attributes. */
  readonly reduction: GraphNode;
  /** The elementwise members; leaf sources index the node's inputs. */
  readonly members: readonly FusedMember[];
}

/** Reductions that read their data input (input 0) only as x[…] of one binding, and their inputs' arity. */
const ARITY: Readonly<Record<string, number>> = {
  Softmax: 1,
  LayerNormalization: 3,
  ReduceSum: 2,
  ReduceMean: 2,
  ReduceSumSquare: 2,
  ReduceMax: 2,
};

export function fuseReductionPrologues(
  nodes: readonly GraphNode[],
  groups: ReadonlyMap<GraphNode, FusedGroup>,
  ctx: FusionContext,
): { nodes: GraphNode[]; prologues: Map<GraphNode, ReductionPrologueNode> } {
  const { consumers, producer } = edgesOf(nodes);
  const absorbed = new Set<GraphNode>();
  const replaced = new Map<GraphNode, GraphNode>();
  const prologues = new Map<GraphNode, ReductionPrologueNode>();
  for (const reduction of nodes) {
    const arity = ARITY[reduction.opType];
    if (arity === undefined || !isOnnx(reduction)) continue;
    if (ctx.excluded(reduction) || reduction.inputs.length > arity) continue;
    const x = reduction.inputs[0];
    const p = x && producer.get(x);
    if (!x || !p || x.dtype !== 'float32' || ctx.fixed(x) || consumers.get(x)!.size !== 1) continue;
    const chain = elementwiseChainOf(p, groups, ctx);
    if (!chain) continue;
    // The pass that reads the input keeps its other bindings (LayerNormalization: scale, bias and its outputs; a
    // reduction: where it writes, its output or a scratch buffer); the prologue gets the rest.
    const own =
      reduction.opType === 'LayerNormalization'
        ? reduction.inputs.slice(1).filter(Boolean).length + reduction.outputs.length
        : 2;
    if (chain.leaves.length > MAX_STORAGE_BUFFERS - own) continue;
    const operands = [null, ...reduction.inputs.slice(1)];
    while (operands.length < arity) operands.push(null);
    const members = chain.members.map((m) => ({
      request: m.request,
      sources: m.sources.map((s) => (s && 'leaf' in s ? { leaf: arity + s.leaf } : s)),
    }));
    const node: GraphNode = {
      opType: 'ReductionPrologue',
      domain: '',
      inputs: [...operands, ...chain.leaves],
      outputs: reduction.outputs,
      attributes: reduction.attributes,
    };
    prologues.set(node, { node, reduction, members });
    absorbed.add(p);
    replaced.set(reduction, node);
  }
  return { nodes: spliceNodes(nodes, absorbed, replaced), prologues };
}
