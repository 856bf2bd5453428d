import type { GraphNode, Tensor } from '../graph/graph.ts';
import { edgesOf, isOnnx, sameShape, spliceNodes } from './graphEdit.ts';
import { elementMaps } from './kernels/elementwise.ts';
import { isScalarLiteral, MAX_FUSED_LEAVES, type FusedMember, type FusedSource } from './kernels/fused.ts';
import { kernelTypeOf, type KernelRequest } from './kernel.ts';

/**
 * Which elementwise nodes of a graph the Dawn executor runs as one kernel (kernels/fused.ts). A node joins its
 * consumers' kernel when every node that reads its output is in that kernel, its output has the kernel's output
 * shape (so every member indexes its operands from the same coordinates), and it is no output of the graph; a
 * group's intermediate tensors are therefore never stored, and it runs where its last member ran, after
 * everything its inputs need. A group reads at most MAX_FUSED_LEAVES tensors (scalars known when the graph is compiled are
 * literals and bind nothing).
 *
 * A tensor that is also read outside the kernel is recomputed in it, not read, when the chain that makes it reads
 * only what the kernel reads anyway (or single values, or the element's own index): recomputing costs arithmetic,
 * which a memory-bound kernel has to spare, and reading costs bytes. The dropout mask a forward pass applies and its
 * backward pass applies again is such a tensor (index and key only), and so is GELU's Φ(x), which both passes
 * compute from x. When every reader recomputes it, it is never stored: no pass writes it, and no buffer holds it
 * from the forward pass to the backward pass (the executor leaves unread nodes out).
 */

export interface FusedGroup {
  /** The node that replaces the group in the executor's program (opType "FusedElementwise"). */
  readonly node: GraphNode;
  /**
   * The original nodes, in the order they compute; the last one's output is the group's. Some may be recomputed
   * copies: nodes that still run on their own for other readers (see `recomputed`).
   */
  readonly nodes: readonly GraphNode[];
  /** Members the kernel recomputes rather than absorbs: their outputs are read outside it too. */
  readonly recomputed: ReadonlySet<GraphNode>;
  /** The kernel's members (requests from `requestOf`) and its inputs. */
  readonly members: readonly FusedMember[];
  readonly leaves: readonly Tensor[];
}

export interface FusionPlan {
  /** The program's nodes with every group of two or more replaced by its node, in an order that still computes. */
  readonly nodes: readonly GraphNode[];
  readonly groups: ReadonlyMap<GraphNode, FusedGroup>;
}

export interface FusionContext {
  /** Tensors that are computed once (constant nodes) or are the graph's outputs: never fused through. */
  readonly fixed: (t: Tensor) => boolean;
  /** Nodes that must run alone (constants, views). */
  readonly excluded: (n: GraphNode) => boolean;
  /** The single value of a tensor known when the graph is compiled, if any. */
  readonly scalarOf: (t: Tensor) => number | null;
  /** Whether a tensor holds each element's own linear index (0, 1, 2, …): a kernel computes it, binds nothing. */
  readonly isLinearIndex: (t: Tensor) => boolean;
  /** The kernel request the executor makes for a node. */
  readonly requestOf: (n: GraphNode) => KernelRequest;
}

/**
 * XAI_LINK_DAWN_FUSION=0 runs every ONNX node as its own kernel (none of the executor's graph rewrites): for
 * profiles that want one figure per node, and to compare (`npm run bench:dawn-step` times both).
 */
export const fusionEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.XAI_LINK_DAWN_FUSION !== '0';

