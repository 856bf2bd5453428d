import { describe, expect, it } from 'vitest';
import { formatScoreIn, metricLabel, metricOf } from './scoreFormat.ts';

describe('scores in the lineage units', () => {
  it('prints bits per byte and top-1 accuracy as people read them, never the raw integer', () => {
    expect(formatScoreIn('3540645', 'bits_per_byte')).toBe('3.5406 bits/byte');
    expect(formatScoreIn(3540645n, 'bits_per_byte')).toBe('3.5406 bits/byte');
    expect(formatScoreIn(312500, `top1_accuracy@tokenizer:${'a'.repeat(64)}`)).toBe('31.25 % top-1');
    expect(formatScoreIn('1500000', 'perplexity')).toBe('1.5000 perplexity');
  });

  it('names the metric and its direction', () => {
    expect(metricOf('top1_accuracy@tokenizer:abc')).toBe('top1_accuracy');
    expect(metricOf('nope')).toBeNull();
    expect(metricLabel('bits_per_byte', false)).toBe('bits per byte (lower is better)');
  });
});
