import type { GemmProblem } from '../kernels/gemmProblem.ts';
import { floatInput, type NodeSpec } from './runKernel.ts';

/** A plain M×N×K product for kernel tests: no transposes, batch or bias; A, B, out and scratch bound 0 to 3. */
export const plainProblem = (
  m: number,
  n: number,
  k: number,
  extra: Partial<GemmProblem> = {},
): GemmProblem => ({
  m,
  n,
  k,
  transA: false,
  transB: false,
  alpha: 1,
  beta: 0,
  batch: [],
  aBatchStrides: [],
  bBatchStrides: [],
  bias: null,
  bindings: { a: 0, b: 1, out: 2, scratch: 3 },
  ...extra,
});

/** A MatMul node of operands [..., M, K] · [..., K, N] with deterministic values (seeds 1 and 2). */
export const matMulSpec = (a: number[], b: number[], out: number[]): NodeSpec => ({
  opType: 'MatMul',
  inputs: [floatInput(a, 1), floatInput(b, 2)],
  outputs: [{ dtype: 'float32', shape: out }],
});

export interface GemmCase {
  a: number[];
  b: number[];
  c?: number[];
  out: number[];
  attributes?: NodeSpec['attributes'];
}
/** A Gemm node with deterministic operands (seeds 1, 2 and 3 for the bias). */
export const gemmSpec = ({ a, b, c, out, attributes }: GemmCase): NodeSpec => ({
  opType: 'Gemm',
  inputs: [floatInput(a, 1), floatInput(b, 2), ...(c ? [floatInput(c, 3)] : [])],
  outputs: [{ dtype: 'float32', shape: out }],
  attributes,
});
