import { numel, type Graph, type Tensor } from './graph.ts';

/**
 * Σx² over every element of x, in two stages, so that no float32 sum runs over more than about √N terms.
 *
 * Why: ONNX Runtime's CPU ReduceSumSquare adds a whole tensor into one float32 accumulator. When the terms are
 * about one unit in the last place of the running sum (a gradient's 10⁷ squares adding up to ~1), each addition
 * rounds the same way, and the error grows with N: measured against float64, 1e-6 relative at 10⁶ elements,
 * 4e-4 at 10.7 M (the baby preset's gradient), 2e-2 at 124 M (GPT-2 small's). The gradient's norm sets the clip
 * factor of every step, so that was a 1 % error in GPT-2 small's updates. Rows of ≈ √N elements summed apart, then
 * those row sums added (as a GPU's tree of partial sums and PyTorch's cascade summation do) stay within 1e-6.
 * A GPU reduces either way with a tree; the reshape is a view and the second stage one small dispatch.
 */

/** Neither stage sums more terms than this, where N's factors allow it (ONNX Runtime: ~1e-6 relative at 10⁶). */
const STAGE = 1 << 16;

/**
 * How x's N elements are summed: `rows` contiguous runs of `cols` elements, each summed apart, then the row sums.
 * rows is the largest divisor of N not above √N while cols = N / rows stays within STAGE; when N has no such
 * divisor (a large prime, say), x is padded with zeros to whole rows of ⌈√N⌉ (a copy: awkward sizes only; a GPT's
 * parameter count is a multiple of its width). N ≤ STAGE: one stage, [1, N].
 */
export function sumOfSquaresShape(n: number): { rows: number; cols: number; padded: number } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`sumOfSquares needs a positive element count, not ${n}`);
  if (n <= STAGE) return { rows: 1, cols: n, padded: n };
  for (let d = Math.floor(Math.sqrt(n)); d >= 2; d--) {
    if (n / d > STAGE) break; // smaller divisors only make the rows longer
    if (n % d === 0) return { rows: d, cols: n / d, padded: n };
  }
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  return { rows, cols, padded: rows * cols };
}

/** A float32 scalar: Σx² over all of x (of a static shape), summed by rows (sumOfSquaresShape). */
export function sumOfSquares(g: Graph, x: Tensor): Tensor {
  const n = numel(x.shape);
  if (n === null) throw new Error(`sumOfSquares needs a static shape, not ${x}`);
  const { rows, cols, padded } = sumOfSquaresShape(n);
  const keep = { keepdims: { int: 0 } };
  if (rows === 1) return g.emit1('ReduceSumSquare', [x], [], 'float32', keep);
  let whole = x;
  if (padded > n) {
    const flat = g.emit1('Reshape', [x, g.shapeTensor([n])], [n], 'float32');
    const zeros = g.constant(new Float32Array(padded - n), [padded - n], 'float32');
    whole = g.emit1('Concat', [flat, zeros], [padded], 'float32', { axis: { int: 0 } });
  }
  const matrix = g.emit1('Reshape', [whole, g.shapeTensor([rows, cols])], [rows, cols], 'float32');
  const rowSums = g.emit1('ReduceSumSquare', [matrix, g.vector([1])], [rows], 'float32', keep);
  return g.emit1('ReduceSum', [rowSums, g.vector([0])], [], 'float32', keep);
}
