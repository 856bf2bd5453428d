import type { GemmProblem } from '../kernels/gemmProblem.ts';

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
