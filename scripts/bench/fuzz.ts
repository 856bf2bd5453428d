/**
 * npm run bench:fuzz [-- --cases 100000 --seed N --transport both|dispatcher|ws --log]
 *
 * The API fuzz at scale: every method of the contract with random and mutated params derived from its zod
 * schema, through the dispatcher (in process) and through the WebSocket of `xai-link serve` in its own
 * process, all against a temporary data directory. After every case the host must be alive and answer a
 * cheap call. Prints the counts per transport, verdict and mutation, and any INTERNAL error or missing reply.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAppCore } from '../../src/main/rpc/localClient.ts';
import { createServices } from '../../src/main/services/services.ts';
import { FuzzTally, fuzzCase, type FuzzCase } from '../../src/main/host/testing/apiFuzz.ts';
import { startHostProcess } from '../../src/main/host/testing/hostProcess.ts';
import { RawApiClient } from '../../src/main/host/testing/wsClient.ts';
import type { ResultEnvelope } from '../../src/shared/api/wire.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    transport: { type: 'string', default: 'both' },
    log: { type: 'boolean', default: false },
  },
});
const total = Number(values.cases);
const seed = Number(values.seed);
const transports = values.transport === 'both' ? ['dispatcher', 'ws'] : [values.transport!];
const dir = mkdtempSync(join(tmpdir(), 'xai-bench-fuzz-'));
mkdirSync(join(dir, 'cwd'));
process.chdir(join(dir, 'cwd'));
const perTransport = Math.ceil(total / transports.length);
const describeCase = (c: FuzzCase): string => {
  const text = JSON.stringify(c.params) ?? 'undefined';
  return `${c.method} (${c.mutation}) ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
};
let failed = false;

async function fuzz(
  name: string,
  invoke: (method: unknown, params: unknown) => Promise<ResultEnvelope>,
  healthy: () => Promise<boolean>,
): Promise<void> {
  const tally = new FuzzTally();
  const noReply: string[] = [];
  /** Jobs (demo.run, pipelines.run…) answer when they end: a timeout with the job still running is not a lost reply. */
  const longJobs: string[] = [];
  const started = performance.now();
  const cases = fc.sample(fuzzCase, { numRuns: perTransport, seed });
  for (const [i, c] of cases.entries()) {
    if (values.log) console.log(`${name} #${i}: ${describeCase(c)}`);
    const reply = await invoke(c.method, c.params);
    let cancelled = 0;
    const jobs = await invoke('jobs.list', {});
    if (jobs.ok)
      for (const job of jobs.result as { jobId: string; status: string }[])
        if (job.status === 'running') {
          await invoke('jobs.cancel', { jobId: job.jobId });
          cancelled++;
        }
    if (!reply.ok && reply.error.code === 'UNAVAILABLE' && /no reply within/.test(reply.error.message))
      (cancelled > 0 ? longJobs : noReply).push(describeCase(c));
    tally.add(c, reply);
    if (!(await healthy())) {
      console.error(`${name}: the host stopped answering after case #${i}: ${describeCase(c)}`);
      failed = true;
      break;
    }
    if ((i + 1) % 10_000 === 0) console.log(`${name}: ${i + 1} cases…`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${name}: ${tally.total} cases in ${seconds.toFixed(1)} s (seed ${seed})`);
  console.log(`  verdicts:  ${JSON.stringify(tally.byVerdict)}`);
  console.log(`  mutations: ${JSON.stringify(tally.byMutation)}`);
  console.log(`  methods:   ${Object.keys(tally.byMethod).length} distinct`);
  console.log(`  no reply:  ${noReply.length}`);
  console.log(`  long jobs still running at the client's timeout, cancelled: ${longJobs.length}`);
  for (const line of noReply.slice(0, 10)) console.log(`    ${line}`);
  for (const { method, message } of tally.internal.slice(0, 20))
    console.log(`  INTERNAL ${method}: ${message}`);
  if (tally.internal.length || noReply.length) failed = true;
}

try {
  if (transports.includes('dispatcher')) {
    const services = createServices({ dataDir: join(dir, 'dispatcher-data'), entryPoint: 'host' });
    const { dispatcher } = createAppCore(services);
    const invoke = (method: unknown, params: unknown) =>
      dispatcher.invoke(method, params, { entryPoint: 'host' });
    await fuzz('dispatcher', invoke, async () => (await invoke('system.ping', { message: 'ok' })).ok);
    await services.dispose();
  }
  if (transports.includes('ws')) {
    const host = await startHostProcess(join(dir, 'host-data'), { cwd: join(dir, 'cwd') });
    const client = await RawApiClient.connect(host.port, host.token);
    const invoke = (method: unknown, params: unknown) => client.invoke(method, params, 20_000);
    await fuzz(
      'websocket',
      invoke,
      async () => host.alive() && (await invoke('system.ping', { message: 'ok' })).ok,
    );
    console.log(`  host process: ${host.alive() ? 'alive' : `exited\n${host.log()}`}`);
    client.close();
    await host.stop();
  }
} finally {
  process.chdir(tmpdir());
  rmSync(dir, { recursive: true, force: true });
}
console.log(failed ? '\nFAILED' : '\nOK: 0 process exits, every reply a valid result or a typed error');
process.exitCode = failed ? 1 : 0;
