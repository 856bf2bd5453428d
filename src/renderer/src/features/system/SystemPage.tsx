import { bridge } from '../../api/client.ts';
import { ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { ChartSpeedCard } from './ChartSpeedCard.tsx';
import { LiveReadingRows } from './LiveReadings.tsx';
import { LIVE_POLL_MS } from './liveReadings.ts';
import { useSystemInfoQuery, useLazySystemInfoQuery, useSystemStatsQuery } from './systemApi.ts';
import { useRunsQuery } from '../runs/runsApi.ts';
import { lastSpeedPerDevice } from './measuredSpeed.ts';

function formatBytes(n: number): string {
  const gib = n / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

export function SystemPage() {
  const { data, error, isLoading, refetch } = useSystemInfoQuery({ refresh: false });
  const [reprobe, reprobeState] = useLazySystemInfoQuery();
  const info = reprobeState.data ?? data;

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="System">
        <button
          type="button"
          onClick={() => void reprobe({ refresh: true })}
          disabled={reprobeState.isFetching}
        >
          {reprobeState.isFetching ? 'Probing…' : 'Probe devices again'}
        </button>
      </PageHeader>
      {isLoading ? <Loading what="system report" /> : null}
      {error ? <ErrorNotice error={error} onRetry={() => void refetch()} /> : null}
      {info ? (
        <>
          <div className="cards">
            <article className="card">
              <h2>Application</h2>
              <dl className="kv">
                <dt>Version</dt>
                <dd>
                  {info.app.name} {info.app.version}
                </dd>
                <dt>Running as</dt>
                <dd>
                  {info.entryPoint === 'electron'
                    ? 'desktop app'
                    : info.entryPoint === 'host'
                      ? 'headless host'
                      : 'CLI'}
                </dd>
                <dt>Data directory</dt>
                <dd>
                  <code>{info.dataDir}</code>
                </dd>
              </dl>
            </article>
            <article className="card">
              <h2>Runtime</h2>
              <dl className="kv">
                <dt>Node.js</dt>
                <dd>{info.runtime.node}</dd>
                <dt>Electron</dt>
                <dd>{info.runtime.electron ?? 'not in use'}</dd>
                <dt>Chromium</dt>
                <dd>{info.runtime.chromium ?? (bridge.runtime.chromium || 'unknown')}</dd>
                <dt>Platform</dt>
                <dd>
                  {info.runtime.platform} {info.runtime.arch}
                </dd>
              </dl>
            </article>
            <article className="card">
              <h2>Hardware</h2>
              <dl className="kv">
                <dt>CPU</dt>
                <dd>
                  {info.cpu.model} ({info.cpu.cores} cores)
                </dd>
                <dt>Memory</dt>
                <dd>
                  {formatBytes(info.memory.freeBytes)} free of {formatBytes(info.memory.totalBytes)}
                </dd>
              </dl>
            </article>
          </div>
          <article className="card">
            <h2>Training devices (ONNX Runtime {info.onnxRuntime.version})</h2>
            <p className="muted">Each provider was tried for real: a test graph was created and run on it.</p>
            <table className="table" aria-label="Execution providers">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Usable</th>
                  <th scope="col">Detail</th>
                  <th scope="col">Probe</th>
                </tr>
              </thead>
              <tbody>
                {info.onnxRuntime.providers.map((p) => (
                  <tr key={p.name} data-provider={p.name}>
                    <td>
                      <code>{p.name}</code>
                    </td>
                    <td>
                      <span className={`badge ${p.usable ? 'badge-ok' : 'badge-no'}`}>
                        {p.usable ? 'yes' : 'no'}
                      </span>
                      {p.software ? (
                        <>
                          {' '}
                          <span className="badge badge-neutral">software</span>
                        </>
                      ) : null}
                    </td>
                    <td>{p.detail}</td>
                    <td>{p.probeMs.toFixed(0)} ms</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </article>
        </>
      ) : null}
      <MeasuredSpeedCard />
      <LiveReadingsCard />
      <ChartSpeedCard />
    </section>
  );
}

/** CPU load, memory and GPU readings, refreshed every 2 s while the page is open (and the window focused). */
function LiveReadingsCard() {
  const stats = useSystemStatsQuery(undefined, {
    pollingInterval: LIVE_POLL_MS,
    skipPollingIfUnfocused: true,
  });
  return (
    <article className="card" aria-labelledby="live-readings-title">
      <h2 id="live-readings-title">Live readings</h2>
      {stats.data ? (
        <dl className="kv">
          <LiveReadingRows stats={stats.data} appMemory />
        </dl>
      ) : stats.error ? (
        <ErrorNotice error={stats.error} onRetry={() => void stats.refetch()} />
      ) : (
        <Loading what="live readings" />
      )}
    </article>
  );
}

/** The last tokens/s each device reached, from the runs' own metrics (`--device auto` times its own step). */
function MeasuredSpeedCard() {
  const { data: runs } = useRunsQuery(undefined);
  const rows = lastSpeedPerDevice(runs ?? []);
  return (
    <article className="card" aria-labelledby="measured-speed-title">
      <h2 id="measured-speed-title">Measured training speed</h2>
      {rows.length === 0 ? (
        <p className="muted">
          No run has trained yet: each device's last tokens/s appears here after one does.
        </p>
      ) : (
        <table className="table" aria-label="Last measured tokens per second per device">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Tokens/s</th>
              <th scope="col">Run</th>
              <th scope="col">Model</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.device} data-device={r.device}>
                <td>
                  <code>{r.device}</code>
                </td>
                <td>{Math.round(r.tokensPerSec).toLocaleString('en-US')}</td>
                <td>{r.runName}</td>
                <td>{r.model}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
