import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { configFromPreset, resolveModelConfig, runConfigSchema } from '../../shared/engine/config.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { numel, type Graph } from './graph/graph.ts';
import { buildEvalGraph, buildTrainGraph, TRAIN_IO } from './graphs.ts';
import { HEAD_CHUNK_BYTES, headRowChunks } from './headLoss.ts';
import { Rng } from './rng.ts';
import { microModel } from './testing/microModel.ts';

describe('headRowChunks', () => {
  it('keeps rows whole while their logits fit, else cuts them into near-equal chunks that each fit', () => {
    expect(headRowChunks(16_384, 65)).toEqual([16_384]); // baby, characters: 4 MiB
    const gpt2 = headRowChunks(12 * 1024, 50_304); // gpt2-small, GPT-2's tokens: 2.3 GiB
    expect(gpt2.length).toBe(19);
    expect(gpt2.reduce((s, r) => s + r, 0)).toBe(12 * 1024);
    expect(Math.max(...gpt2) * 50_304 * 4).toBeLessThanOrEqual(HEAD_CHUNK_BYTES);
    expect(Math.max(...gpt2) - Math.min(...gpt2)).toBeLessThanOrEqual(1);
    expect(headRowChunks(15, 11, 4 * 11 * 4)).toEqual([4, 4, 4, 3]);
    // a vocabulary wider than the budget still gets one row a chunk
    expect(headRowChunks(3, 100, 16)).toEqual([1, 1, 1]);
  });
});

/** The [rows, vocab] float tensors of a graph: the lm_head's logits and what the loss makes of them. */
function vocabWide(g: Graph, vocab: number): { rows: number; mib: number }[] {
  const p = g.program();
  return [...p.inputs, ...p.nodes.flatMap((n) => n.outputs)]
    .filter((t) => t.rank === 2 && t.shape[1] === vocab && t.dtype === 'float32')
    .map((t) => ({ rows: t.shape[0] as number, mib: (numel(t.shape)! * 4) / 2 ** 20 }));
}

describe('the lm_head and loss of gpt2-small with GPT-2’s 50,304 tokens', () => {
  const config = configFromPreset('gpt2-small');
  const big = resolveModelConfig(config, { vocabSize: 50_304 });
  const layout = gptParamLayout(big);
  const graph = (kernels: 'ort' | 'portable', checkpointBlocks: boolean) =>
    buildTrainGraph({
      model: big,
      train: config.train,
      layout,
      kind: 'micro',
      dropoutSeed: 1,
      kernels,
      checkpointBlocks,
    });

  it.each([false, true])(
    'a GPU graph keeps every [rows, vocab] tensor within WebGPU’s 128 MiB binding (activation checkpointing %s)',
    (checkpointBlocks) => {
      const wide = vocabWide(graph('portable', checkpointBlocks), 50_304);
      expect(wide.length).toBeGreaterThan(19 * 3);
      expect(Math.max(...wide.map((t) => t.mib))).toBeLessThanOrEqual(128);
    },
  );

  it('the CPU graph keeps one [12,288, 50,304] product and SoftmaxCrossEntropyLoss (nanoGPT’s arithmetic)', () => {
    const g = graph('ort', true);
    expect(Math.max(...vocabWide(g, 50_304).map((t) => t.rows))).toBe(12 * 1024);
    expect(g.program().nodes.filter((n) => n.opType === 'SoftmaxCrossEntropyLoss').length).toBe(1);
  });

  it('a GPU evaluation graph chunks too, unless it must output the logits', () => {
    const evalGraph = (logits: boolean) =>
      buildEvalGraph({ model: big, layout, batch: 4, kernels: 'portable', logits });
    expect(Math.max(...vocabWide(evalGraph(false), 50_304).map((t) => t.mib))).toBeLessThanOrEqual(128);
    expect(Math.max(...vocabWide(evalGraph(true), 50_304).map((t) => t.rows))).toBe(4 * 1024);
  });
});

describe('chunked lm_head and loss on a GPU graph (run here by ONNX Runtime’s CPU provider)', () => {
  // 3 × 5 = 15 rows of 11 logits; a budget of 4 rows makes chunks of 4, 4, 4 and 3
  const model = microModel(1);
  const B = 3;
  const layout = gptParamLayout(model);
  const train = runConfigSchema.parse({
    model,
    train: { batchSize: B, maxIters: 10, gradAccumSteps: 2 },
  }).train;
  const rng = new Rng(3);
  const params = initParams(layout, 4).map((v) => v * 10);
  const x = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));
  const y = Int32Array.from({ length: B * model.blockSize }, () => rng.randint(model.vocabSize));

  async function microStep(o: { chunkRows?: number; checkpointBlocks?: boolean }) {
    const g = buildTrainGraph({
      model,
      train,
      layout,
      kind: 'micro',
      dropoutSeed: 1,
      kernels: 'portable',
      checkpointBlocks: o.checkpointBlocks,
      headChunkBytes: o.chunkRows ? o.chunkRows * model.vocabSize * 4 : undefined,
    });
    const s = await ort.InferenceSession.create(g.encode());
    const out = await s.run({
      [TRAIN_IO.params]: new ort.Tensor('float32', params, [layout.total]),
      [TRAIN_IO.idx]: new ort.Tensor('int32', x, [B, model.blockSize]),
      [TRAIN_IO.targets]: new ort.Tensor('int32', y, [B, model.blockSize]),
      [TRAIN_IO.gradAcc]: new ort.Tensor('float32', new Float32Array(layout.total), [layout.total]),
    });
    await s.release();
    const heads = g.program().nodes.filter((n) => n.opType === 'Gemm' && n.outputs[0]!.shape[1] === 11);
    return {
      loss: Number(out[TRAIN_IO.loss]!.data[0]),
      grad: out[TRAIN_IO.gradAccOut]!.data as Float32Array,
      heads: heads.map((n) => n.outputs[0]!.shape[0]),
    };
  }

  it.each([
    ['kept', false],
    ['recomputed in the backward pass', true],
  ])('gives the loss and gradient of the whole head, logits %s', async (_name, checkpointBlocks) => {
    const whole = await microStep({});
    const chunked = await microStep({ chunkRows: 4, checkpointBlocks });
    expect(whole.heads).toEqual([15]);
    // forward chunks, and the same again where the backward rebuilds them
    expect(chunked.heads).toEqual(checkpointBlocks ? [4, 4, 4, 3, 4, 4, 4, 3] : [4, 4, 4, 3]);
    expect(chunked.loss).toBeCloseTo(whole.loss, 6);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < layout.total; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(chunked.grad[i]! - whole.grad[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(whole.grad[i]!));
    }
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThan(maxAbs * 1e-5);
  });
});
