import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { RunDetail } from '../../../../shared/api/runs.ts';
import { hrefFor } from '../../app/router.ts';
import { ChartControls, LiveChart } from '../../components/chart/LiveChart.tsx';
import type { SeriesSpec } from '../../components/chart/liveChart.ts';
import { SeriesTable } from '../../components/chart/seriesTable.ts';
import { ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatLoss } from '../../util/format.ts';
import { metricsStore } from './metricsStore.ts';
import { CHART_COLORS } from './RunDetail.tsx';
import { useRunQuery } from './runsApi.ts';
import { RunStatusBadge } from './RunStatus.tsx';

/** Up to 7 runs: their loss curves on one chart, and the settings in which they differ. */
export function CompareRuns({ runIds }: { runIds: string[] }) {
  const ids = runIds.slice(0, CHART_COLORS.length);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Compare runs">
        <a className="button secondary" href={hrefFor('runs')}>
          All runs
        </a>
      </PageHeader>
      <CompareBody ids={ids} />
    </section>
  );
}

/** Fetches each run (hooks in a fixed order: one child per id). */
function CompareBody({ ids }: { ids: string[] }) {
  const [details, setDetails] = useState<Record<string, RunDetail>>({});
  const loaded = ids.filter((id) => details[id]);
  const onLoaded = useCallback(
    (id: string, d: RunDetail) => setDetails((old) => (old[id] === d ? old : { ...old, [id]: d })),
    [],
  );
  return (
    <>
      {ids.map((id) => (
        <RunLoader key={id} runId={id} onLoaded={onLoaded} />
      ))}
      {loaded.length < ids.length ? <Loading what="the runs" /> : null}
      {loaded.length === ids.length && ids.length > 0 ? <Comparison ids={ids} details={details} /> : null}
    </>
  );
}

function RunLoader({ runId, onLoaded }: { runId: string; onLoaded: (id: string, d: RunDetail) => void }) {
  const q = useRunQuery(runId);
  useEffect(() => {
    if (q.data) {
      metricsStore.loadHistory(runId, q.data.metrics);
      onLoaded(runId, q.data);
    }
  }, [q.data, runId, onLoaded]);
  return q.error ? <ErrorNotice error={q.error} onRetry={() => void q.refetch()} /> : null;
}

function Comparison({ ids, details }: { ids: string[]; details: Record<string, RunDetail> }) {
  const [logScale, setLogScale] = useState(false);
  const [onlyDiff, setOnlyDiff] = useState(true);
  // One table with a train-loss and a val-loss column per run, rebuilt as the runs' own tables grow.
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const offs = ids.map((id) => metricsStore.table(id).subscribe(() => setVersion((v) => v + 1)));
    return () => offs.forEach((off) => off());
  }, [ids]);
  const throttledVersion = useThrottled(version, 2000);
  const table = useMemo(() => new SeriesTable(ids.flatMap((id) => [`${id}:loss`, `${id}:val`])), [ids]);
  useEffect(() => {
    const rows = new Map<number, Record<string, number | null>>();
    for (const id of ids) {
      const t = metricsStore.table(id);
      const loss = t.column('loss');
      const val = t.column('evalVal');
      for (let i = 0; i < t.length; i++) {
        const row = rows.get(t.x[i]!) ?? {};
        if (loss[i] !== null) row[`${id}:loss`] = loss[i]!;
        if (val[i] !== null) row[`${id}:val`] = val[i]!;
        rows.set(t.x[i]!, row);
      }
    }
    table.clear();
    for (const x of [...rows.keys()].sort((a, b) => a - b)) table.append(x, rows.get(x)!);
  }, [ids, table, throttledVersion]);

  const names = (id: string) => details[id]?.run.name ?? id;
  const trainSeries: SeriesSpec[] = ids.map((id, i) => ({
    key: `${id}:loss`,
    label: names(id),
    color: CHART_COLORS[i]!,
  }));
  const valSeries: SeriesSpec[] = ids.map((id, i) => ({
    key: `${id}:val`,
    label: names(id),
    color: CHART_COLORS[i]!,
    sparse: true,
  }));

  const rows = configRows(ids.map((id) => details[id]!));
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;

  return (
    <>
      <div className="card">
        <div className="card-head">
          <h2>Curves</h2>
          <ChartControls table={table} logScale={logScale} onLogScale={setLogScale} />
        </div>
        <div className="chart-grid">
          <LiveChart title="Train loss" table={table} series={trainSeries} logScale={logScale} height={280} />
          <LiveChart
            title="Validation loss"
            table={table}
            series={valSeries}
            logScale={logScale}
            height={280}
          />
        </div>
      </div>
      <div className="card">
        <div className="card-head">
          <h2>Settings</h2>
          <label className="checkbox">
            <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} /> only
            the differences
          </label>
        </div>
        <table className="table compact diff-table" aria-label="Settings of the compared runs">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              {ids.map((id, i) => (
                <th scope="col" key={id}>
                  <span className="swatch" style={{ background: CHART_COLORS[i] }} aria-hidden="true" />{' '}
                  <a href={hrefFor('runs', id)}>{names(id)}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">status</th>
              {ids.map((id) => (
                <td key={id}>
                  <RunStatusBadge status={details[id]!.run.status} />
                </td>
              ))}
            </tr>
            <tr>
              <th scope="row">best val loss</th>
              {ids.map((id) => (
                <td key={id}>{formatLoss(details[id]!.run.bestValLoss)}</td>
              ))}
            </tr>
            {shown.map((r) => (
              <tr key={r.key} className={r.differs ? 'differs' : ''}>
                <th scope="row">
                  <code>{r.key}</code>
                </th>
                {r.values.map((v, i) => (
                  <td key={ids[i]}>{v}</td>
                ))}
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={ids.length + 1} className="muted">
                  The runs use the same settings.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </>
  );
}

function configRows(runs: RunDetail[]): { key: string; values: string[]; differs: boolean }[] {
  const flat = runs.map((d) => {
    const r = d.run;
    const out: Record<string, string> = {
      dataset: r.data.name,
      preset: r.preset ?? 'custom',
      device: r.device.used ?? r.device.requested,
      params: r.params.toLocaleString('en'),
    };
    for (const [k, v] of Object.entries(r.config.model)) out[`model.${k}`] = String(v);
    for (const [k, v] of Object.entries(r.config.train)) out[`train.${k}`] = String(v);
    return out;
  });
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  return keys.map((key) => {
    const values = flat.map((f) => f[key] ?? '—');
    return { key, values, differs: new Set(values).size > 1 };
  });
}

/** The value, updated at most every `ms` milliseconds. */
function useThrottled<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, last.current + ms - Date.now());
    const t = setTimeout(() => {
      last.current = Date.now();
      setV(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
