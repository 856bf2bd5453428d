import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  configFromPreset,
  resolveModelConfig,
  runConfigSchema,
  type ResolvedModelConfig,
} from '../../shared/engine/config.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { numel } from './graph/graph.ts';
import { buildTrainGraph, TRAIN_IO } from './graphs.ts';
import { Rng } from './rng.ts';

/**
 * The optimizer half of the training graph against a plain reference of PyTorch's
 * clip_grad_norm_ + torch.optim.AdamW (decoupled decay on ≥2-D weights only), in float64.
 */
const model: ResolvedModelConfig = {
  nLayer: 1,
  nHead: 2,
  nEmbd: 8,
  blockSize: 4,
  vocabSize: 7,
  dropout: 0,
  bias: true,
};
const layout = gptParamLayout(model);
const P = layout.total;
const B = 3;

function trainConfig(o: { accum?: number; clip: number }) {
  return runConfigSchema.parse({
    model,
    train: {
      batchSize: B,
      maxIters: 10,
      warmupIters: 0,
      gradAccumSteps: o.accum ?? 1,
      gradClip: o.clip,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      eps: 1e-8,
    },
  }).train;
}

async function gradient(params: Float32Array, x: Int32Array, y: Int32Array): Promise<Float32Array> {
  // the micro-step graph of a 2-way accumulation outputs grad_acc + ∇/2
  const g = buildTrainGraph({
    model,
    train: trainConfig({ accum: 2, clip: 1 }),
    layout,
    kind: 'micro',
    dropoutSeed: 0,
  });
  const s = await ort.InferenceSession.create(g.encode());
  const out = await s.run({
    [TRAIN_IO.params]: new ort.Tensor('float32', params, [P]),
    [TRAIN_IO.idx]: new ort.Tensor('int32', x, [B, model.blockSize]),
    [TRAIN_IO.targets]: new ort.Tensor('int32', y, [B, model.blockSize]),
    [TRAIN_IO.gradAcc]: new ort.Tensor('float32', new Float32Array(P), [P]),
  });
  await s.release();
  return Float32Array.from(out[TRAIN_IO.gradAccOut]!.data as Float32Array, (v) => v * 2);
}

describe('activation checkpointing', () => {
  for (const dropout of [0, 0.3]) {
    it(`recomputed blocks give the same gradient as stored activations (dropout ${dropout})`, async () => {
      const m2: ResolvedModelConfig = { ...model, nLayer: 2, dropout };
      const lay = gptParamLayout(m2);
      const rng = new Rng(5);
      const params = initParams(lay, 4).map((v) => v * 10);
      const x = Int32Array.from({ length: B * m2.blockSize }, () => rng.randint(m2.vocabSize));
      const train = trainConfig({ accum: 2, clip: 1 });
      const grad = async (checkpointBlocks: boolean) => {
        const g = buildTrainGraph({
          model: m2,
          train,
          layout: lay,
          kind: 'micro',
          dropoutSeed: 9,
          checkpointBlocks,
        });
        // a fresh session: each Dropout node starts its mask stream from its seed
        const s = await ort.InferenceSession.create(g.encode());
        const out = await s.run({
          [TRAIN_IO.params]: new ort.Tensor('float32', params, [lay.total]),
          [TRAIN_IO.idx]: new ort.Tensor('int32', x, [B, m2.blockSize]),
          [TRAIN_IO.targets]: new ort.Tensor(
            'int32',
            x.map((v) => (v + 1) % m2.vocabSize),
            [B, m2.blockSize],
          ),
          [TRAIN_IO.gradAcc]: new ort.Tensor('float32', new Float32Array(lay.total), [lay.total]),
        });
        await s.release();
        return {
          grad: out[TRAIN_IO.gradAccOut]!.data as Float32Array,
          loss: Number(out[TRAIN_IO.loss]!.data[0]),
          nodes: g.nodeCount,
        };
      };
      const stored = await grad(false);
      const recomputed = await grad(true);
      expect(recomputed.nodes).toBeGreaterThan(stored.nodes);
      expect(recomputed.loss).toBeCloseTo(stored.loss, 6);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < lay.total; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(recomputed.grad[i]! - stored.grad[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(stored.grad[i]!));
      }
      expect(maxAbs).toBeGreaterThan(1e-3);
      expect(maxDiff).toBeLessThan(maxAbs * 1e-5);
    });
  }
});

