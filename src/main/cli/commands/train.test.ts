/**
 * `xai-link train`, `sample` and `export` as a user runs them: the real CLI in a child process, on a tiny
 * character dataset prepared by `xai-link prepare`, with a model small enough to train in a second.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary, Sample } from '../../../shared/api/runs.ts';
import { loadCheckpoint } from '../../engine/checkpoint.ts';
import { shakespearePath } from '../../engine/testing/charDataset.ts';
import { cliWithDataDir, jsonOf, type Cli } from '../testing/cliProcess.ts';

let dir: string;
let cli: Cli;
let dataset: string;

/** One layer, 16 wide, 8-token context: a run of a few steps takes about a second. */
const TINY = [
  '--batch-size',
  '2',
  '--block-size',
  '8',
  '--set',
  'model.nLayer=1',
  '--set',
  'model.nHead=2',
  '--set',
  'model.nEmbd=16',
  '--eval-interval',
  '2',
  '--eval-iters',
  '1',
  '--device',
  'cpu',
  '--threads',
  '1',
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xai-cli-train-'));
  cli = cliWithDataDir(join(dir, 'data'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(shakespearePath(), 'utf8').slice(0, 20_000));
  const prepared = jsonOf<{ path: string; vocabSize: number }>(
    await cli('prepare', join(dir, 'small.txt'), '--tokenizer', 'char', '--name', 'tiny', '--json'),
  );
  dataset = prepared.path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The steps of the training records in a run's metrics.jsonl, in file order. */
function trainSteps(runDir: string): number[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string; step: number })
    .filter((m) => m.kind === 'train')
    .map((m) => m.step);
}

describe('xai-link train → sample → export', () => {
  it('trains, resumes from the checkpoint step, samples from the checkpoint, the run and the exported .onnx', async () => {
    const runDir = join(dir, 'run');
    const trained = await cli(
      'train',
      '--data',
      dataset,
      '--max-iters',
      '4',
      ...TINY,
      '--out',
      runDir,
      '--json',
    );
    const run = jsonOf<RunSummary>(trained);
    expect(run).toMatchObject({ status: 'completed', step: 4, maxIters: 4, runDir });
    expect(run.config.model).toMatchObject({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 });
    // --json keeps stderr free of the progress line (scripts read stdout, logs collect stderr).
    expect(trained.stderr).not.toMatch(/train \[/);
    const latest = join(runDir, 'checkpoints', 'latest.safetensors');
    expect(existsSync(join(runDir, 'checkpoints', 'best.safetensors'))).toBe(true);
    expect(loadCheckpoint(latest, { optimizer: false }).state.step).toBe(4);
    expect(trainSteps(runDir)).toEqual([1, 2, 3, 4]);

    // --resume with --out: the same run continues from step 4 (steps 5 and 6, none repeated).
    const resumed = jsonOf<RunSummary>(
      await cli('train', '--resume', '--out', runDir, '--max-iters', '6', '--json'),
    );
    expect(resumed).toMatchObject({ id: run.id, status: 'completed', step: 6, maxIters: 6 });
    expect(trainSteps(runDir)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(loadCheckpoint(latest, { optimizer: false }).state.step).toBe(6);

    const sampleArgs = ['--prompt', 'RO', '--tokens', '12', '--seed', '7', '--json'];
    const fromCheckpoint = jsonOf<Sample>(await cli('sample', '--checkpoint', latest, ...sampleArgs));
    expect(fromCheckpoint).toMatchObject({ step: 6, prompt: 'RO' });
    expect(fromCheckpoint.tokens).toHaveLength(12);
    expect(fromCheckpoint.text).toHaveLength(12); // one character per token

    // By run id, human output: the prompt, then the continuation.
    const byRun = await cli(
      'sample',
      '--checkpoint',
      run.id,
      '--latest',
      '--prompt',
      'RO',
      '--tokens',
      '12',
      '--seed',
      '7',
    );
    expect(byRun).toMatchObject({ code: 0, stdout: `RO${fromCheckpoint.text}\n` });

    const onnx = join(dir, 'tiny.onnx');
    const exported = jsonOf<{ path: string; bytes: number; step: number; params: number }>(
      await cli('export', '--checkpoint', latest, '--out', onnx, '--json'),
    );
    expect(exported).toMatchObject({ path: onnx, step: 6 });
    expect(statSync(onnx).size).toBe(exported.bytes);
    expect(exported.params).toBe(run.params);
    // The exported model computes what the checkpoint does: the same seed samples the same text.
    const fromOnnx = jsonOf<Sample>(await cli('sample', '--checkpoint', onnx, ...sampleArgs));
    expect(fromOnnx.text).toBe(fromCheckpoint.text);
  });

  it("auto says why each device was not used, without ONNX Runtime's load error for a CUDA library not installed", async () => {
    const tinyAuto = TINY.map((a, i) => (TINY[i - 1] === '--device' ? 'auto' : a));
    const r = await cli('train', '--data', dataset, '--max-iters', '1', ...tinyAuto, '--json');
    expect(r.code).toBe(0);
    const run = jsonOf<RunSummary>(r);
    expect(run.device.requested).toBe('auto');
    expect(run.device.message).toContain('cuda (CUDA provider libraries are not installed');
    expect(r.stderr).not.toMatch(/Failed to load library|providers_shared/);
  });

  it('refuses bad input with exit code 2 and says what to fix', async () => {
    const [noData, noTokens, noOut] = await Promise.all([
      cli('train', '--max-iters', '2'),
      cli('sample', '--checkpoint', 'x.safetensors', '--tokens', '0'),
      cli('export', '--checkpoint', 'x.safetensors'),
    ]);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toMatch(/--data is required \(a dataset directory or a token file\)/);
    expect(noTokens.code).toBe(2);
    expect(noTokens.stderr).toMatch(/'--tokens <n>' argument '0' is invalid\. a whole number ≥ 1/);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/required option '--out <file>' not specified/);
  });

  it('refuses f16 products on a device without them, naming the field, before anything is created', async () => {
    const before = existsSync(join(dir, 'data', 'runs')) ? readdirSync(join(dir, 'data', 'runs')).length : 0;
    const r = await cli(
      'train',
      '--data',
      dataset,
      '--device',
      'cpu',
      '--precision',
      'f16',
      '--max-iters',
      '2',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/precision.*f16 runs on the engine's own kernels \(device "dawn"/);
    const after = existsSync(join(dir, 'data', 'runs')) ? readdirSync(join(dir, 'data', 'runs')).length : 0;
    expect(after).toBe(before);
    const bad = await cli('train', '--data', dataset, '--precision', 'bf16');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--precision <precision>' argument 'bf16' is invalid\. Allowed choices are f32, f16/,
    );
  });
});
