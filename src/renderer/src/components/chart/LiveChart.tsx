import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import 'uplot/dist/uPlot.min.css';
import { formatNumber, LiveChartController, themeFromCss, type SeriesSpec } from './liveChart.ts';
import type { SeriesTable } from './seriesTable.ts';

export interface LiveChartProps {
  title: string;
  table: SeriesTable;
  series: readonly SeriesSpec[];
  height?: number;
  xLabel?: string;
  logScale?: boolean;
  formatY?: (v: number) => string;
  /** Extra text under the chart (units, what the marker means). */
  note?: string;
}

function subscribeTheme(cb: () => void): () => void {
  const observer = new MutationObserver(cb);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const media = matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', cb);
  return () => {
    observer.disconnect();
    media.removeEventListener('change', cb);
  };
}

function themeSnapshot(): string {
  return `${document.documentElement.dataset.theme ?? ''}:${matchMedia('(prefers-color-scheme: dark)').matches}`;
}

/** Re-reads the chart colours when the theme changes (setting or OS preference). */
export function useThemeKey(): string {
  return useSyncExternalStore(subscribeTheme, themeSnapshot);
}

/** Re-renders when the table changes, at most every `ms` milliseconds. */
export function useTableVersion(table: SeriesTable, ms = 250): number {
  const subscribe = useCallback(
    (cb: () => void) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const unsubscribe = table.subscribe(() => {
        if (timer) return;
        timer = setTimeout(() => {
          timer = null;
          cb();
        }, ms);
      });
      return () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
      };
    },
    [table, ms],
  );
  return useSyncExternalStore(subscribe, () => table.version);
}

/**
 * A live line chart (uPlot) of some columns of a SeriesTable, with its own legend showing the newest
 * values, or the values under the pointer. Drag to zoom into the history, double-click (or the button) to
 * go back to following the newest points.
 */
export function LiveChart({
  title,
  table,
  series,
  height = 220,
  xLabel = 'step',
  logScale = false,
  formatY,
  note,
}: LiveChartProps) {
  const plotRef = useRef<HTMLDivElement>(null);
  const controllerRef = useRef<LiveChartController | null>(null);
  const [width, setWidth] = useState(0);
  const [hoverRow, setHoverRow] = useState<number | null>(null);
  const [zoomed, setZoomed] = useState(false);
  const themeKey = useThemeKey();
  const titleId = useId();
  // The legend's "latest" values follow the table, at most four times a second.
  useTableVersion(table);
  const smoothing = table.smoothingWeight > 0;
  const seriesKey = series.map((s) => `${s.key}:${s.color}:${s.sparse ? 1 : 0}`).join(',');

  useEffect(() => {
    const el = plotRef.current;
    if (!el) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      setWidth((prev) => (Math.abs(prev - w) >= 2 ? w : prev));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const el = plotRef.current;
    if (!el || width <= 0) return;
    const controller = new LiveChartController(el, table, {
      series,
      width,
      height,
      logScale,
      smoothing,
      xLabel,
      formatY,
      theme: themeFromCss(),
      onHover: setHoverRow,
      onZoomChange: setZoomed,
    });
    controllerRef.current = controller;
    return () => {
      controller.destroy();
      controllerRef.current = null;
      setZoomed(false);
    };
    // series is compared by seriesKey; the chart is rebuilt only when what it draws changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [table, seriesKey, width, height, logScale, smoothing, xLabel, themeKey]);

  const row = hoverRow !== null && hoverRow < table.length ? hoverRow : null;
  const fmt = formatY ?? formatNumber;
  const labels = series.map((s) => s.label).join(', ');

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption className="chart-head">
        <span id={titleId} className="chart-title">
          {title}
        </span>
        <ul className="chart-legend" aria-label={`${title} values${row !== null ? ' at the pointer' : ''}`}>
          {row !== null ? (
            <li className="muted">
              {xLabel} {formatNumber(table.x[row]!)}
            </li>
          ) : null}
          {series.map((s) => {
            const v = row !== null ? table.column(s.key)[row] : table.last(s.key);
            return (
              <li key={s.key} data-series={s.key}>
                <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
                {s.label}: <strong>{v === null || v === undefined ? '—' : fmt(v)}</strong>
              </li>
            );
          })}
        </ul>
        {zoomed ? (
          <button
            type="button"
            className="secondary small-button"
            onClick={() => controllerRef.current?.resetZoom()}
          >
            Reset zoom
          </button>
        ) : null}
      </figcaption>
      <div
        ref={plotRef}
        className="chart-plot"
        role="img"
        aria-label={`${title}: ${labels} by ${xLabel}, ${table.length} points${logScale ? ', log scale' : ''}`}
        style={{ height }}
      />
      {table.length === 0 ? <p className="chart-empty muted">No points yet.</p> : null}
      {note ? <p className="muted small chart-note">{note}</p> : null}
    </figure>
  );
}

/** Smoothing slider and log-scale switch for a group of charts sharing one table. */
export function ChartControls({
  table,
  logScale,
  onLogScale,
}: {
  table: SeriesTable;
  logScale: boolean;
  onLogScale: (v: boolean) => void;
}) {
  const [weight, setWeight] = useState(table.smoothingWeight);
  const id = useId();
  return (
    <div className="chart-controls" role="group" aria-label="Chart display">
      <label htmlFor={`${id}-smooth`}>Smoothing</label>
      <input
        id={`${id}-smooth`}
        type="range"
        min={0}
        max={0.99}
        step={0.01}
        value={weight}
        aria-valuetext={weight === 0 ? 'off' : weight.toFixed(2)}
        onChange={(e) => {
          const w = Number(e.target.value);
          setWeight(w);
          table.setSmoothing(w);
        }}
      />
      <output htmlFor={`${id}-smooth`} className="mono">
        {weight === 0 ? 'off' : weight.toFixed(2)}
      </output>
      <label className="checkbox">
        <input type="checkbox" checked={logScale} onChange={(e) => onLogScale(e.target.checked)} /> Log scale
      </label>
    </div>
  );
}