describe('training step: clipping + AdamW', () => {
  for (const [clip, kernels] of [
    [1, 'ort'],
    [0.05, 'ort'],
    [0, 'ort'],
    [0.05, 'portable'],
  ] as const) {
    it(`matches PyTorch's clip_grad_norm_(${clip}) + AdamW update (${kernels} graph)`, async () => {
      const rng = new Rng(clip * 100 + 1);
      const params = initParams(layout, 9).map((v) => v * 10);
      const m = Float32Array.from({ length: P }, () => 0.01 * rng.normal());
      const v = Float32Array.from({ length: P }, () => 1e-4 * Math.abs(rng.normal()));
      const x = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));
      const y = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));
      const lr = 3e-3;
      const t = 4;
      const train = trainConfig({ clip });
      const grad = await gradient(params, x, y);

      const graph = buildTrainGraph({ model, train, layout, kind: 'step', dropoutSeed: 0, kernels });
      // the CPU's graph sums Σg² per parameter tensor (clip_grad_norm_'s order); a GPU's reduces the flat
      // gradient once (one reduction across the device instead of a kernel per tensor)
      const sumSquares = graph.toModel().graph.nodes.filter((n) => n.opType === 'ReduceSumSquare');
      expect(sumSquares.length).toBe(kernels === 'ort' ? layout.specs.length : 1);
      const s = await ort.InferenceSession.create(graph.encode());
      const out = await s.run({
        [TRAIN_IO.params]: new ort.Tensor('float32', params, [P]),
        [TRAIN_IO.m]: new ort.Tensor('float32', m, [P]),
        [TRAIN_IO.v]: new ort.Tensor('float32', v, [P]),
        [TRAIN_IO.idx]: new ort.Tensor('int32', x, [B, model.blockSize]),
        [TRAIN_IO.targets]: new ort.Tensor('int32', y, [B, model.blockSize]),
        [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([lr]), []),
        [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([t]), []),
      });
      await s.release();

      // reference, float64
      let sq = 0;
      for (const gv of grad) sq += gv * gv;
      const norm = Math.sqrt(sq);
      const coef = clip > 0 ? Math.min(1, clip / (norm + 1e-6)) : 1;
      const bc1 = 1 - 0.9 ** t;
      const bc2 = 1 - 0.99 ** t;
      const decay = new Uint8Array(P);
      for (const sp of layout.specs) if (sp.shape.length >= 2) decay.fill(1, sp.offset, sp.offset + sp.size);
      const pOut = out[TRAIN_IO.paramsOut]!.data as Float32Array;
      const mOut = out[TRAIN_IO.mOut]!.data as Float32Array;
      const vOut = out[TRAIN_IO.vOut]!.data as Float32Array;
      expect(Number(out[TRAIN_IO.gradNorm]!.data[0])).toBeCloseTo(norm, 4);
      const err = { p: 0, m: 0, v: 0 };
      const scale = { m: 0, v: 0 };
      let maxStep = 0;
      for (let i = 0; i < P; i++) {
        const g = grad[i]! * coef;
        const mi = 0.9 * m[i]! + 0.1 * g;
        const vi = 0.99 * v[i]! + 0.01 * g * g;
        let p = params[i]!;
        if (decay[i]) p *= 1 - lr * 0.1;
        p -= (lr / bc1) * (mi / (Math.sqrt(vi) / Math.sqrt(bc2) + 1e-8));
        err.p = Math.max(err.p, Math.abs(pOut[i]! - p));
        err.m = Math.max(err.m, Math.abs(mOut[i]! - mi));
        err.v = Math.max(err.v, Math.abs(vOut[i]! - vi));
        scale.m = Math.max(scale.m, Math.abs(mi));
        scale.v = Math.max(scale.v, vi);
        maxStep = Math.max(maxStep, Math.abs(p - params[i]!));
      }
      expect(maxStep).toBeGreaterThan(1e-4);
      // float32 rounding only: the update within 0.1 % of the step, the moments within 1e-5 relative
      expect(err.p).toBeLessThan(maxStep * 1e-3);
      expect(err.m).toBeLessThan(scale.m * 1e-5);
      expect(err.v).toBeLessThan(scale.v * 1e-5);
    });
  }

  it('names no parameter twice and decays exactly the ≥2-D weights', () => {
    const names = layout.specs.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(layout.specs.filter((s) => s.decay).map((s) => s.name)).toEqual([
      'transformer.wte.weight',
      'transformer.wpe.weight',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_proj.weight',
      'transformer.h.0.mlp.c_fc.weight',
      'transformer.h.0.mlp.c_proj.weight',
    ]);
  });
});

