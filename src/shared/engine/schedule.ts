import type { TrainConfig } from './config.ts';

/**
 * nanoGPT's learning-rate schedule (train.py get_lr): linear warm-up over warmupIters, cosine decay
 * to minLr at lrDecayIters, minLr after. `it` is the 0-based optimizer step. Pure, so the UI can
 * draw the curve a run will follow.
 */
export function learningRateAt(
  t: Pick<TrainConfig, 'learningRate' | 'minLr' | 'warmupIters' | 'lrDecayIters' | 'maxIters' | 'decayLr'>,
  it: number,
): number {
  if (!t.decayLr) return t.learningRate;
  const decayIters = t.lrDecayIters ?? t.maxIters;
  if (it < t.warmupIters) return (t.learningRate * (it + 1)) / (t.warmupIters + 1);
  if (it > decayIters) return t.minLr;
  const span = decayIters - t.warmupIters;
  const ratio = span <= 0 ? 1 : (it - t.warmupIters) / span;
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return t.minLr + coeff * (t.learningRate - t.minLr);
}
