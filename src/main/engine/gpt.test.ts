import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { countParams, type ResolvedModelConfig } from '../../shared/engine/config.ts';
import { gradCheck } from './testing/gradcheck.ts';
import { gptForward, gptParamLayout, initParams, paramViews } from './gpt.ts';
import { generate } from './generate.ts';
import { buildEvalGraph, buildInferenceGraph, INFERENCE_IO, TRAIN_IO } from './graphs.ts';
import type { Tensor } from './graph/graph.ts';
import { Rng } from './rng.ts';
import { TorchGenerator } from './torchRng.ts';

const tiny: ResolvedModelConfig = {
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  vocabSize: 11,
  dropout: 0,
  bias: true,
};

function randomIds(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.randint(vocab));
}

describe('GPT parameters', () => {
  it("follows nanoGPT's state_dict names, layouts and parameter count", () => {
    const layout = gptParamLayout({ ...tiny, nLayer: 1, bias: true });
    expect(layout.specs.map((s) => `${s.name}:${s.shape.join('x')}`)).toEqual([
      'transformer.wte.weight:11x16',
      'transformer.wpe.weight:8x16',
      'transformer.h.0.ln_1.weight:16',
      'transformer.h.0.ln_1.bias:16',
      'transformer.h.0.attn.c_attn.weight:48x16',
      'transformer.h.0.attn.c_attn.bias:48',
      'transformer.h.0.attn.c_proj.weight:16x16',
      'transformer.h.0.attn.c_proj.bias:16',
      'transformer.h.0.ln_2.weight:16',
      'transformer.h.0.ln_2.bias:16',
      'transformer.h.0.mlp.c_fc.weight:64x16',
      'transformer.h.0.mlp.c_fc.bias:64',
      'transformer.h.0.mlp.c_proj.weight:16x64',
      'transformer.h.0.mlp.c_proj.bias:16',
      'transformer.ln_f.weight:16',
      'transformer.ln_f.bias:16',
    ]);
    expect(layout.total).toBe(countParams({ ...tiny, nLayer: 1, bias: true }));
    // nanoGPT's cpu-tiny on shakespeare_char: 0.80M parameters (its printout excludes wpe: 0.80M - 8192)
    expect(
      countParams({ nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, vocabSize: 65, dropout: 0, bias: false }),
    ).toBe(804_096);
  });

  it('initialises as nanoGPT: N(0, 0.02), residual projections N(0, 0.02/√(2·n_layer)), LayerNorm 1/0, biases 0', () => {
    const cfg = { ...tiny, nEmbd: 64, nLayer: 4 };
    const layout = gptParamLayout(cfg);
    const flat = initParams(layout, 7);
    const stats = (name: string) => {
      const s = layout.byName.get(name)!;
      const v = flat.subarray(s.offset, s.offset + s.size);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      return { mean, std, min: Math.min(...v), max: Math.max(...v) };
    };
    expect(stats('transformer.h.0.mlp.c_fc.weight').std).toBeCloseTo(0.02, 3);
    expect(stats('transformer.h.1.attn.c_proj.weight').std).toBeCloseTo(0.02 / Math.sqrt(8), 3);
    expect(stats('transformer.h.2.mlp.c_proj.weight').std).toBeCloseTo(0.02 / Math.sqrt(8), 3);
    expect(stats('transformer.ln_f.weight')).toMatchObject({ min: 1, max: 1 });
    expect(stats('transformer.h.0.attn.c_attn.bias')).toMatchObject({ min: 0, max: 0 });
    expect(layout.specs.filter((s) => s.decay).every((s) => s.shape.length === 2)).toBe(true);
    expect(initParams(layout, 7)).toEqual(flat);
  });

  it("gives nanoGPT's weights for the same seed: torch.manual_seed(7); GPT(...) in PyTorch 1.13", () => {
    // nanoGPT's GPT (scripts/bench/nanogpt_torch.py build(11, 2, 2, 16, 8, bias=True)) after torch.manual_seed(7)
    const layout = gptParamLayout(tiny);
    const gen = new TorchGenerator(7);
    const flat = initParams(layout, gen);
    const at = (name: string, ...idx: number[]) =>
      Array.from(
        new Uint32Array(Float32Array.from(idx, (i) => flat[layout.byName.get(name)!.offset + i]!).buffer),
      );
    const last = (name: string) => layout.byName.get(name)!.size - 1;
    expect(at('transformer.wte.weight', 0, 1, 2, last('transformer.wte.weight'))).toEqual([
      0xbb8755d0, 0xbc7377c2, 0x3d6d14eb, 0xbb3200ae,
    ]);
    expect(at('transformer.wpe.weight', 0, 1)).toEqual([0xbc312d7d, 0x3c51ca6c]);
    expect(at('transformer.h.0.attn.c_attn.weight', 0, 1)).toEqual([0x3b38b950, 0xbb93f896]);
    expect(at('transformer.h.1.attn.c_proj.weight', 0, 1)).toEqual([0xbc2c464b, 0x3c5b4f00]);
    const p = last('transformer.h.1.mlp.c_proj.weight');
    expect(at('transformer.h.1.mlp.c_proj.weight', p - 1, p)).toEqual([0x3c7a120b, 0x3c706343]);
    expect(flat.reduce((a, v) => a + Math.abs(v), 0)).toBeCloseTo(161.29736439194903, 9);
    // the generator is left where PyTorch's is: torch.randint(1000, (3,)) next
    expect([gen.randint(1000), gen.randint(1000), gen.randint(1000)]).toEqual([678, 302, 473]);
  });
});