describe('node fan-out', () => {
  it('no Split or Concat node of the training graph has more than MAX_NODE_FAN parts (WebGPU binds at most 16 buffers)', async () => {
    const { MAX_NODE_FAN } = await import('./graph/ops.ts');
    // 4 layers without bias: 26 parameter tensors, so the flat vector needs a tree of Splits and Concats.
    const tiny: ResolvedModelConfig = { ...model, nLayer: 4, bias: false };
    const tinyLayout = gptParamLayout(tiny);
    expect(tinyLayout.specs.length).toBeGreaterThan(MAX_NODE_FAN * 2);
    const config = runConfigSchema.parse({ model: tiny, train: { batchSize: 2, maxIters: 10 } });
    const graph = buildTrainGraph({
      model: tiny,
      train: config.train,
      layout: tinyLayout,
      kind: 'step',
      dropoutSeed: 1,
    }).toModel().graph;
    const wide = graph.nodes.filter(
      (n) =>
        (n.opType === 'Split' && n.outputs.length > MAX_NODE_FAN) ||
        (n.opType === 'Concat' && n.inputs.length > MAX_NODE_FAN),
    );
    expect(wide).toEqual([]);
    expect(graph.nodes.some((n) => n.opType === 'Split')).toBe(true);
  });
});

describe("the gradient's norm", () => {
  // sumOfSquares.ts: one float32 ReduceSumSquare over millions of squares drifts on the CPU (2 % at GPT-2 small's
  // 124 M). Whatever the graph, no sum of the norm may run over more than 65,536 squares.
  it.each([
    ['baby, CPU graph', 'baby', 'ort'],
    ['baby, GPU graph', 'baby', 'portable'],
    ['gpt2-small with accumulation, CPU graph', 'gpt2-small', 'ort'],
    ['gpt2-small with accumulation, GPU graph', 'gpt2-small', 'portable'],
  ] as const)('sums Σg² by rows of at most 65,536 (%s)', (_name, preset, kernels) => {
    const config = configFromPreset(preset);
    const big = resolveModelConfig(config, { vocabSize: preset === 'gpt2-small' ? 50304 : 65 });
    const bigLayout = gptParamLayout(big);
    const graph = buildTrainGraph({
      model: big,
      train: config.train,
      layout: bigLayout,
      kind: 'step',
      dropoutSeed: 1,
      kernels,
    });
    const terms = graph
      .program()
      .nodes.filter((n) => n.opType === 'ReduceSumSquare')
      .map((n) => numel(n.inputs[0]!.shape)! / numel(n.outputs[0]!.shape)!);
    expect(terms.length).toBeGreaterThan(0);
    expect(Math.max(...terms)).toBeLessThanOrEqual(65_536);
    // and they cover the whole gradient: every parameter's square is summed once
    const summed = graph
      .program()
      .nodes.filter((n) => n.opType === 'ReduceSumSquare')
      .reduce((s, n) => s + numel(n.inputs[0]!.shape)!, 0);
    expect(summed).toBeGreaterThanOrEqual(bigLayout.total);
    expect(summed).toBeLessThan(bigLayout.total * 1.001);
  });
});
