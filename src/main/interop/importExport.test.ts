import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../shared/api/runs.ts';
import { MODEL_PACKAGE_FILES } from '../../shared/eval/modelPackage.ts';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { inspectDataset } from '../engine/data.ts';
import { loadForInference } from '../engine/export.ts';
import { RUN_FILES } from '../engine/trainer.ts';
import { EvalService } from '../eval/evalService.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { RunsService } from '../runs/runsService.ts';
import { readNanoGptCheckpoint } from './nanoGptCheckpoint.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const DATA = join(FIXTURES, 'nanogpt-data');
const META = join(DATA, 'meta.pkl');
const TORCH_PYTHON = '/usr/bin/python3';
const hasTorch =
  existsSync(TORCH_PYTHON) &&
  spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

interface Expected {
  input: number[][];
  shape: number[];
  logits: number[];
  losses?: number[];
}
const expected = (name: string) =>
  JSON.parse(readFileSync(join(FIXTURES, `${name}.logits.json`), 'utf8')) as Expected;

async function logitsOf(checkpoint: string, input: number[][]): Promise<Float32Array> {
  const m = await loadForInference(checkpoint);
  try {
    const ids = new ort.Tensor('int64', BigInt64Array.from(input.flat().map(BigInt)), [
      input.length,
      input[0]!.length,
    ]);
    const out = await m.session.run({ input_ids: ids });
    return out.logits!.data as Float32Array;
  } finally {
    await m.session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

let root: string;
let runs: RunsService;
const events = new EventBus();
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'xai-interop-test-'));
  runs = new RunsService({ runsDir: join(root, 'runs'), events });
});
afterAll(async () => {
  await runs.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('import', () => {
  for (const [name, note] of [
    ['plain', 'fp32 with AdamW state'],
    ['bf16', 'bfloat16 weights, biases'],
    ['compiled', "fp16, torch.compile's _orig_mod. prefix"],
  ] as const) {
    it(`nanoGPT ckpt.pt (${note}): the run's logits equal PyTorch's`, async () => {
      const r = await runs.import({ path: join(FIXTURES, `${name}.pt`), meta: META });
      expect(r.format).toBe('nanogpt');
      expect(r.tokenizer).toBe('char');
      expect(r.hasOptimizer).toBe(name === 'plain');
      const e = expected(name);
      const ours = await logitsOf(join(r.run.runDir, RUN_FILES.latest), e.input);
      expect(maxDiff(ours, e.logits)).toBeLessThan(1e-4);
      const sample = await runs.sample({
        runId: r.run.id,
        checkpoint: 'best',
        prompt: 'the ',
        maxNewTokens: 12,
        temperature: 0,
        topK: 0,
      });
      expect(sample.text).toMatch(/^[ .acehmnost]+$/);
    });
  }

  it('Hugging Face GPT-2 model.safetensors + config.json: Conv1D weights transposed, logits equal', async () => {
    const r = await runs
      .import({ path: join(FIXTURES, 'gpt2-tiny'), tokenizer: join(root, 'missing.json') })
      .catch((e: Error) => e);
    expect(String(r)).toMatch(/no tokenizer at/);
    const ok = await runs.import({ path: join(FIXTURES, 'gpt2-tiny', 'model.safetensors') });
    expect(ok.format).toBe('huggingface');
    expect(ok.run.step).toBe(0);
    const e = expected('gpt2-tiny');
    expect(maxDiff(await logitsOf(join(ok.run.runDir, RUN_FILES.latest), e.input), e.logits)).toBeLessThan(
      1e-4,
    );
  });

  it('an imported run packages as a model for claims (model card, ONNX, tokenizer)', async () => {
    const r = await runs.import({ path: join(FIXTURES, 'plain.pt'), meta: META });
    const noIpfs = (): never => {
      throw new Error('IPFS is not used here');
    };
    const evals = new EvalService({ ipfs: noIpfs, heldDir: join(root, 'held'), tmpDir: join(root, 'tmp') });
    const dir = await evals.packageCheckpoint(join(r.run.runDir, RUN_FILES.latest), { name: 'imported' });
    const card = JSON.parse(readFileSync(join(dir, MODEL_PACKAGE_FILES.card), 'utf8')) as {
      training: { iterations: number };
      config: { vocabSize: number };
    };
    expect(card.training.iterations).toBe(150);
    expect(card.config.vocabSize).toBe(11);
  });

  it('fine-tunes from Hugging Face weights on a nanoGPT data folder', async () => {
    const r = await runs.import({ path: join(FIXTURES, 'gpt2-tiny'), tokenizer: 'char', meta: META });
    const ended = new Promise<RunSummary>((resolve) => {
      const off = events.on('run.status', (p) => {
        if (p.runId === r.run.id && ['completed', 'failed', 'stopped'].includes(p.status)) {
          off();
          resolve(p.run);
        }
      });
    });
    await runs.resume(r.run.id, { maxIters: 2, device: 'cpu', data: { path: DATA } });
    const final = await ended;
    expect(final.error).toBeNull();
    expect(final).toMatchObject({ status: 'completed', step: 2 });
    const after = loadCheckpoint(join(r.run.runDir, RUN_FILES.latest));
    expect(after.state.m.some((x) => x !== 0)).toBe(true);
  });

  it('refuses a hostile checkpoint and files that are no checkpoint, with the reason', async () => {
    await expect(runs.import({ path: join(FIXTURES, 'hostile.pt') })).rejects.toThrow(/posix\.system/);
    const junk = join(root, 'junk.pt');
    writeFileSync(junk, 'not a checkpoint');
    await expect(runs.import({ path: junk })).rejects.toThrow(/neither a PyTorch checkpoint/);
    await expect(runs.import({ path: join(FIXTURES, 'plain.pt'), tokenizer: 'char' })).rejects.toMatchObject({
      message: expect.stringMatching(/meta\.pkl/),
      hint: expect.stringMatching(/--meta/),
    });
  });

  it('resume continues the loss curve where PyTorch left it (AdamW state and step kept)', async () => {
    const r = await runs.import({ path: join(FIXTURES, 'plain.pt'), meta: META });
    expect(r.run.step).toBe(150);
    await expect(runs.resume(r.run.id, { maxIters: 160, device: 'cpu' })).rejects.toThrow(
      /no data to train on/,
    );
    const ended = new Promise<RunSummary>((resolve) => {
      const off = events.on('run.status', (p) => {
        if (p.runId === r.run.id && ['completed', 'failed', 'stopped'].includes(p.status)) {
          off();
          resolve(p.run);
        }
      });
    });
    await runs.resume(r.run.id, { maxIters: 160, device: 'cpu', data: { path: DATA } });
    const final = await ended;
    expect(final.error).toBeNull();
    expect(final.status).toBe('completed');
    expect(final.step).toBe(160);
    const train = runs.get(r.run.id).metrics.filter((m) => m.kind === 'train');
    expect(train[0]!.step).toBeGreaterThan(150);
    // PyTorch's last losses are ~0.3; a fresh model starts at ln(11) ≈ 2.4
    const torchLast = expected('plain').losses!;
    const torchMean = torchLast.reduce((a, b) => a + b, 0) / torchLast.length;
    for (const m of train) expect((m as { loss: number }).loss).toBeLessThan(torchMean + 0.3);
  });
});

describe('export --format nanogpt', () => {
  it('writes a ckpt.pt that reads back identically (weights, AdamW state, iter_num, config)', async () => {
    const r = await runs.import({ path: join(FIXTURES, 'plain.pt'), meta: META, data: { path: DATA } });
    const src = loadCheckpoint(join(r.run.runDir, RUN_FILES.latest));
    const out = join(root, 'export', 'ckpt.pt');
    const res = await runs.export({ runId: r.run.id, checkpoint: 'latest', outPath: out, format: 'nanogpt' });
    expect(res.step).toBe(150);
    const back = readNanoGptCheckpoint(out);
    expect(back.state.step).toBe(150);
    expect(back.hasOptimizer).toBe(true);
    expect(back.model).toEqual(src.model);
    expect(back.datasetName).toBe('nanogpt-data');
    expect(Buffer.from(back.state.params.buffer).equals(Buffer.from(src.state.params.buffer))).toBe(true);
    expect(Buffer.from(back.state.m.buffer).equals(Buffer.from(src.state.m.buffer))).toBe(true);
    expect(Buffer.from(back.state.v.buffer).equals(Buffer.from(src.state.v.buffer))).toBe(true);
    expect(back.config.train).toEqual(src.config.train);
    expect(readFileSync(out).includes(Buffer.from(root))).toBe(false);
  });

  it.skipIf(!hasTorch)("PyTorch loads it into nanoGPT's GPT and AdamW, with the same logits", async () => {
    const r = await runs.import({ path: join(FIXTURES, 'plain.pt'), meta: META });
    const out = join(root, 'torch-check', 'ckpt.pt');
    await runs.export({ runId: r.run.id, checkpoint: 'latest', outPath: out, format: 'nanogpt' });
    const res = spawnSync(
      TORCH_PYTHON,
      [join(FIXTURES, 'check_nanogpt_export.py'), out, join(FIXTURES, 'plain.logits.json')],
      { encoding: 'utf8' },
    );
    expect(res.stderr).toBe('');
    const report = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as {
      max_diff: number;
      iter_num: number;
    };
    expect(report.iter_num).toBe(150);
    expect(report.max_diff).toBeLessThan(1e-4);
  });
});

describe('train --data with a nanoGPT data folder', () => {
  it('reads train.bin / val.bin as uint16 and the char vocabulary from meta.pkl', () => {
    const ref = inspectDataset(DATA);
    expect(ref).toMatchObject({ kind: 'dataset', name: 'nanogpt-data', vocabSize: 11, dtype: 'uint16' });
    expect(ref.trainTokens).toBe(4320);
    expect(ref.valTokens).toBe(480);
    expect(ref.tokenizer?.kind).toBe('char');
  });
});
