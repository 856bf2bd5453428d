/**
 * What both product kernels (matmul.ts on fp32 lanes, matmulSubgroup.ts on matrix units) take: one GEMM problem
 * after MatMul's and Gemm's forms have been mapped onto it, and the WGSL pieces they share.
 */

/** One GEMM problem, after MatMul's and Gemm's forms have been mapped onto it. */
export interface GemmProblem {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored [K, M] (else [M, K]); B is stored [N, K] (else [K, N]). */
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
  /** Output batch extents (leading axes) and, per operand, the element stride of each (0: broadcast). */
  readonly batch: readonly number[];
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  /** Gemm's C₀: binding and strides of its row and column within [M, N] (0 where broadcast). */
  readonly bias: { readonly binding: number; readonly rowStride: number; readonly colStride: number } | null;
  readonly bindings: {
    readonly a: number;
    readonly b: number;
    readonly out: number;
    readonly scratch: number;
  };
}

/** A number as a WGSL f32 literal. */
export const f32Literal = (x: number): string => {
  const s = Math.fround(x).toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
};

/** WGSL statements computing `name`, the element offset of batch `z` in an operand with these strides. */
export function batchOffset(name: string, batch: readonly number[], strides: readonly number[]): string {
  if (strides.every((s) => s === 0)) return `let ${name} = 0u;`;
  // Dense strides in output order: the offset is z times the innermost stride.
  let dense = true;
  for (let d = batch.length - 1, expect = strides[batch.length - 1]!; d >= 0; d--) {
    if (strides[d] !== expect) dense = false;
    expect *= batch[d]!;
  }
  if (dense) return `let ${name} = z * ${strides[batch.length - 1]}u;`;
  const lines = [`var ${name} = 0u;`, `{ var r = z;`];
  for (let d = batch.length - 1; d >= 0; d--) {
    if (strides[d] !== 0) lines.push(`${name} += (r % ${batch[d]}u) * ${strides[d]}u;`);
    lines.push(`r = r / ${batch[d]}u;`);
  }
  lines.push('}');
  return lines.join(' ');
}
