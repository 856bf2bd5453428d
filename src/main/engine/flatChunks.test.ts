import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { configFromPreset, resolveModelConfig, runConfigSchema } from '../../shared/engine/config.ts';
import { FLAT_CHUNK_BYTES, flatChunks } from './flatChunks.ts';
import { gptParamLayout } from './gpt.ts';
import { numel, type Tensor } from './graph/graph.ts';
import { MAX_NODE_FAN } from './graph/ops.ts';
import { buildTrainGraph, TRAIN_IO } from './graphs.ts';
import { Rng } from './rng.ts';
import { microModel } from './testing/microModel.ts';

describe('flatChunks', () => {
  it('groups whole parameter tensors, in order, into pieces that each fit the budget', () => {
    const layout = gptParamLayout(resolveModelConfig(configFromPreset('gpt2-small'), { vocabSize: 65 }));
    const chunks = flatChunks(layout);
    expect(layout.total * 4).toBeGreaterThan(FLAT_CHUNK_BYTES * 2);
    expect(chunks.length).toBe(3);
    expect(chunks[0]).toMatchObject({ first: 0, offset: 0 });
    chunks.forEach((c, k) => {
      expect(c.size * 4).toBeLessThanOrEqual(FLAT_CHUNK_BYTES);
      expect(c.size).toBe(layout.specs.slice(c.first, c.end).reduce((s, p) => s + p.size, 0));
      expect(c.offset).toBe(layout.specs[c.first]!.offset);
      if (k > 0) expect(c.first).toBe(chunks[k - 1]!.end);
    });
    expect(chunks.at(-1)!.end).toBe(layout.specs.length);
    // the baby preset's 10.7 M parameters stay one piece: its graphs are what they always were
    expect(
      flatChunks(gptParamLayout(resolveModelConfig(configFromPreset('baby'), { vocabSize: 65 }))),
    ).toHaveLength(1);
  });

  it('gives a tensor larger than the budget a piece of its own', () => {
    const specs = [4, 10, 3, 3, 2].map((size) => ({ size }));
    const sizes = (budget: number) => flatChunks({ specs } as never, budget).map((c) => c.size);
    expect(sizes(6 * 4)).toEqual([4, 10, 6, 2]);
    expect(sizes(100 * 4)).toEqual([22]);
    expect(() => flatChunks({ specs } as never, 0)).toThrow(/positive byte budget/);
  });
});

describe('a GPU graph of gpt2-small with characters (85.8 M parameters, 327 MiB a flat vector)', () => {
  const model = resolveModelConfig(configFromPreset('gpt2-small'), { vocabSize: 65 });
  const layout = gptParamLayout(model);
  // batch 1: its activations fit a binding too (12 × 1,024 rows of the MLP's 3,072 would not)
  const train = { ...configFromPreset('gpt2-small').train, batchSize: 1, gradAccumSteps: 2 };
  const bytes = (t: Tensor) => numel(t.shape)! * 4;

  it.each(['step', 'micro'] as const)(
    'binds no tensor over 128 MiB: the %s graph only splits the flat inputs and joins the flat outputs',
    (kind) => {
      const g = buildTrainGraph({ model, train, layout, kind, dropoutSeed: 1, kernels: 'portable' });
      const p = g.program();
      const flatInputs = new Set(p.inputs.filter((t) => bytes(t) > FLAT_CHUNK_BYTES));
      const flatOutputs = new Set(p.outputs.filter((t) => bytes(t) > FLAT_CHUNK_BYTES));
      expect([...flatInputs].map((t) => t.name).sort()).toEqual(
        (kind === 'step'
          ? [TRAIN_IO.params, TRAIN_IO.m, TRAIN_IO.v, TRAIN_IO.gradAcc]
          : [TRAIN_IO.params, TRAIN_IO.gradAcc]
        ).sort(),
      );
      expect([...flatOutputs].map((t) => t.name).sort()).toEqual(
        (kind === 'step' ? [TRAIN_IO.paramsOut, TRAIN_IO.mOut, TRAIN_IO.vOut] : [TRAIN_IO.gradAccOut]).sort(),
      );
      for (const n of p.nodes) {
        const big = [...n.inputs, ...n.outputs].filter((t) => t && bytes(t) > FLAT_CHUNK_BYTES);
        if (big.length === 0) continue;
        // a vector over the budget is only ever cut into pieces or joined from them (dawn/session.ts copies both)
        expect(['Split', 'Concat']).toContain(n.opType);
      }
    },
  );

  it('the CPU graph keeps its flat vectors whole', () => {
    const producerOf = (kernels: 'ort' | 'portable') => {
      const p = buildTrainGraph({ model, train, layout, kind: 'step', dropoutSeed: 1, kernels }).program();
      const out = p.outputs.find((t) => t.name === TRAIN_IO.paramsOut)!;
      return p.nodes.find((n) => n.outputs.includes(out))!.opType;
    };
    expect(producerOf('ort')).toBe('Sub'); // AdamW's last step, over all 85 M parameters at once
    expect(producerOf('portable')).toBe('Concat');
  });
});

