import { useRef, useState } from 'react';
import { runChartBenchmark, type ChartBenchmarkResult } from '../../components/chart/chartBenchmark.ts';

/**
 * Measures how fast the live training charts draw on this machine: a 100,000-point chart, then 1,000
 * points appended. The e2e run reads the same numbers from the page's performance marks.
 */
export function ChartSpeedCard() {
  const target = useRef<HTMLDivElement>(null);
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<ChartBenchmarkResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    if (!target.current) return;
    setRunning(true);
    setError(null);
    try {
      setResult(await runChartBenchmark(target.current));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <article className="card" aria-labelledby="chart-speed-title">
      <div className="card-head">
        <h2 id="chart-speed-title">Chart speed</h2>
        <button type="button" className="secondary" onClick={() => void run()} disabled={running}>
          {running ? 'Measuring…' : 'Measure chart speed'}
        </button>
      </div>
      <p className="muted">
        Draws a 100,000-point training chart and appends 1,000 points, as a long run streams them.
      </p>
      <div ref={target} className="bench-target" aria-hidden="true" hidden={!running} />
      {error ? (
        <p role="alert" className="error-text">
          The measurement failed: {error}
        </p>
      ) : null}
      {result ? (
        <dl className="kv" aria-label="Chart speed results" data-testid="chart-speed">
          <dt>First draw of {result.basePoints.toLocaleString('en')} points</dt>
          <dd>{result.firstDrawMs} ms</dd>
          <dt>Append {result.appended.toLocaleString('en')} points, draw after each</dt>
          <dd>
            {result.perPointTotalMs} ms ({result.perPointMeanMs} ms per point)
          </dd>
          <dt>Append {result.appended.toLocaleString('en')} points, draw once</dt>
          <dd>{result.batchedMs} ms</dd>
        </dl>
      ) : null}
    </article>
  );
}
