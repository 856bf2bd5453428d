import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../shared/api/runs.ts';
import { runConfigSchema, type RunConfigInput } from '../../shared/engine/config.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { Rng } from './rng.ts';
import { TorchGenerator } from './torchRng.ts';
import { prepareCharDataset, shakespearePath } from './testing/charDataset.ts';
import { ConfigError, prepareData, RUN_FILES, Trainer, type TrainerEvent } from './trainer.ts';
import { startTrainingWorker } from './trainingWorker.ts';

const here = dirname(fileURLToPath(import.meta.url));
let root: string;
let dataDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'xai-trainer-test-'));
  const text = readFileSync(shakespearePath(), 'utf8').slice(0, 40_000);
  dataDir = prepareCharDataset(text, join(root, 'data'), 'shakespeare-40k');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const small = (train: Partial<RunConfigInput['train']> = {}, model: Partial<RunConfigInput['model']> = {}) =>
  runConfigSchema.parse({
    model: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, dropout: 0, bias: false, ...model },
    train: {
      batchSize: 4,
      maxIters: 30,
      warmupIters: 5,
      learningRate: 1e-2,
      minLr: 1e-3,
      evalInterval: 10,
      evalIters: 2,
      logInterval: 1,
      checkpointInterval: 5,
      sampleTokens: 20,
      ...train,
    },
  });

async function train(
  runDir: string,
  config = small(),
  extra: { stopAt?: number; resume?: boolean; events?: TrainerEvent[] } = {},
) {
  const losses = new Map<number, number>();
  const trainer: Trainer = await Trainer.create({
    config,
    data: { path: dataDir },
    runDir,
    device: 'cpu',
    threads: 1,
    resume: extra.resume,
    onEvent: (e) => {
      extra.events?.push(e);
      if (e.type === 'metric') {
        losses.set(e.metric.step, e.metric.loss);
        if (e.metric.step === extra.stopAt) trainer.stop();
      }
    },
  });
  const done = await trainer.run();
  await trainer.close();
  return { losses, done };
}

function readMetrics(runDir: string): MetricRecord[] {
  return readFileSync(join(runDir, RUN_FILES.metrics), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MetricRecord);
}

