import { describe, expect, it } from 'vitest';
import {
  checkLineageMetric,
  formatScore,
  NllAccumulator,
  parseMetricSpec,
  planWindows,
  scoreOf,
  valueOfScore,
  withinTolerance,
} from './metrics.ts';

const SHA = 'ab'.repeat(32);

describe('scores', () => {
  it('are round(value × 10^6) as uint64, and back', () => {
    expect(scoreOf(0)).toBe(0n);
    expect(scoreOf(3.5)).toBe(3_500_000n);
    expect(scoreOf(1.2345674)).toBe(1_234_567n);
    expect(scoreOf(1.2345676)).toBe(1_234_568n);
    expect(scoreOf(0.485)).toBe(485_000n);
    expect(valueOfScore(3_500_000n)).toBe(3.5);
    expect(formatScore(1_234_567n)).toBe('1.234567');
    expect(formatScore(5n)).toBe('0.000005');
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => scoreOf(bad)).toThrow();
    expect(() => scoreOf(2 ** 64)).toThrow(/uint64/);
  });

  it('compare within a tolerance in both directions', () => {
    expect(withinTolerance(1000n, 1500n, 500n)).toBe(true);
    expect(withinTolerance(1500n, 1000n, 500n)).toBe(true);
    expect(withinTolerance(1000n, 1501n, 500n)).toBe(false);
  });
});

describe('lineage metrics', () => {
  it('parse names, require a fixed tokenizer for top-1 accuracy, and check the direction', () => {
    expect(parseMetricSpec('bits_per_byte')).toEqual({ metric: 'bits_per_byte', tokenizerSha256: null });
    expect(parseMetricSpec(`top1_accuracy@tokenizer:${SHA}`)).toEqual({
      metric: 'top1_accuracy',
      tokenizerSha256: SHA,
    });
    expect(() => parseMetricSpec('top1_accuracy')).toThrow(/fix its tokenizer/);
    expect(() => parseMetricSpec('accuracy')).toThrow(/unknown metric/);
    expect(() => parseMetricSpec(`top1_accuracy@tokenizer:${SHA}x`)).toThrow();
    expect(checkLineageMetric('bits_per_byte', false).metric).toBe('bits_per_byte');
    expect(() => checkLineageMetric('bits_per_byte', true)).toThrow(/lower-is-better/);
    expect(() => checkLineageMetric(`top1_accuracy@tokenizer:${SHA}`, false)).toThrow(/higher-is-better/);
  });
});

describe('evaluation windows and sums', () => {
  it('plan all non-overlapping windows, capped', () => {
    expect(planWindows(100, 10)).toEqual({ windows: 9, truncated: false });
    expect(planWindows(101, 10)).toEqual({ windows: 10, truncated: false });
    expect(planWindows(10, 10)).toEqual({ windows: 0, truncated: false });
    expect(planWindows(1_000_001, 10, 100)).toEqual({ windows: 10, truncated: true });
  });

  it('accumulate log-softmax losses, argmax hits and bytes in float64', () => {
    const acc = new NllAccumulator();
    acc.add(Float32Array.of(0, 0, 0, 0), 0, 4, 2, 1); // uniform: ln 4, argmax 0 ≠ 2
    acc.add(Float32Array.of(9, 1, 5, 2, 0, 1), 2, 4, 0, 3); // row [5, 2, 0, 1]: argmax 0 = target
    expect(acc.tokens).toBe(2);
    expect(acc.bytes).toBe(4);
    expect(acc.correct).toBe(1);
    const lse = 5 + Math.log(1 + Math.exp(-3) + Math.exp(-5) + Math.exp(-4));
    expect(acc.totalNats).toBeCloseTo(Math.log(4) + lse - 5, 12);
    const v = acc.values();
    expect(v.bits_per_byte).toBeCloseTo(acc.totalNats / Math.LN2 / 4, 12);
    expect(v.perplexity).toBeCloseTo(Math.exp(acc.totalNats / 2), 12);
    expect(v.top1_accuracy).toBe(0.5);
    expect(() => acc.add(Float32Array.of(Number.NaN, Number.NaN), 0, 2, 0, 1)).toThrow(/non-finite/);
  });
});
