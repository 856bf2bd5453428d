import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricRecord } from '../../shared/api/runs.ts';
import type { LossPoint } from '../../shared/eval/modelPackage.ts';
import { RUN_FILES } from '../engine/trainer.ts';

/**
 * The loss curve of a run directory (metrics.jsonl): train loss every logged step, thinned to at most
 * `maxPoints`, and validation loss at each evaluation.
 */
export function lossCurveOf(runDir: string, maxPoints = 200): LossPoint[] {
  const file = join(runDir, RUN_FILES.metrics);
  if (!existsSync(file)) return [];
  const byStep = new Map<number, LossPoint>();
  const train: LossPoint[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: MetricRecord;
    try {
      r = JSON.parse(line) as MetricRecord;
    } catch {
      continue;
    }
    if (r.kind === 'eval') byStep.set(r.step, { step: r.step, train: r.trainLoss, val: r.valLoss });
    else train.push({ step: r.step, train: r.loss, val: null });
  }
  const every = Math.max(1, Math.ceil(train.length / maxPoints));
  for (let i = 0; i < train.length; i++) {
    const p = train[i]!;
    if ((i % every === 0 || i === train.length - 1) && !byStep.has(p.step)) byStep.set(p.step, p);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
