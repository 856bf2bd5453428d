/**
 * npm run bench:host [-- --clients 50 --iters 1000 --seconds 60]
 *
 * `xai-link serve` in its own process; N WebSocket clients call cheap methods (system.ping, jobs.list,
 * runs.list, settings.get) one after another while a tiny training run streams run.metrics to all of them.
 * Prints p50/p99 call latency, the event lag (how much later each client got a metric event than an idle
 * observer connection did) and whether every client got every metric event in order. Targets: p99 < 500 ms,
 * lag < 1 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';
import { startHostProcess } from '../../src/main/host/testing/hostProcess.ts';
import { RawApiClient } from '../../src/main/host/testing/wsClient.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    iters: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
  },
});
const clientCount = Number(values.clients);
const maxIters = Number(values.iters);
const capMs = Number(values.seconds) * 1000;

const CHEAP_CALLS: [string, unknown][] = [
  ['system.ping', { message: 'bench' }],
  ['jobs.list', {}],
  ['runs.list', {}],
  ['settings.get', {}],
];

const percentile = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

const dir = mkdtempSync(join(tmpdir(), 'xai-bench-host-'));
const host = await startHostProcess(join(dir, 'data'));
try {
  const data = shakespeareCharDataset();
  const observer = await RawApiClient.connect(host.port, host.token);
  const clients = await Promise.all(
    Array.from({ length: clientCount }, () => RawApiClient.connect(host.port, host.token)),
  );
  const created = await observer.invoke('runs.create', {
    name: 'bench-host',
    data: { path: data },
    preset: 'cpu-tiny',
    model: { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32 },
    train: {
      maxIters,
      lrDecayIters: maxIters,
      logInterval: 1,
      evalInterval: maxIters,
      evalIters: 2,
      batchSize: 8,
    },
    threads: 1,
  });
  if (!created.ok) throw new Error(`runs.create failed: ${created.error.message}`);
  const runId = (created.result as { id: string }).id;
  const started = Date.now();
  const finished = (): boolean =>
    Date.now() - started > capMs ||
    observer.events.some(
      (e) =>
        e.event === 'run.status' &&
        ['completed', 'failed', 'stopped'].includes((e.payload as { status: string }).status),
    );

  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    clients.map(async (client, i) => {
      for (let n = i; !finished(); n++) {
        const [method, params] = CHEAP_CALLS[n % CHEAP_CALLS.length]!;
        const t0 = performance.now();
        const reply = await client.invoke(method, params);
        latencies.push(performance.now() - t0);
        if (!reply.ok) errors += 1;
      }
    }),
  );
  if (Date.now() - started > capMs) await observer.invoke('runs.stop', { runId });
  // Let the last events arrive everywhere.
  await new Promise((r) => setTimeout(r, 500));

  const metricsOf = (client: RawApiClient): { step: number; at: number }[] =>
    client.events
      .filter((e) => e.event === 'run.metrics' && (e.payload as { runId: string }).runId === runId)
      .map((e) => ({ step: (e.payload as { metric: { step: number } }).metric.step, at: e.receivedAt }));
  const reference = metricsOf(observer);
  const referenceAt = new Map(reference.map((m) => [m.step, m.at]));
  const lags: number[] = [];
  let inOrder = 0;
  let complete = 0;
  for (const client of clients) {
    const got = metricsOf(client);
    if (got.every((m, k) => k === 0 || m.step > got[k - 1]!.step)) inOrder += 1;
    if (got.length === reference.length) complete += 1;
    for (const m of got) lags.push(Math.max(0, m.at - (referenceAt.get(m.step) ?? m.at)));
  }
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const result = {
    clients: clientCount,
    calls: latencies.length,
    errors,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    p50_ms: Math.round(percentile(latencies, 50)),
    p99_ms: Math.round(percentile(latencies, 99)),
    metric_events: reference.length,
    clients_in_order: inOrder,
    clients_complete: complete,
    lag_p99_ms: Math.round(percentile(lags, 99)),
    lag_max_ms: Math.round(lags.at(-1) ?? NaN),
  };
  console.log(
    `${clientCount} clients, ${result.calls} calls in ${result.seconds} s, ${errors} errors: ` +
      `p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms (target < 500 ms)`,
  );
  console.log(
    `${result.metric_events} metric events: in order at ${inOrder}/${clientCount} clients, ` +
      `all of them at ${complete}/${clientCount}; lag p99 ${result.lag_p99_ms} ms, max ${result.lag_max_ms} ms (target < 1000 ms)`,
  );
  console.log(JSON.stringify(result));
  for (const client of [observer, ...clients]) client.close();
  const ok =
    result.p99_ms < 500 && result.lag_max_ms < 1000 && inOrder === clientCount && complete === clientCount;
  process.exitCode = ok && errors === 0 && reference.length > 0 ? 0 : 1;
} finally {
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}
