import { spread, type KernelPass, type KernelTensor } from '../kernel.ts';

/**
 * WGSL scaffolding for kernels that run one thread per output element (or per vec4 of them): the elementwise and
 * layout families. Sizes are baked in as u32 literals; the linear thread index is rebuilt from a 2-D grid of
 * workgroups when one row of 65535 is not enough.
 */

export const WORKGROUP_SIZE = 256;

/** Storage buffers a pass may declare: WebGPU's default limit, which every adapter offers. */
export const MAX_STORAGE_BUFFERS = 8;

export type Width = 1 | 4;
export type ElementType = KernelTensor['type'];

/** The WGSL type of one lane group: the element type, or a vec4 of it. */
export const lanes = (type: string, width: Width): string => (width === 4 ? `vec4<${type}>` : type);

export const u32 = (n: number): string => `${n}u`;

/** A WGSL literal of the element type (finite numbers only: WGSL has no literal for ±∞ or NaN). */
export function literal(value: number, type: ElementType): string {
  if (type === 'f32') {
    const f = Math.fround(value);
    if (!Number.isFinite(f)) throw new RangeError(`${value} has no f32 literal`);
    return `f32(${f})`;
  }
  return type === 'i32' ? `${value | 0}i` : `${value >>> 0}u`;
}

export const storage = (
  binding: number,
  name: string,
  element: string,
  access: 'read' | 'read_write',
): string => `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${element}>;`;

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

export const productOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Resolves a possibly negative axis against a rank, or returns null when it is out of range. */
export function axisOf(axis: number, rank: number): number | null {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : null;
}

/**
 * WGSL lines that split the linear index `index` into coordinates of `shape`, one `let` per axis longer than 1;
 * returns the lines and each axis's coordinate expression (null for an axis of length 1, whose coordinate is 0).
 */
export function coordinates(
  shape: readonly number[],
  index: string,
  prefix: string,
): { lines: string[]; coords: (string | null)[] } {
  const strides = stridesOf(shape);
  const lines: string[] = [];
  const coords: (string | null)[] = shape.map(() => null);
  const live = shape.flatMap((n, d) => (n > 1 ? [d] : []));
  let rest = index;
  live.forEach((d, k) => {
    const name = `${prefix}${d}`;
    if (k === live.length - 1) {
      lines.push(`let ${name} = ${rest};`);
    } else {
      lines.push(`let ${name} = ${rest} / ${u32(strides[d]!)};`);
      lines.push(`let ${name}r = ${rest} % ${u32(strides[d]!)};`);
      rest = `${name}r`;
    }
    coords[d] = name;
  });
  return { lines, coords };
}

/** Σ coordinate · stride, leaving out axes whose coordinate is 0 or whose stride is 0 (broadcast). */
export function offsetOf(coords: readonly (string | null)[], strides: readonly number[]): string {
  const terms = coords.flatMap((c, d) =>
    c === null || strides[d] === 0 ? [] : [strides[d] === 1 ? c : `${c} * ${u32(strides[d]!)}`],
  );
  return terms.length ? terms.join(' + ') : '0u';
}

export interface PassSource {
  /** Binding numbers, in order of the declarations. */
  bindings: number[];
  /** Module-scope WGSL: storage declarations and helper functions. */
  declarations: string[];
  /** Threads to run; the body sees its thread's index as `i: u32`, already checked against this count. */
  threads: number;
  body: string[];
}

/**
 * A compute pass of `threads` threads in workgroups of 256. `maxGroupsX` is WebGPU's 65535 except in the test of
 * the 2-D index rebuild.
 */
export function perThreadPass(src: PassSource, maxGroupsX = 65535): KernelPass {
  const workgroups = spread(Math.ceil(src.threads / WORKGROUP_SIZE), maxGroupsX);
  const code = [
    ...src.declarations,
    '',
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {',
    `  let i = (wid.y * ${u32(workgroups[0])} + wid.x) * ${u32(WORKGROUP_SIZE)} + lid;`,
    `  if (i >= ${u32(src.threads)}) { return; }`,
    ...src.body.map((line) => `  ${line}`),
    '}',
    '',
  ].join('\n');
  return { code, workgroups, bindings: src.bindings };
}

/** Splits items into runs of at most `size` (bindings per pass). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let k = 0; k < items.length; k += size) out.push(items.slice(k, k + size));
  return out;
}
