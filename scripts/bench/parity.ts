/**
 * Step-by-step parity with nanoGPT: `node scripts/bench/parity.ts [--steps 300] [--mode seeded|weights] [--seed 1337]`.
 *
 * seeded (default): both sides start from their OWN seed. The engine makes cpu-tiny's initial weights with
 * its PyTorch-compatible generator (torchRng.ts, initParams) and draws batches in train.py's order
 * (batches.ts: one batch before the loop, estimate_loss every evalInterval steps before the step, the
 * prefetch after each step); scripts/bench/nanogpt_parity.py does `torch.manual_seed(seed)`, builds
 * nanoGPT's GPT and runs train.py's loop. It compares the initial parameters (and, first, those of two
 * other configurations: bias=True, tensors not a multiple of 16 and under 16 elements), every batch's
 * offsets, the evaluation losses and each step's loss and gradient norm.
 *
 * weights: the engine's initial weights and fixed batches are handed to PyTorch (the arithmetic alone).
 *
 * Set PYTHON (default /usr/bin/python3) and, for OpenBLAS, LD_LIBRARY_PATH as for nanogpt_torch.py.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import {
  configFromPreset,
  resolveModelConfig,
  type ResolvedModelConfig,
} from '../../src/shared/engine/config.ts';
import { learningRateAt } from '../../src/shared/engine/schedule.ts';
import { TorchBatchStream } from '../../src/main/engine/batches.ts';
import { openDataset, sampleBatch } from '../../src/main/engine/data.ts';
import { gptParamLayout, initParams, type ParamLayout } from '../../src/main/engine/gpt.ts';
import { buildEvalGraph, buildTrainGraph, TRAIN_IO } from '../../src/main/engine/graphs.ts';
import { Rng } from '../../src/main/engine/rng.ts';
import { StepRunner } from '../../src/main/engine/runner.ts';
import { TorchGenerator } from '../../src/main/engine/torchRng.ts';
import { shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    mode: { type: 'string', default: 'seeded' },
    seed: { type: 'string' },
  },
});
const steps = Number(values.steps);
const mode = values.mode;
if (mode !== 'seeded' && mode !== 'weights') throw new Error('--mode must be seeded or weights');
const config = configFromPreset('cpu-tiny', values.seed ? { train: { seed: Number(values.seed) } } : {});
const seed = config.train.seed;
const ds = openDataset(shakespeareCharDataset());
const model = resolveModelConfig(config, ds.ref);
const layout = gptParamLayout(model);
const B = config.train.batchSize;
const T = model.blockSize;
const dir = mkdtempSync(join(tmpdir(), 'xai-parity-'));
const bin = (name: string, a: Float32Array | Int32Array) =>
  writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const specs = (l: ParamLayout) =>
  l.specs.map((s) => ({ name: s.name, shape: s.shape, offset: s.offset, size: s.size }));
const modelArgs = (m: ResolvedModelConfig) => ({
  vocab: m.vocabSize,
  n_layer: m.nLayer,
  n_head: m.nHead,
  n_embd: m.nEmbd,
  block: m.blockSize,
  bias: m.bias,
});

// other configurations whose initialisation is compared too
const extraInits = [
  { nLayer: 2, nHead: 3, nEmbd: 24, blockSize: 5, vocabSize: 7, dropout: 0, bias: true },
  { nLayer: 1, nHead: 2, nEmbd: 4, blockSize: 3, vocabSize: 3, dropout: 0, bias: true },
].map((m, i) => {
  const l = gptParamLayout(m);
  bin(`extra${i}.bin`, initParams(l, seed));
  return { ...modelArgs(m), file: `extra${i}.bin`, layout: specs(l) };
});

const window = new Int32Array(T + 1);
const xs = new Int32Array(steps * B * T);
const ys = new Int32Array(steps * B * T);
const slot = (k: number) => [k * B * T, (k + 1) * B * T] as const;
const draws: { split: 'train' | 'val'; offsets: number[] }[] = [];
const evals: { step: number; train: number; val: number }[] = [];
let params: Float32Array;
let stream: TorchBatchStream | null = null;
if (mode === 'seeded') {
  const gen = new TorchGenerator(seed);
  params = initParams(layout, gen);
  stream = new TorchBatchStream(gen, { train: ds.train, val: ds.val, batch: B, block: T }, null, (split, o) =>
    draws.push({ split, offsets: [...o] }),
  );
} else {
  params = initParams(layout, seed);
  const rng = new Rng(5);
  for (let k = 0; k < steps; k++)
    sampleBatch(rng, ds.train, B, T, xs.subarray(...slot(k)), ys.subarray(...slot(k)), window);
}
bin('init.bin', params);
const session = await ort.InferenceSession.create(
  buildTrainGraph({ model, train: config.train, layout, kind: 'step', dropoutSeed: 0 }).encode(),
  { intraOpNumThreads: 1 },
);
const evalSession = await ort.InferenceSession.create(buildEvalGraph({ model, layout, batch: B }).encode(), {
  intraOpNumThreads: 1,
});
const runner = new StepRunner({
  device: 'cpu',
  step: session,
  micro: null,
  size: layout.total,
  batch: B,
  block: T,
  accum: 1,
  gpuState: false,
  initial: { params: params.slice(), m: new Float32Array(layout.total), v: new Float32Array(layout.total) },
});
const ours: [number, number][] = [];
const ex = new Int32Array(B * T);
const ey = new Int32Array(B * T);
for (let k = 0; k < steps; k++) {
  if (stream && k % config.train.evalInterval === 0) {
    const p = await runner.paramsTensor();
    const r: Record<string, number> = {};
    for (const split of ['train', 'val'] as const) {
      const next = stream.evalBatches(k, split);
      let sum = 0;
      for (let i = 0; i < config.train.evalIters; i++) {
        next(ex, ey);
        const out = await evalSession.run({
          [TRAIN_IO.params]: p,
          [TRAIN_IO.idx]: new ort.Tensor('int32', ex, [B, T]),
          [TRAIN_IO.targets]: new ort.Tensor('int32', ey, [B, T]),
        });
        sum += Number(out[TRAIN_IO.loss]!.data[0]);
      }
      r[split] = sum / config.train.evalIters;
    }
    evals.push({ step: k, train: r.train!, val: r.val! });
  }
  const r = await runner.step(learningRateAt(config.train, k), k + 1, (x, y) => {
    if (stream) stream.nextTrain(x, y);
    else {
      x.set(xs.subarray(...slot(k)));
      y.set(ys.subarray(...slot(k)));
    }
  });
  ours.push([r.loss, r.gradNorm]);
}
bin('final.bin', (await runner.state()).params.slice());
if (mode === 'weights') {
  bin('x.bin', xs);
  bin('y.bin', ys);
}
writeFileSync(
  join(dir, 'meta.json'),
  JSON.stringify({
    mode,
    seed,
    data: ds.ref.path,
    steps,
    batch: B,
    ...modelArgs(model),
    max_iters: config.train.maxIters,
    eval_interval: config.train.evalInterval,
    eval_iters: config.train.evalIters,
    layout: specs(layout),
    extra_inits: mode === 'seeded' ? extraInits : [],
    ours,
    draws,
    evals,
  }),
);
await runner.release();
await evalSession.release();
const here = dirname(fileURLToPath(import.meta.url));
const py = spawnSync(process.env.PYTHON ?? '/usr/bin/python3', [join(here, 'nanogpt_parity.py'), dir], {
  stdio: 'inherit',
});
rmSync(dir, { recursive: true, force: true });
process.exitCode = py.status ?? 1;
