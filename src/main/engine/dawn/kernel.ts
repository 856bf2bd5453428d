import { OnnxDataType, type OnnxAttributeValue } from '../../../shared/onnx/onnxModel.ts';
import type { DType } from '../graph/graph.ts';

/**
 * The contract between the Dawn executor (session.ts: runs a Graph's nodes with our own WGSL) and the kernel
 * generators (kernels/*.ts: one per family of operators). Shapes are static, so every size is baked into the
 * WGSL source as a constant: no uniforms, and the pipeline cache is keyed by the source text.
 *
 * Bindings, all in @group(0): input i is binding i (var<storage, read>; an absent optional input keeps its
 * number), output j is binding inputs.length + j (var<storage, read_write>), scratch buffer k follows the
 * outputs (var<storage, read_write>). Element types in WGSL: float32 → f32, int64 and int32 → i32 (the
 * executor narrows int64 feeds), uint32 → u32, bool → u32 (0 or 1).
 * An input whose value is known when the graph is compiled (an initializer: axes, split sizes, shapes,
 * scalars) is also handed over as `constants[i]`; a kernel that bakes it into its source does not bind it.
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
  /** What the generator chose where it had a choice (a product's tile: "8x8x8"), for profiles. */
  readonly variant?: string;
  /**
   * Floating-point operations of the kernel's products, 2 per multiply-add as they are executed (recomputed
   * products counted again), so that a profile can say how close a product runs to the GPU's arithmetic peak.
   * Absent for kernels whose cost is moving memory: their profile measure is bytes per second.
   */
  readonly flops?: number;
}

/**
 * Elementwise work a matrix product applies to its result before storing it (kernels/fused.ts productEpilogue):
 * module-scope WGSL defining `epilogue4` (width 4) or `epilogue1` (width 1), and the bindings that code reads.
 */
export interface Epilogue {
  readonly code: (width: 1 | 4) => {
    readonly declarations: readonly string[];
    readonly bindings: readonly number[];
  };
}

/** What a generator receives: one graph node with its static shapes and attributes. */
export interface KernelRequest {
  readonly opType: string;
  readonly inputs: readonly (KernelTensor | null)[];
  readonly outputs: readonly KernelTensor[];
  readonly attributes: Readonly<Record<string, number | number[] | string>>;
  /** Values of the inputs that are initializers (see above), null for the others. */
  readonly constants: readonly (readonly number[] | null)[];
}

/** Builds the kernel of one node; throws KernelUnsupported for a form it does not handle. */
export type KernelGenerator = (req: KernelRequest) => Kernel;

export class KernelUnsupported extends Error {
  constructor(req: Pick<KernelRequest, 'opType'>, what: string) {
    super(`${req.opType}: ${what} is not supported by the WebGPU kernels`);
    this.name = 'KernelUnsupported';
  }
}

/** The element type a graph dtype has on the device (int64 narrowed to i32, bool widened to u32). */
export const kernelTypeOf = (dtype: DType): KernelTensor['type'] =>
  dtype === 'float32' ? 'f32' : dtype === 'uint32' || dtype === 'bool' ? 'u32' : 'i32';

export const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Splits a 1-D dispatch of `groups` workgroups over x and y (each ≤ `limit`, WebGPU's 65535); kernels rebuild
 * the index. A smaller limit lets a test reach the split without millions of elements.
 */
export function spread(groups: number, limit = 65535): [number, number, number] {
  if (groups <= limit) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / limit);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * An ONNX attribute as a kernel request holds it: {int}/{ints} unwrapped, and a one-element tensor (ConstantOfShape's
 * `value`) as its number. Used by the executor and the kernel tests alike.
 */
export function attributeValue(value: OnnxAttributeValue): number | number[] | string {
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (value.some((v) => typeof v === 'string'))
      throw new Error('string list attributes have no kernel form');
    return value as number[];
  }
  if ('int' in value) return value.int;
  if ('ints' in value) return value.ints;
  // The raw bytes may sit at any offset of their buffer: copy them before viewing them as wider elements.
  const { buffer } = value.raw.slice();
  const viewOf: Partial<Record<number, () => ArrayLike<number | bigint>>> = {
    [OnnxDataType.FLOAT]: () => new Float32Array(buffer),
    [OnnxDataType.DOUBLE]: () => new Float64Array(buffer),
    [OnnxDataType.INT32]: () => new Int32Array(buffer),
    [OnnxDataType.INT64]: () => new BigInt64Array(buffer),
    [OnnxDataType.UINT32]: () => new Uint32Array(buffer),
    [OnnxDataType.UINT8]: () => new Uint8Array(buffer),
    [OnnxDataType.BOOL]: () => new Uint8Array(buffer),
  };
  const elements = viewOf[value.dataType]?.();
  if (!elements)
    throw new Error(`tensor attribute ${value.name}: ONNX data type ${value.dataType} is not supported`);
  if (elements.length !== 1)
    throw new Error(`tensor attribute ${value.name}: ${elements.length} elements, kernels take one`);
  return Number(elements[0]);
}
