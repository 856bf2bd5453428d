/**
 * Step-by-step parity with nanoGPT: `node scripts/bench/parity.ts [--steps 50]`.
 *
 * Trains cpu-tiny on tiny-shakespeare for N steps from the engine's initialisation on fixed batches,
 * writes the initial weights, the batches and the engine's per-step loss and gradient norm to a temp
 * directory, then runs scripts/bench/nanogpt_parity.py (PyTorch, Debian's python3-torch) on the same
 * weights and batches and compares: loss, gradient norm and final parameters must agree within 1e-5.
 * Set PYTHON (default /usr/bin/python3) and, for OpenBLAS, LD_LIBRARY_PATH as for nanogpt_torch.py.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { configFromPreset, resolveModelConfig } from '../../src/shared/engine/config.ts';
import { learningRateAt } from '../../src/shared/engine/schedule.ts';
import { openDataset, sampleBatch } from '../../src/main/engine/data.ts';
import { gptParamLayout, initParams } from '../../src/main/engine/gpt.ts';
import { buildTrainGraph } from '../../src/main/engine/graphs.ts';
import { Rng } from '../../src/main/engine/rng.ts';
import { StepRunner } from '../../src/main/engine/runner.ts';
import { shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '50' } } });
const steps = Number(values.steps);
const config = configFromPreset('cpu-tiny');
const ds = openDataset(shakespeareCharDataset());
const model = resolveModelConfig(config, ds.ref);
const layout = gptParamLayout(model);
const B = config.train.batchSize;
const T = model.blockSize;
const dir = mkdtempSync(join(tmpdir(), 'xai-parity-'));
const params = initParams(layout, config.train.seed);
writeFileSync(join(dir, 'init.bin'), new Uint8Array(params.slice().buffer));
const rng = new Rng(5);
const window = new Int32Array(T + 1);
const xs = new Int32Array(steps * B * T);
const ys = new Int32Array(steps * B * T);
for (let k = 0; k < steps; k++) {
  sampleBatch(
    rng,
    ds.train,
    B,
    T,
    xs.subarray(k * B * T, (k + 1) * B * T),
    ys.subarray(k * B * T, (k + 1) * B * T),
    window,
  );
}
writeFileSync(join(dir, 'x.bin'), new Uint8Array(xs.buffer));
writeFileSync(join(dir, 'y.bin'), new Uint8Array(ys.buffer));
const session = await ort.InferenceSession.create(
  buildTrainGraph({ model, train: config.train, layout, kind: 'step', dropoutSeed: 0 }).encode(),
  { intraOpNumThreads: 1 },
);
const runner = new StepRunner({
  device: 'cpu',
  step: session,
  micro: null,
  size: layout.total,
  batch: B,
  block: T,
  accum: 1,
  gpuState: false,
  initial: { params, m: new Float32Array(layout.total), v: new Float32Array(layout.total) },
});
const ours: [number, number][] = [];
for (let k = 0; k < steps; k++) {
  const r = await runner.step(learningRateAt(config.train, k), k + 1, (x, y) => {
    x.set(xs.subarray(k * B * T, (k + 1) * B * T));
    y.set(ys.subarray(k * B * T, (k + 1) * B * T));
  });
  ours.push([r.loss, r.gradNorm]);
}
const final = (await runner.state()).params.slice();
writeFileSync(join(dir, 'final.bin'), new Uint8Array(final.buffer));
writeFileSync(
  join(dir, 'meta.json'),
  JSON.stringify({
    steps,
    batch: B,
    block: T,
    vocab: model.vocabSize,
    n_layer: model.nLayer,
    n_head: model.nHead,
    n_embd: model.nEmbd,
    max_iters: config.train.maxIters,
    layout: layout.specs.map((s) => ({ name: s.name, shape: s.shape, offset: s.offset, size: s.size })),
    ours,
  }),
);
await runner.release();
const here = dirname(fileURLToPath(import.meta.url));
const py = spawnSync(process.env.PYTHON ?? '/usr/bin/python3', [join(here, 'nanogpt_parity.py'), dir], {
  stdio: 'inherit',
});
rmSync(dir, { recursive: true, force: true });
process.exitCode = py.status ?? 1;
