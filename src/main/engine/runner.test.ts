import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runConfigSchema, type ResolvedModelConfig } from '../../shared/engine/config.ts';
import { learningRateAt } from '../../shared/engine/schedule.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { buildTrainGraph } from './graphs.ts';
import { Rng } from './rng.ts';
import { StepRunner } from './runner.ts';

const model: ResolvedModelConfig = {
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  blockSize: 16,
  vocabSize: 11,
  dropout: 0,
  bias: false,
};
const T = model.blockSize;

async function runner(batch: number, accum: number, params: Float32Array) {
  const config = runConfigSchema.parse({
    model,
    train: {
      batchSize: batch,
      gradAccumSteps: accum,
      maxIters: 8,
      warmupIters: 2,
      learningRate: 1e-2,
      minLr: 1e-3,
    },
  });
  const layout = gptParamLayout(model);
  const create = (kind: 'step' | 'micro') =>
    ort.InferenceSession.create(
      buildTrainGraph({ model, train: config.train, layout, kind, dropoutSeed: 0 }).encode(),
      { intraOpNumThreads: 1 },
    );
  const r = new StepRunner({
    device: 'cpu',
    step: await create('step'),
    micro: accum > 1 ? await create('micro') : null,
    size: layout.total,
    batch,
    block: T,
    accum,
    gpuState: false,
    initial: { params: params.slice(), m: new Float32Array(layout.total), v: new Float32Array(layout.total) },
  });
  return { r, train: config.train };
}

describe('StepRunner', () => {
  it('gradient accumulation: 2 micro-batches of 2 rows train like one batch of the same 4 rows', async () => {
    const layout = gptParamLayout(model);
    const params = initParams(layout, 3);
    const rng = new Rng(8);
    const steps = 8;
    const xs = Int32Array.from({ length: steps * 4 * T }, () => rng.randint(model.vocabSize));
    const ys = Int32Array.from({ length: steps * 4 * T }, () => rng.randint(model.vocabSize));
    const one = await runner(4, 1, params);
    const two = await runner(2, 2, params);
    for (let k = 0; k < steps; k++) {
      const lr = learningRateAt(one.train, k);
      const a = await one.r.step(lr, k + 1, (x, y) => {
        x.set(xs.subarray(k * 4 * T, (k + 1) * 4 * T));
        y.set(ys.subarray(k * 4 * T, (k + 1) * 4 * T));
      });
      let micro = 0;
      const b = await two.r.step(lr, k + 1, (x, y) => {
        const from = (k * 4 + micro * 2) * T;
        x.set(xs.subarray(from, from + 2 * T));
        y.set(ys.subarray(from, from + 2 * T));
        micro++;
      });
      expect(micro).toBe(2);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(2e-5);
      expect(Math.abs(a.gradNorm - b.gradNorm) / a.gradNorm).toBeLessThan(1e-4);
    }
    const pa = (await one.r.state()).params;
    const pb = (await two.r.state()).params;
    let maxDiff = 0;
    let moved = 0;
    for (let i = 0; i < pa.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(pa[i]! - pb[i]!));
      moved = Math.max(moved, Math.abs(pa[i]! - params[i]!));
    }
    expect(moved).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThan(1e-5);
    await one.r.release();
    await two.r.release();
  });
});
