import { describe, expect, it } from 'vitest';
import { formatScore, metricLabel, metricOf } from './score.ts';

describe('scores', () => {
  it('reads on-chain scores in the metric’s words', () => {
    expect(formatScore('3843923', 'bits_per_byte')).toBe('3.8439 bits/byte');
    expect(formatScore(485_000n, 'top1_accuracy@tokenizer:abc')).toBe('48.50 % top-1');
  });
  it('knows the metric behind a lineage’s metric name', () => {
    expect(metricOf('top1_accuracy@tokenizer:abc')).toBe('top1_accuracy');
    expect(metricOf('bits_per_byte')).toBe('bits_per_byte');
    expect(metricOf('something_else')).toBeNull();
    expect(metricLabel('bits_per_byte', false)).toBe('bits per byte (lower is better)');
  });
});
