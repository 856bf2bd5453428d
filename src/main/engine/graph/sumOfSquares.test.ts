import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.ts';
import { sumOfSquares, sumOfSquaresShape } from './sumOfSquares.ts';

/** Values like a gradient's: many small ones whose squares are each about one ulp of their running sum. */
function gradientLike(n: number): Float32Array {
  const x = new Float32Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    x[i] = (seed / 2 ** 32 - 0.5) * 1e-3;
  }
  return x;
}

const exact = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0);

/** Σx² of `x` as ONNX Runtime's CPU provider computes it: by rows (sumOfSquares), or as one ReduceSumSquare. */
async function onCpu(x: Float32Array, byRows: boolean): Promise<number> {
  const g = new Graph('sum_of_squares');
  const input = g.input('x', 'float32', [x.length]);
  g.output(
    byRows
      ? sumOfSquares(g, input)
      : g.emit1('ReduceSumSquare', [input], [], 'float32', { keepdims: { int: 0 } }),
    'y',
  );
  const session = await ort.InferenceSession.create(g.encode(), { executionProviders: ['cpu'] });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [x.length]) });
    return Number(out.y!.data[0]);
  } finally {
    await session.release();
  }
}

describe('sumOfSquares', () => {
  it('sums by rows of about √N: both stages short, every element once', () => {
    expect(sumOfSquaresShape(1000)).toEqual({ rows: 1, cols: 1000, padded: 1000 });
    expect(sumOfSquaresShape(65_536)).toEqual({ rows: 1, cols: 65_536, padded: 65_536 });
    // the parameter counts of the cpu-tiny, baby and gpt2-small presets, and 2²⁴
    for (const n of [804_096, 10_745_088, 124_373_760, 2 ** 24]) {
      const { rows, cols, padded } = sumOfSquaresShape(n);
      expect({ n, padded }).toEqual({ n, padded: n });
      expect(rows * cols).toBe(n);
      expect(Math.max(rows, cols)).toBeLessThanOrEqual(65_536);
    }
    expect(sumOfSquaresShape(2 ** 24)).toEqual({ rows: 4096, cols: 4096, padded: 2 ** 24 });
    // a prime count has no rows: padded with zeros to whole rows of ⌈√N⌉
    const prime = 1_000_003;
    expect(sumOfSquaresShape(prime)).toEqual({ rows: 1000, cols: 1001, padded: 1_001_000 });
    // 2 × 65,537: its divisors leave one stage over 65,536 terms
    expect(sumOfSquaresShape(2 * 65_537)).toEqual({ rows: 362, cols: 363, padded: 131_406 });
    expect(() => sumOfSquaresShape(0)).toThrow(/positive element count/);
  });

  it("stays within 1e-6 of float64 on ONNX Runtime's CPU where one ReduceSumSquare drifts", async () => {
    const x = gradientLike(12_000_000);
    const want = exact(x);
    const oneSum = await onCpu(x, false);
    const byRows = await onCpu(x, true);
    // the single float32 accumulator is what this guards against: well off at 12 M elements
    expect(Math.abs(oneSum - want) / want).toBeGreaterThan(1e-4);
    expect(Math.abs(byRows - want) / want).toBeLessThan(1e-6);
  });

  it('pads a count without divisors, and the padding adds nothing', async () => {
    const x = gradientLike(1_000_003);
    const want = exact(x);
    expect(Math.abs((await onCpu(x, true)) - want) / want).toBeLessThan(1e-6);
  });
});
