/**
 * Race checks on software Vulkan: the kernels run with their invocations' local indices reversed.
 *
 * Mesa's lavapipe, where every GPU test of the engine runs, does not run a workgroup's invocations at once: it runs
 * them a subgroup at a time (8 lanes), each until its next barrier, in order of their local index. A kernel that
 * reads workgroup memory another invocation writes before the barrier that should separate them (a race) therefore
 * reads stale data on lavapipe only when the writer comes after the reader; when the writer comes first the result
 * is right there, and may be wrong on a GPU, whose subgroups run concurrently. Reversing the local index that the kernel
 * sees (invocation i takes the place of invocation size − 1 − i) swaps which of the two comes first, so the test
 * suites run in both orders (`XAI_LINK_DAWN_LANE_ORDER=reversed`, `npm run test:webgpu-races`) catch a missing
 * barrier in either direction.
 *
 * A kernel free of races computes the same bits in either order: the local index is only a name for one of the
 * workgroup's invocations, and the reversal is a one-to-one renaming. Subgroup builtins (subgroup_id,
 * subgroup_invocation_id) stay physical, since a subgroup's lanes must remain one subgroup: a kernel that derived
 * them from the local index, or the other way round, would fail this check (and be wrong where subgroups differ).
 */

import { envChoice } from '../../util/envChoice.ts';

export type LaneOrder = 'natural' | 'reversed';

/** The lane order the process's kernels are compiled with (XAI_LINK_DAWN_LANE_ORDER; natural by default). */
export function laneOrderFromEnv(env: NodeJS.ProcessEnv = process.env): LaneOrder {
  return envChoice(env, 'XAI_LINK_DAWN_LANE_ORDER', ['natural', 'reversed']);
}

/** The kernel's WGSL as it is compiled in this lane order. */
export function inLaneOrder(code: string, order: LaneOrder = laneOrderFromEnv()): string {
  return order === 'reversed' ? reverseLanes(code) : code;
}

const LITERAL = /^\s*(\d+)u?\s*$/;

/**
 * Rewrites a compute kernel (entry point `main`) so that its local invocation index and id run backwards: the
 * parameters are renamed `…Physical`, and the names the body uses are bound to the reversed values on entry.
 * Kernels that read neither are returned unchanged. The workgroup size must be literal (all of ours are).
 */
export function reverseLanes(code: string): string {
  const size = /@compute\s+@workgroup_size\(([^)]*)\)/.exec(code);
  if (!size) throw new Error('reverseLanes: no @compute @workgroup_size(…) in the kernel');
  const dims = size[1]!.split(',').map((d) => {
    const m = LITERAL.exec(d);
    if (!m) throw new Error(`reverseLanes: the workgroup size ${size[1]} is not literal`);
    return Number(m[1]);
  });
  const [x = 1, y = 1, z = 1] = dims;

  const open = code.indexOf('fn main(', size.index);
  if (open < 0) throw new Error('reverseLanes: no fn main( after the workgroup size');
  let depth = 0;
  let close = -1;
  for (let i = open + 'fn main'.length; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) {
      close = i;
      break;
    }
  }
  const body = close < 0 ? -1 : code.indexOf('{', close);
  if (body < 0) throw new Error('reverseLanes: fn main has no body');

  let params = code.slice(open, close + 1);
  const bindings: string[] = [];
  const rename = (builtin: string, type: string, value: (physical: string) => string) => {
    const re = new RegExp(`@builtin\\(${builtin}\\)\\s+(\\w+)\\s*:\\s*${type}`);
    const m = re.exec(params);
    if (!m) return;
    const name = m[1]!;
    const physical = `${name}Physical`;
    params = params.replace(re, `@builtin(${builtin}) ${physical}: ${type}`);
    bindings.push(`let ${name} = ${value(physical)};`);
  };
  rename('local_invocation_index', 'u32', (p) => `${x * y * z - 1}u - ${p}`);
  rename('local_invocation_id', 'vec3<u32>', (p) => `vec3<u32>(${x - 1}u, ${y - 1}u, ${z - 1}u) - ${p}`);
  if (bindings.length === 0) return code;
  return (
    code.slice(0, open) +
    params +
    code.slice(close + 1, body + 1) +
    `\n  // lanes reversed (XAI_LINK_DAWN_LANE_ORDER=reversed, dawn/laneOrder.ts)\n  ${bindings.join('\n  ')}` +
    code.slice(body + 1)
  );
}