export function planFusion(nodes: readonly GraphNode[], ctx: FusionContext): FusionPlan {
  const { consumers, producer } = edgesOf(nodes);
  const order = new Map<GraphNode, number>(nodes.map((n, i) => [n, i]));
  const fusable = (n: GraphNode) => isElementwise(n) && !ctx.excluded(n);
  const scalar = (t: Tensor) => literalScalar(ctx, t);
  /** The tensors a node reads that a kernel of output `out` would bind. */
  const reads = (n: GraphNode, out: Tensor) =>
    n.inputs.filter(
      (t): t is Tensor => t !== null && scalar(t) === null && !(ctx.isLinearIndex(t) && sameShape(t, out)),
    );

  /**
   * The nodes (in computing order) that make `t`, of the kernel's output shape `out`, from tensors in `bound` (what
   * the kernel already binds), single values and the element's index; with the single values it would newly bind.
   * Null when the chain would read another tensor or take more than MAX_RECOMPUTED nodes.
   */
  const recomputation = (
    t: Tensor,
    bound: ReadonlySet<Tensor>,
    out: Tensor,
  ): { nodes: GraphNode[]; reads: Tensor[] } | null => {
    // a tensor broadcast into the kernel's shape is read per row or column: recomputing it per element is not cheaper
    if (!sameShape(t, out)) return null;
    const chain: GraphNode[] = [];
    const extra = new Set<Tensor>();
    const seen = new Set<Tensor>();
    const visit = (u: Tensor): boolean => {
      if (seen.has(u)) return true;
      seen.add(u);
      if (u !== t && bound.has(u)) return true;
      if (scalar(u) !== null || (ctx.isLinearIndex(u) && sameShape(u, out))) return true;
      if (u !== t && isSingleValue(u)) {
        extra.add(u);
        return true;
      }
      const p = producer.get(u);
      if (!p || !fusable(p) || ctx.fixed(u) || !sameShape(u, out) || chain.length >= MAX_RECOMPUTED)
        return false;
      if (!p.inputs.every((i) => i === null || visit(i))) return false;
      chain.push(p);
      return true;
    };
    return visit(t) ? { nodes: chain, reads: [...extra] } : null;
  };

  const assigned = new Set<GraphNode>();
  const groups = new Map<GraphNode, FusedGroup>();
  const replaced = new Map<GraphNode, GraphNode>(); // root → the group's node
  const absorbed = new Set<GraphNode>(); // members other than the root
  for (let i = nodes.length - 1; i >= 0; i--) {
    const root = nodes[i]!;
    if (assigned.has(root) || !fusable(root)) continue;
    assigned.add(root);
    const out = root.outputs[0]!;
    const members = [root];
    const inGroup = new Set(members);
    let leaves = new Set(reads(root, out));
    // Breadth first from the root: a producer joins once every reader of its output has joined, so a value
    // read by two members (the dropout hash's shared terms) is computed once, in a register.
    for (let q = 0; q < members.length; q++) {
      for (const t of members[q]!.inputs) {
        const p = t && producer.get(t);
        if (!t || !p || assigned.has(p) || !fusable(p) || ctx.fixed(t) || !sameShape(t, out)) continue;
        if (![...consumers.get(t)!].every((c) => inGroup.has(c))) continue;
        const next = new Set(leaves);
        next.delete(t);
        for (const r of reads(p, out)) next.add(r);
        if (next.size > MAX_FUSED_LEAVES) continue;
        leaves = next;
        members.push(p);
        inGroup.add(p);
        assigned.add(p);
      }
    }
    // Then the tensors it still reads that it could recompute from what it reads anyway (they stay where they
    // are for their other readers; a recomputed chain is not absorbed, so no other group loses it).
    const recomputed = new Set<GraphNode>();
    for (let changed = true; changed;) {
      changed = false;
      for (const t of leaves) {
        const chain = recomputation(t, leaves, out);
        if (!chain) continue;
        const next = new Set(leaves);
        next.delete(t);
        for (const r of chain.reads) next.add(r);
        for (const m of chain.nodes) next.delete(m.outputs[0]!);
        if (next.size > MAX_FUSED_LEAVES) continue;
        leaves = next;
        for (const m of chain.nodes) {
          if (inGroup.has(m)) continue;
          members.push(m);
          inGroup.add(m);
          recomputed.add(m);
        }
        changed = true;
        break;
      }
    }
    if (members.length === 1) continue;
    members.sort((a, b) => order.get(a)! - order.get(b)!);
    const leafList = [...leaves];
    const memberIndex = new Map(members.map((m, j) => [m.outputs[0]!, j]));
    const fusedMembers: FusedMember[] = members.map((m) => ({
      request: ctx.requestOf(m),
      sources: m.inputs.map((t): FusedSource | null => {
        if (!t) return null;
        const j = memberIndex.get(t);
        if (j !== undefined) return { member: j };
        const v = scalar(t);
        if (v !== null) return { scalar: v };
        return leaves.has(t) ? { leaf: leafList.indexOf(t) } : { index: true };
      }),
    }));
    const node: GraphNode = {
      opType: 'FusedElementwise',
      domain: '',
      inputs: leafList,
      outputs: [out],
      attributes: {},
    };
    const group = { node, nodes: members, recomputed, members: fusedMembers, leaves: leafList };
    groups.set(node, group);
    replaced.set(root, node);
    for (const m of members) if (m !== root && !recomputed.has(m)) absorbed.add(m);
  }
  return { nodes: spliceNodes(nodes, absorbed, replaced), groups };
}

