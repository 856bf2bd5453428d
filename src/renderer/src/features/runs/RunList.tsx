import { useState } from 'react';
import { hrefFor } from '../../app/router.ts';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatCompact, formatLoss, formatTime } from '../../util/format.ts';
import { ImportRunDialog } from './ImportRunDialog.tsx';
import { useRunsQuery } from './runsApi.ts';
import { etaText, RunStatusBadge, useLiveRun } from './RunStatus.tsx';
import type { RunSummary } from '../../../../shared/api/runs.ts';

export function RunList() {
  const runs = useRunsQuery(undefined);
  const [selected, setSelected] = useState<string[]>([]);
  const [importing, setImporting] = useState(false);
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Runs">
        <button
          type="button"
          className="secondary"
          disabled={selected.length < 2}
          onClick={() => (location.hash = hrefFor('runs', 'compare', selected.join(',')))}
        >
          Compare{selected.length >= 2 ? ` ${selected.length}` : ''} runs
        </button>
        <button type="button" className="secondary" onClick={() => setImporting(true)}>
          Import
        </button>
        <a className="button" href={hrefFor('runs', 'new')}>
          New run
        </a>
      </PageHeader>
      <ImportRunDialog open={importing} onClose={() => setImporting(false)} />
      {runs.isLoading ? <Loading what="runs" /> : null}
      {runs.error ? <ErrorNotice error={runs.error} onRetry={() => void runs.refetch()} /> : null}
      {runs.data && runs.data.length === 0 ? (
        <Empty title="No training runs yet">
          Start one with <a href={hrefFor('runs', 'new')}>New run</a>: the CPU tiny preset trains a
          character-level Shakespeare model in minutes.
        </Empty>
      ) : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="card">
          <p className="muted small">Select two or more runs to compare their curves and settings.</p>
          <table className="table" aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Compare</span>
                </th>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Best val loss</th>
                <th scope="col">Device</th>
                <th scope="col">ETA</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => (
                <RunRow key={r.id} run={r} selected={selected.includes(r.id)} onToggle={() => toggle(r.id)} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function RunRow({
  run: fetched,
  selected,
  onToggle,
}: {
  run: RunSummary;
  selected: boolean;
  onToggle: () => void;
}) {
  const run = useLiveRun(fetched)!;
  const pct = Math.min(100, (run.step / run.maxIters) * 100);
  return (
    <tr data-run={run.id}>
      <td>
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Compare ${run.name}`} />
      </td>
      <td>
        <a href={hrefFor('runs', run.id)}>{run.name}</a>
        <div className="muted small">
          {run.preset ?? 'custom'} · {run.data.name} · {formatCompact(run.params)} parameters
        </div>
      </td>
      <td>
        <RunStatusBadge status={run.status} />
      </td>
      <td className="progress-cell">
        <progress max={100} value={pct} aria-label={`${run.name}: step ${run.step} of ${run.maxIters}`} />
        <span className="small muted">
          {run.step} / {run.maxIters}
        </span>
      </td>
      <td>{formatLoss(run.bestValLoss)}</td>
      <td>{run.device.used ?? run.device.requested}</td>
      <td>{etaText(run)}</td>
      <td>{formatTime(Date.parse(run.createdAt))}</td>
    </tr>
  );
}