describe('Trainer', () => {
  let reference: Map<number, number>;

  it('trains: the loss falls, evaluations, checkpoints, samples and metrics are recorded', async () => {
    const runDir = join(root, 'ref');
    const events: TrainerEvent[] = [];
    const { losses, done } = await train(runDir, small(), { events });
    reference = losses;
    expect(done).toMatchObject({ status: 'completed', step: 30 });
    expect(losses.size).toBe(30);
    const first = losses.get(1)!;
    expect(first).toBeGreaterThan(3.5); // ≈ ln(vocab)
    // a single 64-token batch's loss is noisy (±0.3): the mean of the last ten steps
    const last10 = [...losses.values()].slice(-10);
    expect(last10.reduce((a, b) => a + b, 0) / 10).toBeLessThan(first - 0.5);
    const evals = events.filter((e) => e.type === 'eval').map((e) => e.metric.step);
    expect(evals).toEqual([0, 10, 20, 30]);
    expect(events.find((e) => e.type === 'started')).toMatchObject({
      device: 'cpu',
      threads: 1,
      resumed: false,
    });
    const sample = events.find((e) => e.type === 'sample');
    expect(sample?.type === 'sample' && sample.sample.text.length).toBe(20);
    const ckpt = loadCheckpoint(join(runDir, RUN_FILES.latest));
    expect(ckpt.state.step).toBe(30);
    expect(ckpt.dataset.name).toBe('shakespeare-40k');
    expect(existsSync(join(runDir, RUN_FILES.best))).toBe(true);
    const metrics = readMetrics(runDir);
    expect(metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    // the seed gives nanoGPT's run: torch.manual_seed(1337), nanoGPT's GPT(vocab 58, 1 layer, 2 heads, 16 wide,
    // block 16) in PyTorch 1.13, train.py's get_batch before the loop, estimate_loss at iteration 0 (2 batches
    // per split), then the first step on the prefetched batch (see scripts/bench/parity.ts for the full check)
    const eval0 = events.find((e) => e.type === 'eval')!;
    expect(eval0.type === 'eval' && eval0.metric.trainLoss).toBeCloseTo(4.059885263442993, 5);
    expect(eval0.type === 'eval' && eval0.metric.valLoss).toBeCloseTo(4.061620235443115, 5);
    expect(first).toBeCloseTo(4.056426525115967, 5);
    expect(ckpt.state.rngState).toMatch(/^mt19937:/);
    expect(ckpt.state.pendingBatch).toHaveLength(4);
  });

  it('a stopped run resumed from its checkpoint follows the same loss curve exactly', async () => {
    const runDir = join(root, 'stop-resume');
    const a = await train(runDir, small(), { stopAt: 12 });
    expect(a.done).toMatchObject({ status: 'stopped', step: 12 });
    expect(loadCheckpoint(join(runDir, RUN_FILES.latest)).state.step).toBe(12);
    const b = await train(runDir, small(), { resume: true });
    expect(b.done).toMatchObject({ status: 'completed', step: 30 });
    const combined = new Map([...a.losses, ...b.losses]);
    expect([...combined.entries()].sort((x, y) => x[0] - y[0])).toEqual(
      [...reference.entries()].sort((x, y) => x[0] - y[0]),
    );
    expect(
      readMetrics(runDir)
        .filter((m) => m.kind === 'train')
        .map((m) => m.step),
    ).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a run stopped at an evaluation step evaluates on resume, and follows the same curve', async () => {
    const runDir = join(root, 'stop-at-eval');
    const a = await train(runDir, small(), { stopAt: 10 });
    expect(a.done).toMatchObject({ status: 'stopped', step: 10 });
    const events: TrainerEvent[] = [];
    const b = await train(runDir, small(), { resume: true, events });
    expect(events.filter((e) => e.type === 'eval').map((e) => e.type === 'eval' && e.metric.step)).toEqual([
      10, 20, 30,
    ]);
    const combined = new Map([...a.losses, ...b.losses]);
    expect([...combined.values()]).toEqual([...reference.values()]);
  });

  it('a run resumed after its evaluation and stopped at once keeps that evaluation: no second draw of its batches', async () => {
    const a = join(root, 'eval-kept-a');
    const b = join(root, 'eval-kept-b');
    await train(a, small({ maxIters: 10 })); // ends with the evaluation at 10, then its checkpoint
    cpSync(a, b, { recursive: true });
    const run = async (dir: string, stopAtOnce: boolean) => {
      const losses: number[] = [];
      const t = await Trainer.create({
        config: small({ maxIters: 10 }),
        data: { path: dataDir },
        runDir: dir,
        device: 'cpu',
        threads: 1,
        resume: true,
        maxIters: 20,
        onEvent: (e) => void (e.type === 'metric' && losses.push(e.metric.loss)),
      });
      if (stopAtOnce) t.stop();
      await t.run();
      await t.close();
      return losses;
    };
    const straight = await run(a, false);
    expect(await run(b, true)).toEqual([]);
    expect(loadCheckpoint(join(b, RUN_FILES.latest)).state).toMatchObject({
      step: 10,
      valLoss: expect.any(Number),
    });
    expect(await run(b, false)).toEqual(straight);
  });

  it('resumes a format-1 checkpoint with its own generator, and refuses one without a generator state', async () => {
    const runDir = join(root, 'legacy');
    await train(runDir, small(), { stopAt: 12 });
    const path = join(runDir, RUN_FILES.latest);
    const ckpt = loadCheckpoint(path);
    const legacyState = new Rng(99).getState();
    const asLegacy = (rngState: string) =>
      saveCheckpoint(path, { ...ckpt.state, rngState, pendingBatch: null }, ckpt);
    asLegacy(legacyState);
    const b = await train(runDir, small(), { resume: true });
    expect(b.done).toMatchObject({ status: 'completed', step: 30 });
    const after = loadCheckpoint(path).state.rngState;
    expect(after).toMatch(/^[0-9a-f]{32}$/); // still the legacy stream
    // the same legacy checkpoint resumes the same way
    asLegacy(legacyState);
    const c = await train(runDir, small(), { resume: true });
    expect([...c.losses.values()]).toEqual([...b.losses.values()]);
    expect([...b.losses.values()]).not.toEqual([...reference.values()].slice(12));
    asLegacy('');
    await expect(train(runDir, small(), { resume: true })).rejects.toThrow(/no batch generator state/);
  });

  it('a process killed with SIGKILL mid-run resumes from its last checkpoint, nothing corrupted, same curve', async () => {
    const runDir = join(root, 'killed');
    const opts = { config: small(), data: { path: dataDir }, runDir, device: 'cpu', threads: 1 };
    const child = spawn(process.execPath, [join(here, 'testing/trainChild.ts'), JSON.stringify(opts), '15'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // killed after the step-15 checkpoint, somewhere in the steps that follow
        if (/checkpoint latest 15/.test(out)) setTimeout(() => (child.kill('SIGKILL'), resolve()), 40);
      });
      child.on('exit', () => reject(new Error(`child ended before it was killed: ${out}`)));
    });
    expect(await exited).toBe('SIGKILL');
    const ckpt = loadCheckpoint(join(runDir, RUN_FILES.latest));
    expect(ckpt.state.step).toBeGreaterThanOrEqual(15);
    expect(ckpt.state.step).toBeLessThan(30);
    const before = readMetrics(runDir).filter((m) => m.kind === 'train');
    expect(before.length).toBeGreaterThan(ckpt.state.step); // it logged steps past the checkpoint
    const b = await train(runDir, small(), { resume: true });
    expect(b.done).toMatchObject({ status: 'completed', step: 30 });
    const metrics = readMetrics(runDir).filter((m) => m.kind === 'train');
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(metrics.map((m) => m.loss)).toEqual([...reference.values()]);
  });

  it('gradient accumulation: one micro-batch drawn per micro-step, as train.py (the math: runner.test.ts)', async () => {
    const events: TrainerEvent[] = [];
    const two = await train(join(root, 'accum-2'), small({ maxIters: 8, batchSize: 2, gradAccumSteps: 2 }), {
      events,
    });
    expect(two.done).toMatchObject({ status: 'completed', step: 8 });
    expect(two.losses.size).toBe(8);
    // batches of 2 offsets: the prefetch, evaluation at 0 (2 train + 2 val batches), 2 per step (each
    // micro-step trains on the batch drawn before it and draws the next), the last of them the one
    // pending in the checkpoint, then the final evaluation at 8 (4 batches)
    const ckpt = loadCheckpoint(join(root, 'accum-2', RUN_FILES.latest));
    const gen = new TorchGenerator(ckpt.config.train.seed);
    initParams(gptParamLayout(ckpt.model), gen);
    gen.skip(2 * (1 + 4 + 8 * 2 - 1));
    const span = ckpt.dataset.trainTokens - 16;
    expect(ckpt.state.pendingBatch).toEqual([gen.randint(span), gen.randint(span)]);
    gen.skip(2 * 4);
    expect(ckpt.state.rngState).toBe(gen.getState());
  });

  it('rejects invalid configurations before anything runs, saying what to change', () => {
    expect(() =>
      runConfigSchema.parse({
        model: { nLayer: 1, nHead: 3, nEmbd: 16, blockSize: 8 },
        train: { batchSize: 1, maxIters: 1 },
      }),
    ).toThrow(/divisible by nHead \(3\): use nEmbd 15 or 18/);
    expect(() =>
      runConfigSchema.parse({
        model: { nLayer: 0, nHead: 1, nEmbd: 16, blockSize: 8 },
        train: { batchSize: 1, maxIters: 1 },
      }),
    ).toThrow(/nLayer \(number of layers\) must be at least 1/);
    expect(() => prepareData(small({}, { blockSize: 5000 }), { path: dataDir })).toThrow(ConfigError);
    expect(() => prepareData(small({}, { blockSize: 5000 }), { path: dataDir })).toThrow(
      /blockSize 5000 does not fit the val split \(4000 tokens\): use blockSize 3999 or less/,
    );
    expect(() => prepareData(small({}, { vocabSize: 10 }), { path: dataDir })).toThrow(
      /vocabSize 10 is smaller than the dataset's vocabulary/,
    );
    // a bare token file: needs a vocabulary size, and its ids must fit in it
    const bare = join(root, 'tokens.bin');
    writeFileSync(bare, new Uint8Array(Uint16Array.from({ length: 2000 }, (_, i) => i % 50).buffer));
    expect(() => prepareData(small(), { path: bare })).toThrow(/bare token file/);
    expect(() => prepareData(small(), { path: bare, vocabSize: 40 })).toThrow(
      /holds id 49, beyond vocabSize 40: use vocabSize 50/,
    );
    const ok = prepareData(small(), { path: bare, vocabSize: 50 });
    expect(ok.ds.ref).toMatchObject({ kind: 'tokens', trainTokens: 1800, valTokens: 200, vocabSize: 50 });
    ok.ds.close();
  });

  it('runs in a worker thread: events, pause, resume, sample and stop', async () => {
    const runDir = join(root, 'worker');
    const events: TrainerEvent[] = [];
    let handle!: ReturnType<typeof startTrainingWorker>;
    let paused = false;
    const sampled = new Promise<string>((resolve, reject) => {
      handle = startTrainingWorker(
        {
          config: small({ maxIters: 100000, evalInterval: 1000 }),
          data: { path: dataDir },
          runDir,
          device: 'cpu',
          threads: 1,
        },
        (e) => {
          events.push(e);
          if (e.type === 'metric' && e.metric.step === 3 && !paused) {
            paused = true;
            handle.pause();
          }
          if (e.type === 'status' && e.status === 'paused') {
            handle
              .sample({ prompt: 'ROMEO:', maxNewTokens: 10, temperature: 1, topK: 5, seed: 1 })
              .then((s) => {
                handle.resume();
                resolve(s.text);
              }, reject);
          }
          if (e.type === 'metric' && e.metric.step === 8) handle.stop();
        },
      );
    });
    expect((await sampled).length).toBe(10);
    await handle.done;
    const statuses = events
      .filter((e) => e.type === 'status')
      .map((e) => (e.type === 'status' ? e.status : ''));
    expect(statuses).toEqual(['running', 'paused', 'running', 'stopping']);
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'stopped' });
    expect(loadCheckpoint(join(runDir, RUN_FILES.latest)).state.step).toBeGreaterThanOrEqual(8);
  });

  it('reports a configuration error from the worker as a failure with its issues', async () => {
    const handle = startTrainingWorker(
      {
        config: small({}, { blockSize: 5000 }),
        data: { path: dataDir },
        runDir: join(root, 'bad'),
        device: 'cpu',
      },
      () => {},
    );
    await expect(handle.done).rejects.toMatchObject({
      kind: 'ConfigError',
      issues: [{ path: 'model.blockSize', message: expect.stringMatching(/val split/) }],
    });
  });
});
