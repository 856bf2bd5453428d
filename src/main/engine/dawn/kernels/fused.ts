import type { Kernel, KernelRequest, KernelTensor } from '../kernel.ts';
import { elementMaps, mapKernel, type ElementMap } from './elementwise.ts';
import { lanes, literal, MAX_STORAGE_BUFFERS, type ElementType } from './perElement.ts';

/**
 * A chain (an in-tree) of elementwise nodes of one output shape compiled into one kernel: each thread computes
 * every member's value for its element in registers and stores only the last one. A training step's
 * elementwise nodes mostly feed exactly one other elementwise node (GELU's Div → Erf → Add → Mul → Mul, the
 * dropout mask's hash, AdamW's update), so fused they make a fraction of the dispatches and of the memory
 * traffic: an intermediate that is never stored is neither written nor read back.
 */

/** Where one input of a member comes from. */
export type FusedSource =
  /** one of the fused kernel's inputs (a tensor computed outside the chain) */
  | { readonly leaf: number }
  /** an earlier member's value */
  | { readonly member: number }
  /** a single value known when the graph is compiled, written into the source as a literal */
  | { readonly scalar: number };

export interface FusedMember {
  /** The member's own request (its shapes, attributes and constants), as if it ran alone. */
  readonly request: KernelRequest;
  /** For each of the request's inputs, where its value comes from (null for an absent optional input). */
  readonly sources: readonly (FusedSource | null)[];
}

/** Inputs a fused kernel may bind: one storage binding stays for its output. */
export const MAX_FUSED_LEAVES = MAX_STORAGE_BUFFERS - 1;

/** Whether a value known at compile time can be written as a WGSL literal of `type` (finite, representable). */
export function isScalarLiteral(value: number, type: ElementType): boolean {
  if (type === 'f32') return Number.isFinite(Math.fround(value));
  // WGSL has no i32 literal for -2³¹ (it is the negation of an out-of-range 2³¹)
  return Number.isInteger(value) && (type === 'u32' || (value | 0) !== -(2 ** 31));
}

/**
 * The kernel of members (in the order they compute: every member's sources name earlier members only; the last
 * is the one whose value is stored) reading `leaves`.
 */
export function fusedKernel(
  leaves: readonly KernelTensor[],
  members: readonly FusedMember[],
  maxGroupsX?: number,
): Kernel {
  const root = members.at(-1);
  if (!root) throw new Error('a fused kernel needs at least one member');
  const maps: ElementMap[] = members.map((m, j) => {
    const mapOf = elementMaps[m.request.opType];
    if (!mapOf) throw new Error(`${m.request.opType} is not an elementwise operator`);
    for (const s of m.sources)
      if (s && 'member' in s && s.member >= j)
        throw new Error(`fused member ${j} reads member ${s.member}, which is not computed before it`);
    return mapOf(m.request);
  });
  const operands = [
    ...new Set(
      members.flatMap((m, j) =>
        maps[j]!.operands.flatMap((k) => (m.sources[k] && 'leaf' in m.sources[k] ? [m.sources[k].leaf] : [])),
      ),
    ),
  ].sort((a, b) => a - b);
  if (operands.length > MAX_FUSED_LEAVES)
    throw new Error(`a fused kernel reads ${operands.length} tensors, more than ${MAX_FUSED_LEAVES}`);

  const argsOf = (j: number, args: readonly string[], width: 1 | 4): string[] =>
    maps[j]!.operands.map((k) => {
      const source = members[j]!.sources[k];
      if (!source) throw new Error(`fused ${members[j]!.request.opType} has no input ${k}`);
      if ('leaf' in source) return args[operands.indexOf(source.leaf)]!;
      if ('member' in source) return `t${source.member}`;
      const type = members[j]!.request.inputs[k]!.type;
      return `${lanes(type, width)}(${literal(source.scalar, type)})`;
    });
  const request: KernelRequest = {
    opType: `Fused(${members.map((m) => m.request.opType).join(',')})`,
    inputs: leaves,
    outputs: [root.request.outputs[0]!],
    attributes: {},
    constants: leaves.map(() => null),
  };
  const last = members.length - 1;
  return mapKernel(
    request,
    {
      operands,
      helpers: (width) => [...new Set(maps.flatMap((m) => (m.helpers ? [m.helpers(width)] : [])))].join('\n'),
      lines: (args, width) =>
        maps.slice(0, last).map((m, j) => `let t${j} = ${m.expr(argsOf(j, args, width), width)};`),
      expr: (args, width) => maps[last]!.expr(argsOf(last, args, width), width),
    },
    maxGroupsX,
  );
}
