import uPlot from 'uplot';
import type { SeriesTable } from './seriesTable.ts';

/** One line of a chart: a column of a SeriesTable. */
export interface SeriesSpec {
  key: string;
  label: string;
  color: string;
  /** Sparse series (validation loss) are drawn with their points and never smoothed. */
  sparse?: boolean;
  dash?: number[];
}

export interface LiveChartOptions {
  series: readonly SeriesSpec[];
  width: number;
  height: number;
  logScale: boolean;
  /** When the table is smoothed, show the smoothed line bold and the raw one faint. */
  smoothing: boolean;
  xLabel: string;
  /** Formats a y value for the axis. */
  formatY?: (v: number) => string;
  /** Colours of axes and grid, from the page's theme. */
  theme: ChartTheme;
  /** Called with the row index under the cursor (null when it leaves). */
  onHover?: (row: number | null) => void;
  /** Called when the user zooms in (drag) or resets (double-click). */
  onZoomChange?: (zoomed: boolean) => void;
}

export interface ChartTheme {
  text: string;
  grid: string;
}

export function themeFromCss(el: Element = document.documentElement): ChartTheme {
  const css = getComputedStyle(el);
  return {
    text: css.getPropertyValue('--muted').trim() || '#5b6577',
    grid: css.getPropertyValue('--border').trim() || '#d9dee8',
  };
}

/**
 * A uPlot chart fed from a SeriesTable. uPlot redraws the whole series on each change but decimates to the
 * pixel columns, so 100k points cost a few milliseconds; appends arriving faster than the screen refreshes
 * are coalesced into one draw per animation frame. The data arrays are the table's own (never copied).
 *
 * Follows the live edge: while the view shows the newest point, new points widen it; once the user has
 * zoomed into the history (drag to zoom, double-click to reset) the view stays where it is.
 */
export class LiveChartController {
  readonly #table: SeriesTable;
  readonly #options: LiveChartOptions;
  readonly #plot: uPlot;
  /** Which table column each plotted series shows (index 0 is x). */
  readonly #columns: { key: string; smoothed: boolean }[] = [];
  #frame = 0;
  #zoomed = false;
  #drawnLength = 0;
  #unsubscribe: () => void;
  draws = 0;

  constructor(target: HTMLElement, table: SeriesTable, options: LiveChartOptions) {
    this.#table = table;
    this.#options = options;
    const series: uPlot.Series[] = [{ label: options.xLabel }];
    for (const s of options.series) {
      const smoothed = options.smoothing && !s.sparse;
      if (smoothed) {
        // Raw values, faint, under the smoothed line.
        series.push({
          label: `${s.label} (raw)`,
          stroke: withAlpha(s.color, 0.25),
          width: 1,
          spanGaps: true,
          points: { show: false },
        });
        this.#columns.push({ key: s.key, smoothed: false });
      }
      series.push({
        label: s.label,
        stroke: s.color,
        width: s.sparse ? 2 : 1.5,
        dash: s.dash,
        spanGaps: true,
        points: s.sparse ? { show: true, size: 6, fill: s.color } : { show: false },
      });
      this.#columns.push({ key: s.key, smoothed });
    }
    const axisStyle = {
      stroke: options.theme.text,
      grid: { stroke: options.theme.grid, width: 1 },
      ticks: { stroke: options.theme.grid, width: 1 },
    };
    this.#plot = new uPlot(
      {
        width: options.width,
        height: options.height,
        series,
        legend: { show: false },
        scales: {
          x: { time: false },
          y: options.logScale ? { distr: 3, log: 10 } : { auto: true },
        },
        axes: [
          { ...axisStyle, label: options.xLabel, labelSize: 20, size: 36 },
          {
            ...axisStyle,
            size: 62,
            values: (_u, splits) =>
              splits.map((v) => (v == null ? '' : (options.formatY ?? formatNumber)(v))),
          },
        ],
        cursor: { drag: { x: true, y: false }, points: { size: 7 } },
        hooks: {
          setCursor: [(u) => options.onHover?.(u.cursor.idx ?? null)],
          setSelect: [
            (u) => {
              if (u.select.width > 0) this.#setZoomed(true);
            },
          ],
          draw: [() => this.draws++],
        },
      },
      this.#data(),
      target,
    );
    this.#drawnLength = table.length;
    // Double-click resets uPlot's zoom; follow the live edge again.
    this.#plot.over.addEventListener('dblclick', () => this.#setZoomed(false));
    this.#unsubscribe = table.subscribe(() => this.schedule());
  }

  get plot(): uPlot {
    return this.#plot;
  }

  /** Draws at the next animation frame (many calls in one frame draw once). */
  schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.update();
    });
  }

  /** Hands the current data to uPlot now (uPlot draws in a microtask). */
  update(): void {
    const following = !this.#zoomed;
    this.#plot.setData(this.#data(), following);
    this.#drawnLength = this.#table.length;
  }

  resetZoom(): void {
    this.#setZoomed(false);
    this.#plot.setData(this.#data(), true);
  }

  setSize(width: number, height: number): void {
    this.#plot.setSize({ width, height });
  }

  destroy(): void {
    this.#unsubscribe();
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#plot.destroy();
  }

  get drawnLength(): number {
    return this.#drawnLength;
  }

  #setZoomed(zoomed: boolean): void {
    if (this.#zoomed === zoomed) return;
    this.#zoomed = zoomed;
    this.#options.onZoomChange?.(zoomed);
  }

  #data(): uPlot.AlignedData {
    const cols = this.#columns.map((c) =>
      c.smoothed ? this.#table.smoothedColumn(c.key) : this.#table.column(c.key),
    );
    return [this.#table.x, ...cols] as uPlot.AlignedData;
  }
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return Math.round(v).toLocaleString('en');
  if (a >= 1) return String(Number(v.toFixed(2)));
  if (a >= 1e-3) return String(Number(v.toPrecision(2)));
  return v.toExponential(0);
}

/** `#rrggbb` → `rgba(r,g,b,a)`; other colour forms are returned unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1]!, 16)},${parseInt(m[2]!, 16)},${parseInt(m[3]!, 16)},${alpha})`;
}
