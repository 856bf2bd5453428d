import { METRICS, metricIds, SCORE_SCALE, type MetricId } from './metrics.ts';

/**
 * Scores in a lineage's units, the one formatter for every place a person reads a score (the app, the
 * CLI tables, the demo summary): the chain stores `round(value × 10⁶)` (3540645), people read
 * "3.5406 bits/byte".
 */

/** The metric a lineage's metric name refers to (`top1_accuracy@tokenizer:…` → top1_accuracy). */
export function metricOf(metricName: string): MetricId | null {
  return metricIds.find((m) => metricName === m || metricName.startsWith(`${m}@`)) ?? null;
}

/** An on-chain score (value × 10^6) in the metric's words: "1.9823 bits/byte", "48.50 % top-1". */
export function formatScoreIn(score: string | bigint | number, metricName: string): string {
  const value = Number(score) / SCORE_SCALE;
  const metric = metricOf(metricName);
  if (metric === 'top1_accuracy') return `${(value * 100).toFixed(2)} % top-1`;
  if (metric === 'bits_per_byte') return `${value.toFixed(4)} ${METRICS.bits_per_byte.unit}`;
  return `${value.toFixed(4)} ${metricName}`;
}

export function metricLabel(metricName: string, higherIsBetter: boolean): string {
  const metric = metricOf(metricName);
  const label = metric ? METRICS[metric].label : metricName;
  return `${label} (${higherIsBetter ? 'higher' : 'lower'} is better)`;
}
