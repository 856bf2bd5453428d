/**
 * The contract between the Dawn executor (session.ts: runs a Graph's nodes with our own WGSL) and the kernel
 * generators (kernels/*.ts: one per family of operators). Shapes are static, so every size is baked into the
 * WGSL source as a constant: no uniforms, and the pipeline cache is keyed by the source text.
 *
 * Bindings, all in @group(0), numbered in this order:
 *   the node's inputs (var<storage, read>), then its outputs (var<storage, read_write>), then the kernel's
 *   scratch buffers (var<storage, read_write>), if any.
 * A kernel may be several passes (a two-stage reduction); each pass sees the same bindings, but WGSL's
 * `layout: 'auto'` drops bindings a pass does not use, so each pass declares only what it uses and lists
 * their binding numbers in `bindings`.
 */

/** A tensor as a kernel sees it: its shape and element type in WGSL terms (int64 is stored as i32). */
export interface KernelTensor {
  readonly shape: readonly number[];
  readonly type: 'f32' | 'i32' | 'u32';
}

export interface KernelPass {
  /** WGSL source with `@compute` entry point `main`. */
  readonly code: string;
  /** Workgroups to dispatch (x, y, z), each ≤ 65535. */
  readonly workgroups: readonly [number, number, number];
  /** The binding numbers this pass declares (see above). */
  readonly bindings: readonly number[];
}

export interface Kernel {
  readonly passes: readonly KernelPass[];
  /** Sizes in bytes of the scratch buffers the passes use (bound after the outputs). */
  readonly scratchBytes?: readonly number[];
}

/** What a generator receives: one graph node with its static shapes and attributes. */
export interface KernelRequest {
  readonly opType: string;
  readonly inputs: readonly (KernelTensor | null)[];
  readonly outputs: readonly KernelTensor[];
  readonly attributes: Readonly<Record<string, number | number[] | string>>;
}

export const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Splits a 1-D dispatch of `groups` workgroups over x and y (each ≤ 65535); kernels rebuild the index. */
export function spread(groups: number): [number, number, number] {
  if (groups <= 65535) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
