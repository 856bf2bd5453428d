import { LiveChartController, themeFromCss } from './liveChart.ts';
import { SeriesTable } from './seriesTable.ts';

/** Names of the performance measures the benchmark leaves behind (the e2e run reads them). */
export const CHART_MEASURES = {
  /** 1,000 points appended one by one, the chart redrawn after each (the worst case: every point drawn). */
  perPoint: 'xai-chart:append-1000-draw-each',
  /** 1,000 points appended, then one redraw (what live streaming does: one draw per animation frame). */
  batched: 'xai-chart:append-1000-draw-once',
  /** Building and first drawing of the 100k-point chart. */
  initial: 'xai-chart:first-draw-100k',
} as const;

export interface ChartBenchmarkResult {
  basePoints: number;
  appended: number;
  series: number;
  firstDrawMs: number;
  perPointTotalMs: number;
  perPointMeanMs: number;
  batchedMs: number;
  draws: number;
}

/** A loss-like curve with noise, deterministic. */
function synthetic(table: SeriesTable, from: number, count: number): void {
  let seed = 12345 + from;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = from; i < from + count; i++) {
    const base = 1.5 + 3 * Math.exp(-i / 8000);
    table.append(i, {
      loss: base + (rand() - 0.5) * 0.3,
      val: i % 250 === 0 ? base + 0.1 : null,
      lr: 1e-3 * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * i) / 200_000))),
    });
  }
}

const microtask = (): Promise<void> => new Promise((r) => queueMicrotask(r));

/**
 * Measures the live chart on this machine: a chart of 100,000 points (three series, one sparse), then
 * 1,000 more points appended with a redraw after each, then 1,000 more with one redraw. Each phase is
 * bracketed by performance marks, so the numbers can also be read from the Performance timeline.
 */
export async function runChartBenchmark(
  target: HTMLElement,
  basePoints = 100_000,
  appended = 1_000,
): Promise<ChartBenchmarkResult> {
  for (const name of Object.values(CHART_MEASURES)) performance.clearMeasures(name);
  const table = new SeriesTable(['loss', 'val', 'lr']);
  synthetic(table, 0, basePoints);
  const width = Math.max(600, Math.floor(target.getBoundingClientRect().width) || 800);

  performance.mark('xai-chart:first-draw:start');
  const chart = new LiveChartController(target, table, {
    series: [
      { key: 'loss', label: 'train loss', color: '#2563eb' },
      { key: 'val', label: 'val loss', color: '#dc2626', sparse: true },
      { key: 'lr', label: 'learning rate', color: '#059669' },
    ],
    width,
    height: 260,
    logScale: false,
    smoothing: false,
    xLabel: 'step',
    theme: themeFromCss(),
  });
  await microtask();
  const initial = performance.measure(CHART_MEASURES.initial, 'xai-chart:first-draw:start');

  try {
    // Every point drawn: append, hand to uPlot, let its (microtask) draw run.
    const drawsBefore = chart.draws;
    performance.mark('xai-chart:per-point:start');
    for (let i = 0; i < appended; i++) {
      synthetic(table, basePoints + i, 1);
      chart.update();
      await microtask();
    }
    const perPoint = performance.measure(CHART_MEASURES.perPoint, 'xai-chart:per-point:start');
    const draws = chart.draws - drawsBefore;

    // Streaming as the app does it: the points land, the next frame draws them once.
    performance.mark('xai-chart:batched:start');
    synthetic(table, basePoints + appended, appended);
    chart.update();
    await microtask();
    const batched = performance.measure(CHART_MEASURES.batched, 'xai-chart:batched:start');

    return {
      basePoints,
      appended,
      series: 3,
      firstDrawMs: round(initial.duration),
      perPointTotalMs: round(perPoint.duration),
      perPointMeanMs: round(perPoint.duration / appended, 3),
      batchedMs: round(batched.duration),
      draws,
    };
  } finally {
    chart.destroy();
  }
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