describe('GPT forward', () => {
  it('whole-model gradient matches finite differences (composition of every op)', async () => {
    const cfg: ResolvedModelConfig = {
      nLayer: 1,
      nHead: 2,
      nEmbd: 8,
      blockSize: 4,
      vocabSize: 5,
      dropout: 0,
      bias: true,
    };
    const layout = gptParamLayout(cfg);
    const init = initParams(layout, 3);
    // larger weights than the 0.02 init so every path contributes measurably
    const values = Float32Array.from(init, (v, i) => v * 10 + (i % 7 === 0 ? 0.1 : 0));
    const r = await gradCheck(
      [
        { name: 'params', shape: [layout.total], values },
        { name: 'ids', shape: [2, 4], dtype: 'int32', ints: [0, 3, 4, 1, 2, 2, 0, 4] },
      ],
      (g, [flat, ids]) => gptForward(g, cfg, paramViews(g, flat!, layout, true), ids!, { train: false }),
      // float32 central differences of this loss (|loss| ~ 10², gradients up to ~500) carry noise of about
      // ulp(loss)/(2·eps) ≈ 0.015, so the absolute tolerance sits above that (it held for seeds 1–12)
      { maxPerInput: 60, eps: 1e-3, atol: 0.05, seed: 5 },
    );
    expect(r.failures, r.worst).toEqual([]);
  });

  it('the exported inference model gives the training graph’s logits within 1e-4, and is causal', async () => {
    const layout = gptParamLayout(tiny);
    const rng = new Rng(11);
    const params = initParams(layout, 5);
    for (let i = 0; i < params.length; i++) params[i] = params[i]! * 20 + 0.01 * rng.normal();
    const B = 3;
    const T = tiny.blockSize;
    const ids = randomIds(rng, B * T, tiny.vocabSize);

    const evalSession = await ort.InferenceSession.create(
      buildEvalGraph({ model: tiny, layout, batch: B, logits: true }).encode(),
    );
    const ref = await evalSession.run({
      [TRAIN_IO.params]: new ort.Tensor('float32', params, [layout.total]),
      [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [B, T]),
      [TRAIN_IO.targets]: new ort.Tensor('int32', ids, [B, T]),
    });
    const refLogits = ref[TRAIN_IO.logits]!.data as Float32Array;

    const exported = await ort.InferenceSession.create(
      buildInferenceGraph({ model: tiny, layout, weights: params }).encode(),
    );
    const ids64 = (n: number) => {
      const a = new BigInt64Array(B * n);
      for (let b = 0; b < B; b++) for (let t = 0; t < n; t++) a[b * n + t] = BigInt(ids[b * T + t]!);
      return new ort.Tensor('int64', a, [B, n]);
    };
    const full = (await exported.run({ [INFERENCE_IO.inputIds]: ids64(T) }))[INFERENCE_IO.logits]!;
    expect(full.dims).toEqual([B, T, tiny.vocabSize]);
    const out = full.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i]! - refLogits[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(Math.max(...refLogits.map(Math.abs))).toBeGreaterThan(0.1);

    // causal: the logits of a prefix equal the first positions of the full sequence
    const n = 3;
    const prefix = (await exported.run({ [INFERENCE_IO.inputIds]: ids64(n) }))[INFERENCE_IO.logits]!
      .data as Float32Array;
    const V = tiny.vocabSize;
    let prefDiff = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < n; t++) {
        for (let v = 0; v < V; v++)
          prefDiff = Math.max(prefDiff, Math.abs(prefix[(b * n + t) * V + v]! - out[(b * T + t) * V + v]!));
      }
    }
    expect(prefDiff).toBeLessThan(1e-4);
    await evalSession.release();
    await exported.release();
  });

  it.each([
    ['any length', undefined],
    ['fixed length, padded', { batch: 1, seq: tiny.blockSize }],
  ])(
    "a sampling graph of one position's logits gives that row of every position's (%s), and the same samples",
    async (_name, fixed) => {
      const layout = gptParamLayout(tiny);
      const rng = new Rng(12);
      const params = initParams(layout, 6).map((v) => v * 20);
      const feeds = { [INFERENCE_IO.params]: new ort.Tensor('float32', params, [layout.total]) };
      const graph = (position: boolean) =>
        buildInferenceGraph({ model: tiny, layout, weights: 'input', fixed, position }).encode();
      const every = await ort.InferenceSession.create(graph(false));
      const one = await ort.InferenceSession.create(graph(true));
      const T = tiny.blockSize;
      const V = tiny.vocabSize;
      const ids = randomIds(rng, T, V);
      for (const length of [1, 5, T]) {
        const width = fixed ? T : length;
        const input = new BigInt64Array(width);
        for (let t = 0; t < length; t++) input[t] = BigInt(ids[t]!);
        const inputIds = new ort.Tensor('int64', input, [1, width]);
        const all = (await every.run({ ...feeds, [INFERENCE_IO.inputIds]: inputIds }))[INFERENCE_IO.logits]!;
        const row = (
          await one.run({
            ...feeds,
            [INFERENCE_IO.inputIds]: inputIds,
            [INFERENCE_IO.position]: new ort.Tensor('int64', BigInt64Array.of(BigInt(length - 1)), [1]),
          })
        )[INFERENCE_IO.logits]!;
        expect(row.dims).toEqual([1, 1, V]);
        // the same row to rounding (ONNX Runtime multiplies one row with other kernels than many)
        const want = (all.data as Float32Array).subarray((length - 1) * V, length * V);
        const got = row.data as Float32Array;
        const scale = Math.max(...want.map(Math.abs));
        expect(scale).toBeGreaterThan(1);
        for (let v = 0; v < V; v++) expect(Math.abs(got[v]! - want[v]!)).toBeLessThan(scale * 1e-6);
      }
      // generation reads the right row either way: the same tokens from the same seed
      const sample = (session: ort.InferenceSession) =>
        generate(session, {
          prompt: [1, 2, 3],
          maxNewTokens: 12,
          temperature: 1,
          topK: 0,
          blockSize: T,
          vocabSize: V,
          rng: new Rng(3),
          extraFeeds: feeds,
          padTo: fixed ? T : undefined,
        });
      const tokens = await sample(one);
      expect(tokens).toEqual(await sample(every));
      expect(new Set(tokens).size).toBeGreaterThan(2);
      await every.release();
      await one.release();
    },
  );

  it('rejects a sequence longer than the context, and parameters of the wrong shape, at build time', () => {
    const layout = gptParamLayout(tiny);
    const gr = buildEvalGraph({ model: tiny, layout, batch: 1 });
    const idx = gr.input('too_long', 'int32', [1, tiny.blockSize + 1]);
    expect(() => gptForward(gr, tiny, {} as Record<string, Tensor>, idx, { train: false })).toThrow(
      /exceeds blockSize/,
    );
    // a layout for a shorter context does not fit the model: the position-embedding add fails to broadcast
    expect(() =>
      buildEvalGraph({ model: tiny, layout: gptParamLayout({ ...tiny, blockSize: 4 }), batch: 1 }),
    ).toThrow(/do not broadcast/);
  });
});
