import { useEffect, useState } from 'react';
import {
  deviceSpans,
  type CheckpointInfo,
  type DeviceSpan,
  type RunSummary,
  type Sample,
} from '../../../../shared/api/runs.ts';
import { useAppSelector } from '../../app/hooks.ts';
import { hrefFor } from '../../app/router.ts';
import { ChartControls, LiveChart, useTableVersion } from '../../components/chart/LiveChart.tsx';
import type { SeriesSpec } from '../../components/chart/liveChart.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { Field } from '../../components/Field.tsx';
import { ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import {
  formatBytes,
  formatCompact,
  formatCount,
  formatDuration,
  formatLoss,
  formatTime,
} from '../../util/format.ts';
import { LiveReadingRows } from '../system/LiveReadings.tsx';
import { LIVE_POLL_MS } from '../system/liveReadings.ts';
import { useSystemStatsQuery } from '../system/systemApi.ts';
import { metricsStore } from './metricsStore.ts';
import {
  useExportRunMutation,
  usePauseRunMutation,
  useResumeRunMutation,
  useRunQuery,
  useSampleRunMutation,
  useStopRunMutation,
} from './runsApi.ts';
import { canPause, canResume, canStop, etaText, isActive, RunStatusBadge, useLiveRun } from './RunStatus.tsx';

export const CHART_COLORS = ['#2563eb', '#dc2626', '#059669', '#7c3aed', '#d97706', '#0891b2', '#be185d'];

const LOSS_SERIES: SeriesSpec[] = [
  { key: 'loss', label: 'train loss', color: CHART_COLORS[0]! },
  { key: 'evalVal', label: 'val loss', color: CHART_COLORS[1]!, sparse: true },
  { key: 'evalTrain', label: 'train loss (eval)', color: CHART_COLORS[3]!, sparse: true, dash: [4, 3] },
];

export function RunDetail({ runId }: { runId: string }) {
  const q = useRunQuery(runId);
  const [logScale, setLogScale] = useState(false);
  const table = metricsStore.table(runId);
  useEffect(() => {
    if (q.data) metricsStore.loadHistory(runId, q.data.metrics);
  }, [q.data, runId]);
  const run = useLiveRun(q.data?.run);

  return (
    <section aria-labelledby="page-title">
      <PageHeader title={run ? `Run: ${run.name}` : 'Run'}>
        <a className="button secondary" href={hrefFor('runs')}>
          All runs
        </a>
        {run ? <RunActions run={run} /> : null}
      </PageHeader>
      {q.isLoading ? <Loading what="the run" /> : null}
      {q.error ? <ErrorNotice error={q.error} onRetry={() => void q.refetch()} /> : null}
      {run && q.data ? (
        <>
          <RunHeadline run={run} />
          <DeviceSpansLine spans={deviceSpans(q.data.metrics)} />
          <div className="card">
            <div className="card-head">
              <h2>Training curves</h2>
              <ChartControls table={table} logScale={logScale} onLogScale={setLogScale} />
            </div>
            <div className="chart-grid">
              <LiveChart
                title="Loss"
                table={table}
                series={LOSS_SERIES}
                logScale={logScale}
                height={260}
                note="Dots: train and validation loss estimated on held-out batches every evaluation interval."
              />
              <LiveChart
                title="Learning rate"
                table={table}
                series={[{ key: 'lr', label: 'learning rate', color: CHART_COLORS[2]! }]}
                height={260}
                formatY={(v) => v.toExponential(1)}
              />
              <LiveChart
                title="Throughput"
                table={table}
                series={[{ key: 'tokensPerSec', label: 'tokens/s', color: CHART_COLORS[4]! }]}
                height={200}
              />
              <LiveChart
                title="Gradient norm"
                table={table}
                series={[{ key: 'gradNorm', label: 'grad norm (before clipping)', color: CHART_COLORS[3]! }]}
                logScale={logScale}
                height={200}
              />
              <LiveChart
                title="Memory"
                table={table}
                series={[{ key: 'rssMb', label: 'resident memory (MiB)', color: CHART_COLORS[5]! }]}
                height={200}
              />
              <ResourcesCard run={run} />
            </div>
          </div>
          <div className="cards">
            <Checkpoints runId={runId} initial={q.data.checkpoints} run={run} />
            <Samples runId={runId} initial={q.data.samples} run={run} />
          </div>
          <ConfigAndLog run={run} />
        </>
      ) : null}
    </section>
  );
}

function RunActions({ run }: { run: RunSummary }) {
  const [pause, pauseState] = usePauseRunMutation();
  const [resume, resumeState] = useResumeRunMutation();
  const [stop, stopState] = useStopRunMutation();
  const [extending, setExtending] = useState(false);
  const [more, setMore] = useState(String(run.maxIters * 2));
  const error = pauseState.error ?? resumeState.error ?? stopState.error;
  const moreN = Number(more);
  const moreError =
    !Number.isInteger(moreN) || moreN <= run.step ? `Enter a whole number of steps above ${run.step}.` : null;
  return (
    <>
      {canPause(run.status) ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void pause(run.id)}
          disabled={pauseState.isLoading}
        >
          Pause
        </button>
      ) : null}
      {canResume(run.status) ? (
        <button type="button" onClick={() => void resume({ runId: run.id })} disabled={resumeState.isLoading}>
          {run.status === 'created' ? 'Start' : run.status === 'paused' ? 'Resume' : 'Resume from checkpoint'}
        </button>
      ) : null}
      {run.status === 'completed' ? (
        <button type="button" className="secondary" onClick={() => setExtending(true)}>
          Train further
        </button>
      ) : null}
      {canStop(run.status) ? (
        <button
          type="button"
          className="danger"
          onClick={() => void stop(run.id)}
          disabled={stopState.isLoading}
        >
          Stop
        </button>
      ) : null}
      {error ? (
        <div className="action-error">
          <ErrorNotice error={error} />
        </div>
      ) : null}
      <Dialog
        open={extending}
        title="Train further"
        onClose={() => setExtending(false)}
        footer={
          <>
            <button type="button" className="secondary" onClick={() => setExtending(false)}>
              Cancel
            </button>
            <button
              type="button"
              disabled={Boolean(moreError)}
              onClick={() => {
                setExtending(false);
                void resume({ runId: run.id, maxIters: moreN });
              }}
            >
              Continue training
            </button>
          </>
        }
      >
        <p>
          The run continues from its latest checkpoint (step {run.step}) with the same settings, up to the new
          last step.
        </p>
        <Field label="Train until step" error={moreError}>
          {(p) => <input {...p} inputMode="numeric" value={more} onChange={(e) => setMore(e.target.value)} />}
        </Field>
      </Dialog>
    </>
  );
}

