import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../shared/api/errors.ts';
import type { RunStatus } from '../../shared/api/runs.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { prepareCharDataset, shakespearePath } from '../engine/testing/charDataset.ts';
import { RunsService, type CreateRunParams } from './runsService.ts';

let root: string;
let dataDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'xai-runs-test-'));
  dataDir = prepareCharDataset(
    readFileSync(shakespearePath(), 'utf8').slice(0, 30_000),
    join(root, 'data'),
    'shakespeare-30k',
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const params = (over: Partial<CreateRunParams> = {}): CreateRunParams => ({
  data: { path: dataDir },
  preset: 'cpu-tiny',
  model: { nLayer: 1, nEmbd: 16, nHead: 2, blockSize: 16 },
  train: {
    batchSize: 4,
    maxIters: 20,
    evalInterval: 10,
    evalIters: 2,
    warmupIters: 2,
    sampleTokens: 8,
    logInterval: 5,
  },
  device: 'cpu',
  threads: 1,
  start: true,
  ...over,
});

/**
 * The statuses runs announce on a bus, kept from the moment the bus is made. A tiny model trains a step in a
 * millisecond in its worker, so a run can reach a status before the test gets round to waiting for it (while
 * create() or resume() is still returning); a wait therefore also looks at what was already announced.
 */
class RunStatuses {
  readonly #seen: { runId: string; status: RunStatus }[] = [];
  readonly #waiting = new Set<() => void>();
  /** Per run, the index after the status its last wait returned: each wait looks only further on. */
  readonly #from = new Map<string, number>();

  constructor(events: EventBus) {
    events.on('run.status', (p) => {
      this.#seen.push({ runId: p.runId, status: p.status });
      for (const wake of [...this.#waiting]) wake();
    });
  }

  /** The first of `statuses` the run announces after the one its previous wait returned. */
  next(runId: string, statuses: RunStatus[]): Promise<RunStatus> {
    return new Promise((resolve) => {
      const look = () => {
        const at = this.#seen.findIndex(
          (e, i) => i >= (this.#from.get(runId) ?? 0) && e.runId === runId && statuses.includes(e.status),
        );
        if (at < 0) return;
        this.#waiting.delete(look);
        this.#from.set(runId, at + 1);
        resolve(this.#seen[at]!.status);
      };
      this.#waiting.add(look);
      look();
    });
  }
}

/**
 * Stops the first run of `runs` that writes the checkpoint of `step`, from within the event, so that it stops
 * long before its last step; resolves with that run's id. Set up before the run is created: the checkpoint can
 * come before create() returns.
 */
function stopAtCheckpoint(events: EventBus, runs: RunsService, step: number): Promise<string> {
  return new Promise((resolve) => {
    const off = events.on('run.checkpoint', (p) => {
      if (p.checkpoint.step !== step || !runs.list().some((r) => r.id === p.runId)) return;
      off();
      runs.stop(p.runId);
      resolve(p.runId);
    });
  });
}

describe('RunsService', () => {
  it('creates and trains a run, streams events, keeps everything on disk; list/get survive a restart', async () => {
    const events = new EventBus();
    const statuses = new RunStatuses(events);
    const seen: string[] = [];
    events.subscribe((name) => seen.push(name));
    const runs = new RunsService({ runsDir: join(root, 'runs'), events });
    const run = await runs.create(params({ name: 'tiny' }));
    expect(run).toMatchObject({
      name: 'tiny',
      status: 'starting',
      maxIters: 20,
      tokensPerStep: 64,
      data: { name: 'shakespeare-30k', tokenizer: 'char' },
    });
    expect(await statuses.next(run.id, ['completed', 'failed'])).toBe('completed');
    for (const e of ['run.status', 'run.metrics', 'run.eval', 'run.checkpoint', 'run.sample', 'run.log'])
      expect(seen).toContain(e);

    const restarted = new RunsService({ runsDir: join(root, 'runs'), events: new EventBus() });
    const listed = restarted.list();
    expect(listed.map((r) => [r.id, r.status, r.step])).toEqual([[run.id, 'completed', 20]]);
    const detail = restarted.get(run.id);
    expect(detail.metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual([5, 10, 15, 20]);
    expect(detail.metrics.filter((m) => m.kind === 'eval').map((m) => m.step)).toEqual([0, 10, 20]);
    expect(detail.checkpoints.map((c) => [c.kind, c.step])).toEqual([
      ['latest', 20],
      ['best', 20],
    ]);
    expect(detail.checkpoints[0]!.isBest).toBe(true);
    expect(detail.samples).toHaveLength(1);
    expect(detail.run.device).toMatchObject({ used: 'cpu', threads: 1 });

    // sampling and export from the stored checkpoint; the exported model loads in plain ONNX Runtime
    await expect(
      restarted.sample({
        runId: run.id,
        checkpoint: 'best',
        prompt: 'KING',
        maxNewTokens: 1,
        temperature: 1,
        topK: 0,
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      field: 'prompt',
      message: expect.stringMatching(/'K' .* is not in the char tokenizer's vocabulary/),
    });
    const s1 = await restarted.sample({
      runId: run.id,
      checkpoint: 'best',
      prompt: 'First',
      maxNewTokens: 12,
      temperature: 0.8,
      topK: 10,
      seed: 3,
    });
    expect(s1.text).toHaveLength(12);
    const out = join(root, 'exported.onnx');
    const exported = await restarted.export({ runId: run.id, checkpoint: 'best', outPath: out });
    expect(exported).toMatchObject({ path: out, step: 20 });
    const s2 = await restarted.sample({
      path: out,
      checkpoint: 'best',
      prompt: 'First',
      maxNewTokens: 12,
      temperature: 0.8,
      topK: 10,
      seed: 3,
    });
    expect(s2.text).toBe(s1.text);
    const plain = await ort.InferenceSession.create(out);
    expect(plain.inputNames).toEqual(['input_ids']);
    expect(plain.outputNames).toEqual(['logits']);
    await plain.release();
  });

  it('rejects invalid configurations with the field and what to change, before anything runs', async () => {
    const runs = new RunsService({ runsDir: join(root, 'runs-bad'), events: new EventBus() });
    const fail = (p: CreateRunParams) =>
      runs.create(p).then(
        () => null,
        (e: unknown) => e as ApiError,
      );
    const e1 = await fail(params({ model: { nEmbd: 30, nHead: 4 } }));
    expect(e1).toMatchObject({ code: 'INVALID_PARAMS', field: 'model.nEmbd' });
    expect(e1?.message).toMatch(/divisible by nHead \(4\): use nEmbd 28 or 32/);
    const e2 = await fail(params({ model: { blockSize: 4000 } }));
    expect(e2).toMatchObject({ code: 'INVALID_PARAMS', field: 'model.blockSize' });
    expect(e2?.message).toMatch(/does not fit the val split \(3000 tokens\)/);
    const e3 = await fail(params({ data: { path: join(root, 'nope') } }));
    expect(e3).toMatchObject({ code: 'INVALID_PARAMS', field: 'data.path' });
    expect(runs.list()).toEqual([]);
  });

  it('a run whose process died shows as interrupted and resumes from its latest checkpoint', async () => {
    const events = new EventBus();
    const statuses = new RunStatuses(events);
    const runsDir = join(root, 'runs-int');
    const runs = new RunsService({ runsDir, events });
    const stopped = stopAtCheckpoint(events, runs, 10);
    const run = await runs.create(
      params({
        device: 'auto',
        train: { batchSize: 4, maxIters: 30, evalInterval: 10, evalIters: 2, warmupIters: 2, logInterval: 1 },
      }),
    );
    expect(await stopped).toBe(run.id);
    // 'completed' too: a stop that came too late fails here rather than waiting forever
    expect(await statuses.next(run.id, ['stopped', 'failed', 'completed'])).toBe('stopped');
    // simulate a crash: the record says running, owned by a process that no longer exists
    const file = join(runs.get(run.id).run.runDir, 'run.json');
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(
      file,
      JSON.stringify({
        ...rec,
        status: 'running',
        owner: { pid: 2 ** 22 + 12345, host: hostname(), since: '' },
      }),
    );
    const after = new RunsService({ runsDir, events });
    expect(after.list()[0]).toMatchObject({ id: run.id, status: 'interrupted' });
    await expect(async () => after.pause(run.id)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    const resumed = await after.resume(run.id);
    expect(resumed.status).toBe('starting');
    expect(await statuses.next(run.id, ['completed', 'failed'])).toBe('completed');
    const metrics = after
      .get(run.id)
      .metrics.filter((m) => m.kind === 'train')
      .map((m) => m.step);
    expect(metrics).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(existsSync(join(resumed.runDir, 'checkpoints', 'latest.safetensors'))).toBe(true);
    // an "auto" run resumes where it trained, without timing the devices again
    expect(after.get(run.id).run.device).toMatchObject({ requested: 'auto', used: 'cpu' });
    expect(after.get(run.id).run.device.message).toMatch(
      /^Kept the device this run trained on\. Training on CPU/,
    );
  });
});

describe('RunsService after a damaged checkpoint', () => {
  it('sets a torn latest checkpoint aside with a message and trains again to the same weights', async () => {
    const events = new EventBus();
    const statuses = new RunStatuses(events);
    // stopped at step 8's checkpoint with 24 steps to go: the stop reaches the worker long before the end
    const train = {
      batchSize: 4,
      maxIters: 32,
      evalInterval: 4,
      evalIters: 1,
      warmupIters: 2,
      logInterval: 1,
    };
    const reference = new RunsService({ runsDir: join(root, 'runs-ref'), events });
    const ref = await reference.create(params({ train }));
    expect(await statuses.next(ref.id, ['completed', 'failed'])).toBe('completed');

    const runsDir = join(root, 'runs-torn');
    const runs = new RunsService({ runsDir, events });
    const stopped = stopAtCheckpoint(events, runs, 8);
    const run = await runs.create(params({ train }));
    expect(await stopped).toBe(run.id);
    expect(await statuses.next(run.id, ['stopped', 'failed', 'completed'])).toBe('stopped');
    // The disk tears the checkpoint (writes are atomic, so only the disk or a hand can).
    const latest = join(run.runDir, 'checkpoints', 'latest.safetensors');
    const bytes = readFileSync(latest);
    writeFileSync(latest, bytes.subarray(0, bytes.length >> 1));

    const logs: string[] = [];
    events.on('run.log', (p) => p.runId === run.id && p.level === 'warn' && logs.push(p.message));
    const after = new RunsService({ runsDir, events });
    await after.resume(run.id);
    expect(await statuses.next(run.id, ['completed', 'failed'])).toBe('completed');
    expect(logs.join('\n')).toMatch(
      /latest checkpoint is damaged .*kept it as .*latest\.safetensors\.broken-/,
    );
    expect(readdirSync(join(run.runDir, 'checkpoints')).filter((f) => f.includes('.broken-'))).toHaveLength(
      1,
    );
    const weights = (dir: string) => loadCheckpoint(join(dir, 'checkpoints', 'latest.safetensors')).state;
    const [got, want] = [weights(run.runDir), weights(ref.runDir)];
    expect(got.step).toBe(32);
    expect(Buffer.from(got.params.buffer).equals(Buffer.from(want.params.buffer))).toBe(true);
    expect(Buffer.from(got.m.buffer).equals(Buffer.from(want.m.buffer))).toBe(true);
    // The first attempt's metrics were dropped: each step once.
    const steps = after
      .get(run.id)
      .metrics.filter((m) => m.kind === 'train')
      .map((m) => m.step);
    expect(steps).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  }, 120_000);
});
