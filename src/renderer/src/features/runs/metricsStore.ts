import { createListenerMiddleware } from '@reduxjs/toolkit';
import type { EvalMetric, MetricRecord, TrainMetric } from '../../../../shared/api/runs.ts';
import { apiEventReceived, isApiEvent } from '../../app/apiEvents.ts';
import { SeriesTable } from '../../components/chart/seriesTable.ts';

/** The columns of a run's metric table (x is the step). */
export const METRIC_KEYS = [
  'loss',
  'lr',
  'gradNorm',
  'tokensPerSec',
  'rssMb',
  'evalTrain',
  'evalVal',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

function rowOf(m: TrainMetric | EvalMetric): Partial<Record<MetricKey, number>> {
  return m.kind === 'train'
    ? {
        loss: m.loss,
        lr: m.lr,
        gradNorm: m.gradNorm,
        tokensPerSec: m.tokensPerSec,
        rssMb: m.rssBytes / 1024 ** 2,
      }
    : { evalTrain: m.trainLoss, evalVal: m.valLoss };
}

/**
 * Each run's metrics as a SeriesTable the charts draw from, outside Redux on purpose: a long run has
 * 100k+ points, and immutable updates would copy them on every event. Events append to the table as
 * they arrive; opening a run loads its history once and keeps whatever arrived meanwhile.
 */
class MetricsStore {
  readonly #tables = new Map<string, SeriesTable>();
  readonly #loaded = new Set<string>();

  table(runId: string): SeriesTable {
    let t = this.#tables.get(runId);
    if (!t) {
      t = new SeriesTable(METRIC_KEYS);
      this.#tables.set(runId, t);
    }
    return t;
  }

  isLoaded(runId: string): boolean {
    return this.#loaded.has(runId);
  }

  /**
   * A training step is appended (a step below the last one is a replay after a resume: the newer rows
   * go). An evaluation is set at its step without dropping anything.
   */
  append(runId: string, metric: TrainMetric | EvalMetric): void {
    const t = this.table(runId);
    if (metric.kind === 'train') t.append(metric.step, rowOf(metric));
    else t.set(metric.step, rowOf(metric));
  }

  /** Replaces the table's content with the run's history, then re-adds newer points that came by event. */
  loadHistory(runId: string, history: readonly MetricRecord[]): void {
    const t = this.table(runId);
    const lastStep = history.reduce((max, m) => Math.max(max, m.step), -1);
    const newer: { x: number; values: Record<string, number | null> }[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t.x[i]! <= lastStep) continue;
      newer.push({
        x: t.x[i]!,
        values: Object.fromEntries(METRIC_KEYS.map((k) => [k, t.column(k)[i] ?? null])),
      });
    }
    t.clear();
    // History comes in step order; an eval record shares its step with the train record before it.
    for (const m of history) {
      if (m.kind === 'train') t.append(m.step, rowOf(m));
      else t.set(m.step, rowOf(m));
    }
    t.appendMany(newer);
    this.#loaded.add(runId);
  }
}

export const metricsStore = new MetricsStore();

export const metricsListener = createListenerMiddleware();
metricsListener.startListening({
  actionCreator: apiEventReceived,
  effect: (action) => {
    if (isApiEvent(action, 'run.metrics') || isApiEvent(action, 'run.eval')) {
      metricsStore.append(action.payload.payload.runId, action.payload.payload.metric);
    }
  },
});