describe('a training step in pieces equals the step on whole vectors (ONNX Runtime’s CPU provider)', () => {
  const model = microModel(2);
  const B = 3;
  const layout = gptParamLayout(model);
  // a clip that binds (coefficient < 1) and weight decay, so every scalar of AdamW takes part
  const train = runConfigSchema.parse({
    model,
    train: { batchSize: B, maxIters: 10, gradAccumSteps: 2, gradClip: 0.05, weightDecay: 0.1 },
  }).train;
  const rng = new Rng(5);
  const P = layout.total;
  const vec = (scale: number, offset = 0) =>
    Float32Array.from({ length: P }, () => offset + scale * rng.normal());
  const params = vec(0.3);
  const m = vec(0.01);
  const v = vec(1e-3, 2e-3).map(Math.abs);
  const acc = vec(0.05);
  const x = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));
  const y = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));

  async function run(kind: 'step' | 'micro', flatChunkBytes?: number) {
    const g = buildTrainGraph({
      model,
      train,
      layout,
      kind,
      dropoutSeed: 1,
      kernels: 'portable',
      flatChunkBytes,
    });
    const s = await ort.InferenceSession.create(g.encode());
    const feeds: Record<string, ort.Tensor> = {
      [TRAIN_IO.params]: new ort.Tensor('float32', params, [P]),
      [TRAIN_IO.idx]: new ort.Tensor('int32', x, [B, model.blockSize]),
      [TRAIN_IO.targets]: new ort.Tensor('int32', y, [B, model.blockSize]),
      [TRAIN_IO.gradAcc]: new ort.Tensor('float32', acc, [P]),
    };
    if (kind === 'step') {
      feeds[TRAIN_IO.m] = new ort.Tensor('float32', m, [P]);
      feeds[TRAIN_IO.v] = new ort.Tensor('float32', v, [P]);
      feeds[TRAIN_IO.lr] = new ort.Tensor('float32', new Float32Array([1e-2]), []);
      feeds[TRAIN_IO.step] = new ort.Tensor('float32', new Float32Array([3]), []);
    }
    const out = await s.run(feeds);
    await s.release();
    const splits = g.program().nodes.filter((n) => n.opType === 'Split').length;
    return { out, splits };
  }

  const closeTo = (a: Float32Array, b: Float32Array, rel: number) => {
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
    }
    expect(a.length).toBe(b.length);
    expect(maxAbs).toBeGreaterThan(1e-4);
    expect(maxDiff).toBeLessThanOrEqual(maxAbs * rel);
  };

  it.each(['step', 'micro'] as const)(
    '%s: pieces of a few tensors each (more pieces than a Split node fans out)',
    async (kind) => {
      const whole = await run(kind);
      // 200 floats a piece: a tensor or two each, more pieces than one Split node makes (op.split's tree)
      expect(flatChunks(layout, 200 * 4).length).toBeGreaterThan(MAX_NODE_FAN);
      const pieces = await run(kind, 200 * 4);
      expect(pieces.splits).toBeGreaterThan(whole.splits);
      const names =
        kind === 'step' ? [TRAIN_IO.paramsOut, TRAIN_IO.mOut, TRAIN_IO.vOut] : [TRAIN_IO.gradAccOut];
      for (const name of names)
        closeTo(pieces.out[name]!.data as Float32Array, whole.out[name]!.data as Float32Array, 1e-6);
      expect(Number(pieces.out[TRAIN_IO.loss]!.data[0])).toBe(Number(whole.out[TRAIN_IO.loss]!.data[0]));
      if (kind === 'step') {
        const norm = Number(whole.out[TRAIN_IO.gradNorm]!.data[0]);
        expect(norm).toBeGreaterThan(train.gradClip); // the clip binds
        expect(Number(pieces.out[TRAIN_IO.gradNorm]!.data[0])).toBeCloseTo(norm, 5);
      }
    },
  );
});