/**
 * The most nodes a kernel recomputes for one tensor it would otherwise read: the dropout mask's hash, compare and
 * select are 11, GELU's Φ 4.
 */
const MAX_RECOMPUTED = 16;

/** A tensor of one element (a scalar computed on the device, such as a dropout site's key): bound, not streamed. */
const isSingleValue = (t: Tensor): boolean => t.shape.every((d) => d === 1);

/** An ONNX elementwise node with one output: what a fused kernel can compute. */
const isElementwise = (n: GraphNode): boolean =>
  isOnnx(n) && n.opType in elementMaps && n.outputs.length === 1;

/** A tensor's value when it is a constant a kernel can write as a WGSL literal. */
function literalScalar(ctx: FusionContext, t: Tensor): number | null {
  const v = ctx.scalarOf(t);
  return v !== null && isScalarLiteral(v, kernelTypeOf(t.dtype)) ? v : null;
}

/**
 * An elementwise kernel as fused members over the tensors it binds: a planned group as it is, a lone elementwise
 * node as a group of one; null for any other node. What a product's epilogue or a reduction's prologue absorbs.
 */
export function elementwiseChainOf(
  n: GraphNode,
  groups: ReadonlyMap<GraphNode, FusedGroup>,
  ctx: FusionContext,
): { members: readonly FusedMember[]; leaves: readonly Tensor[] } | null {
  const group = groups.get(n);
  if (group) return { members: group.members, leaves: group.leaves };
  if (!isElementwise(n) || ctx.excluded(n)) return null;
  const out = n.outputs[0]!;
  const scalar = (t: Tensor) => literalScalar(ctx, t);
  const index = (t: Tensor) => ctx.isLinearIndex(t) && sameShape(t, out);
  const leaves = [
    ...new Set(n.inputs.filter((t): t is Tensor => t !== null && scalar(t) === null && !index(t))),
  ];
  const sources = n.inputs.map((t): FusedSource | null => {
    if (!t) return null;
    const v = scalar(t);
    if (v !== null) return { scalar: v };
    return index(t) ? { index: true } : { leaf: leaves.indexOf(t) };
  });
  return { members: [{ request: ctx.requestOf(n), sources }], leaves };
}

/**
 * Whether a tensor holds each element's own linear index: Range(0, n, 1) of integers over its n elements, perhaps
 * cast to another integer type and reshaped (a dropout mask's counter).
 */
export function isLinearIndex(
  t: Tensor,
  producer: ReadonlyMap<Tensor, GraphNode>,
  isView: (n: GraphNode) => boolean,
  scalarOf: (t: Tensor) => number | null,
): boolean {
  if (t.dtype === 'float32' || t.dtype === 'bool') return false;
  let n = producer.get(t);
  while (n && isView(n)) n = producer.get(n.inputs[0]!);
  if (n?.opType === 'Cast' && n.inputs[0] && n.inputs[0].dtype !== 'float32') n = producer.get(n.inputs[0]);
  if (n?.opType !== 'Range' || n.outputs[0]!.dtype === 'float32') return false;
  const [start, limit, delta] = n.inputs.map((x) => (x ? scalarOf(x) : null));
  const count = t.shape.reduce<number>((a, d) => a * (d as number), 1);
  return start === 0 && delta === 1 && limit === count;
}