function RunHeadline({ run }: { run: RunSummary }) {
  const m = run.lastMetric;
  const pct = Math.min(100, (run.step / run.maxIters) * 100);
  return (
    <>
      {run.error ? (
        <div className="state state-error" role="alert">
          <strong>The run failed.</strong>
          <p>{run.error}</p>
          <p className="hint">Fix the cause and resume it: it continues from its latest checkpoint.</p>
        </div>
      ) : null}
      <div className="stats" aria-label="Run status">
        <div className="stat">
          <span className="stat-label">Status</span>
          <span className="stat-value">
            <RunStatusBadge status={run.status} />
          </span>
        </div>
        <div className="stat stat-wide">
          <span className="stat-label">Step</span>
          <span className="stat-value" data-testid="run-step">
            {formatCount(run.step)} / {formatCount(run.maxIters)}
          </span>
          <progress max={100} value={pct} aria-label={`Training progress: ${pct.toFixed(0)}%`} />
        </div>
        <div className="stat">
          <span className="stat-label">ETA</span>
          <span className="stat-value">{etaText(run)}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Train loss</span>
          <span className="stat-value">{formatLoss(m?.loss)}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Best val loss</span>
          <span className="stat-value" data-testid="best-val">
            {formatLoss(run.bestValLoss)}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Tokens/s</span>
          <span className="stat-value">{m ? formatCompact(m.tokensPerSec) : '—'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Elapsed</span>
          <span className="stat-value">{m ? formatDuration(m.elapsedMs / 1000) : '—'}</span>
        </div>
      </div>
      <p className="muted small">
        {run.preset ?? 'custom'} · {formatCompact(run.params)} parameters · dataset {run.data.name} ·{' '}
        {run.device.used ? `on ${run.device.used}` : `device ${run.device.requested}`}
        {run.device.threads ? `, ${run.device.threads} threads` : ''}
        {run.device.precision === 'f16' ? ', f16 products' : ''}
        {run.device.message ? ` — ${run.device.message}` : ''}
      </p>
    </>
  );
}

/** The run's own memory and speed next to live CPU, memory and GPU readings of the machine. */
function ResourcesCard({ run }: { run: RunSummary }) {
  const active = isActive(run.status);
  const stats = useSystemStatsQuery(undefined, {
    pollingInterval: active ? LIVE_POLL_MS : 0,
    skipPollingIfUnfocused: true,
    refetchOnMountOrArgChange: true,
  });
  const m = run.lastMetric;
  return (
    <div className="resources" aria-label="Resources">
      <h3>Resources</h3>
      <dl className="kv">
        <dt>Run memory</dt>
        <dd>{m ? formatBytes(m.rssBytes) : '—'}</dd>
        {run.device.threads ? (
          <>
            <dt>Run threads</dt>
            <dd>{run.device.threads}</dd>
          </>
        ) : null}
        {stats.data ? <LiveReadingRows stats={stats.data} /> : null}
        <dt>Step time</dt>
        <dd>{m ? `${m.msPerStep.toFixed(0)} ms` : '—'}</dd>
        <dt>Tokens seen</dt>
        <dd>{m ? formatCompact(m.tokensSeen) : '—'}</dd>
      </dl>
      {active ? null : (
        <p className="muted small">Readings taken when the page opened; the run is not active.</p>
      )}
    </div>
  );
}

function Checkpoints({ runId, initial, run }: { runId: string; initial: CheckpointInfo[]; run: RunSummary }) {
  const live = useAppSelector((s) => s.runs.checkpoints[runId]);
  const [exportRun, exportState] = useExportRunMutation();
  const byKind = new Map<string, CheckpointInfo>();
  for (const c of [...initial, ...(live ?? [])]) byKind.set(c.kind, c);
  const list = [...byKind.values()].sort((a, b) => b.step - a.step);
  return (
    <article className="card" aria-labelledby="ckpt-title">
      <h2 id="ckpt-title">Checkpoints</h2>
      {list.length === 0 ? (
        <p className="muted">
          The first checkpoint is written at step{' '}
          {run.config.train.checkpointInterval ?? run.config.train.evalInterval}.
        </p>
      ) : (
        <table className="table compact" aria-label="Checkpoints">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Step</th>
              <th scope="col">Val loss</th>
              <th scope="col">Size</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.kind} data-checkpoint={c.kind}>
                <td>
                  {c.kind}
                  {c.isBest ? (
                    <span className="badge badge-ok best-marker" title="lowest validation loss so far">
                      ★ best val
                    </span>
                  ) : null}
                </td>
                <td>{formatCount(c.step)}</td>
                <td>{formatLoss(c.valLoss)}</td>
                <td>{formatBytes(c.bytes)}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary small-button"
                    disabled={exportState.isLoading}
                    onClick={() => void exportRun({ runId, checkpoint: c.kind })}
                  >
                    Export ONNX
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {exportState.error ? <ErrorNotice error={exportState.error} /> : null}
      {exportState.data ? (
        <p role="status" className="small">
          Exported step {exportState.data.step} ({formatBytes(exportState.data.bytes)}):{' '}
          <CopyableValue value={exportState.data.path} what="path" />
        </p>
      ) : null}
      {list.length > 0 ? (
        <p className="small">
          <a href={hrefFor('models')}>Evaluate, publish and claim this model on the Models page</a>
        </p>
      ) : null}
    </article>
  );
}

function Samples({ runId, initial, run }: { runId: string; initial: Sample[]; run: RunSummary }) {
  const live = useAppSelector((s) => s.runs.samples[runId]);
  const [sample, sampleState] = useSampleRunMutation();
  const [prompt, setPrompt] = useState('');
  const [temperature, setTemperature] = useState('0.8');
  const seen = new Set<string>();
  const all = [...(live ?? []), ...[...initial].reverse()].filter((s) => {
    const k = `${s.step}:${s.time}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const temp = Number(temperature);
  const tempError = !(temp > 0 && temp <= 10) ? 'Temperature must be above 0 and at most 10.' : null;
  return (
    <article className="card" aria-labelledby="samples-title">
      <h2 id="samples-title">Samples</h2>
      <form
        className="sample-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!tempError) void sample({ runId, prompt, temperature: temp, maxNewTokens: 200 });
        }}
      >
        <Field
          label="Prompt"
          hint={isActive(run.status) ? 'from the live weights' : 'from the best checkpoint'}
        >
          {(p) => (
            <input {...p} value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="ROMEO:" />
          )}
        </Field>
        <Field label="Temperature" error={tempError}>
          {(p) => (
            <input
              {...p}
              inputMode="decimal"
              value={temperature}
              onChange={(e) => setTemperature(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" disabled={sampleState.isLoading || Boolean(tempError)}>
          {sampleState.isLoading ? 'Generating…' : 'Generate'}
        </button>
      </form>
      {sampleState.error ? <ErrorNotice error={sampleState.error} /> : null}
      {sampleState.data ? (
        <figure className="sample" data-testid="generated-sample">
          <figcaption className="muted small">Generated now (step {sampleState.data.step})</figcaption>
          <pre className="preview">
            <strong>{sampleState.data.prompt}</strong>
            {sampleState.data.text}
          </pre>
        </figure>
      ) : null}
      <div aria-live="polite" aria-label="Samples during training" className="sample-stream">
        {all.length === 0 ? (
          <p className="muted">
            {run.config.train.sampleInterval > 0
              ? `A sample is generated every ${run.config.train.sampleInterval} steps.`
              : 'A sample is generated at the end of training.'}
          </p>
        ) : (
          all.slice(0, 10).map((s) => (
            <figure key={`${s.step}:${s.time}`} className="sample" data-sample-step={s.step}>
              <figcaption className="muted small">
                Step {formatCount(s.step)} · temperature {s.temperature} · {formatTime(s.time)}
              </figcaption>
              <pre className="preview">
                <strong>{s.prompt}</strong>
                {s.text}
              </pre>
            </figure>
          ))
        )}
      </div>
    </article>
  );
}

function ConfigAndLog({ run }: { run: RunSummary }) {
  const logs = useAppSelector((s) => s.runs.logs[run.id]);
  return (
    <div className="cards">
      <details className="card">
        <summary>
          <strong>Configuration</strong>
        </summary>
        <ConfigTable config={run.config} />
        <p className="small muted">
          Folder: <code>{run.runDir}</code>
        </p>
      </details>
      <details className="card" open={Boolean(logs?.some((l) => l.level !== 'info'))}>
        <summary>
          <strong>Log</strong> {logs ? `(${logs.length})` : ''}
        </summary>
        {logs && logs.length > 0 ? (
          <ol className="log">
            {logs.map((l, i) => (
              <li key={i} className={`log-${l.level}`}>
                <span className="muted">{new Date(l.time).toLocaleTimeString('en-GB')}</span> {l.message}
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No log lines since this page opened.</p>
        )}
      </details>
    </div>
  );
}

export function ConfigTable({ config }: { config: RunSummary['config'] }) {
  const rows = [
    ...Object.entries(config.model).map(([k, v]) => [`model.${k}`, v] as const),
    ...Object.entries(config.train).map(([k, v]) => [`train.${k}`, v] as const),
  ];
  return (
    <table className="table compact" aria-label="Configuration">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td>{String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Re-renders a component when the run's table changes (for text derived from the series). */
export function useRunTableVersion(runId: string): number {
  return useTableVersion(metricsStore.table(runId), 1000);
}

/** Where the steps ran: one line per device span (a run resumed on another device has several). */
function DeviceSpansLine({ spans }: { spans: DeviceSpan[] }) {
  if (spans.length === 0) return null;
  return (
    <p className="muted small" data-testid="device-spans">
      Steps ran on:{' '}
      {spans.map((s, i) => (
        <span key={`${s.device}-${s.from}`}>
          {i > 0 ? '; ' : ''}
          {s.from === s.to ? `step ${s.from}` : `steps ${s.from}–${s.to}`} on <code>{s.device}</code>
        </span>
      ))}
    </p>
  );
}
