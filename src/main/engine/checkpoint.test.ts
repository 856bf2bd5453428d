/**
 * Checkpoints load into nanoGPT by name: the safetensors file, read here byte by byte (not through this
 * project's reader), holds exactly the keys of nanoGPT's `GPT(config).state_dict()` with its shapes, as
 * float32, and a forward pass written from nanoGPT's model.py over those named tensors computes the
 * engine's logits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigSchema, type ResolvedModelConfig } from '../../shared/engine/config.ts';
import { CHECKPOINT_FORMAT, saveCheckpoint, type TrainState } from './checkpoint.ts';
import type { DatasetRef } from './data.ts';
import { gptParamLayout, initParams } from './gpt.ts';
import { buildEvalGraph, TRAIN_IO } from './graphs.ts';
import { Rng } from './rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-checkpoint-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The keys and shapes of nanoGPT's `GPT(config).state_dict()`, from its module tree (model.py):
 * wte/wpe embeddings; per block ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj (nn.Linear
 * weights are [out, in]; LayerNorm and Linear biases only with `bias=True`); ln_f; lm_head (no bias,
 * tied to wte but listed under both names). No `attn.bias`: with flash attention (PyTorch ≥ 2.0)
 * CausalSelfAttention registers no causal-mask buffer.
 */
function nanoGptStateDict(c: ResolvedModelConfig): Map<string, number[]> {
  const C = c.nEmbd;
  const keys = new Map<string, number[]>();
  const ln = (p: string) => {
    keys.set(`${p}.weight`, [C]);
    if (c.bias) keys.set(`${p}.bias`, [C]);
  };
  const linear = (p: string, out: number, inp: number) => {
    keys.set(`${p}.weight`, [out, inp]);
    if (c.bias) keys.set(`${p}.bias`, [out]);
  };
  keys.set('transformer.wte.weight', [c.vocabSize, C]);
  keys.set('transformer.wpe.weight', [c.blockSize, C]);
  for (let i = 0; i < c.nLayer; i++) {
    ln(`transformer.h.${i}.ln_1`);
    linear(`transformer.h.${i}.attn.c_attn`, 3 * C, C);
    linear(`transformer.h.${i}.attn.c_proj`, C, C);
    ln(`transformer.h.${i}.ln_2`);
    linear(`transformer.h.${i}.mlp.c_fc`, 4 * C, C);
    linear(`transformer.h.${i}.mlp.c_proj`, C, 4 * C);
  }
  ln('transformer.ln_f');
  keys.set('lm_head.weight', [c.vocabSize, C]);
  return keys;
}

interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Buffer;
}

/** A safetensors file by its specification: u64 LE header size, JSON header, then the data buffer. */
function readRaw(path: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const file = readFileSync(path);
  const headerSize = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerSize).toString('utf8')) as Record<string, unknown>;
  const data = file.subarray(8 + headerSize);
  const tensors = new Map<string, RawTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    tensors.set(name, { dtype: t.dtype, shape: t.shape, bytes: data.subarray(...t.data_offsets) });
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

function floats(t: RawTensor): Float64Array {
  const out = new Float64Array(t.bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = t.bytes.readFloatLE(i * 4);
  return out;
}

function writeCheckpoint(name: string, model: ResolvedModelConfig, opts: { optimizer?: boolean } = {}) {
  const layout = gptParamLayout(model);
  const rng = new Rng(3);
  // larger than the 0.02 init, LayerNorm weights and biases off 1 and 0, so every tensor shapes the logits
  const params = Float32Array.from(initParams(layout, 5), (v) => v * 20 + 0.05 * rng.normal());
  const state: TrainState = {
    step: 12,
    params,
    m: Float32Array.from(params, (v) => v / 10),
    v: Float32Array.from(params, (v) => v * v),
    rngState: 'mt19937:test',
    pendingBatch: null,
    bestValLoss: 2.5,
    trainLoss: 2.4,
    valLoss: 2.5,
    tokensSeen: 1000,
    elapsedMs: 10,
  };
  const dataset: DatasetRef = {
    kind: 'dataset',
    path: '/nowhere',
    name: 'test',
    vocabSize: model.vocabSize,
    dtype: 'uint16',
    trainTokens: 100,
    valTokens: 10,
    fingerprint: 'x',
    tokenizer: null,
  };
  const config = runConfigSchema.parse({
    model: { ...model, vocabSize: undefined },
    train: { batchSize: 2, maxIters: 12 },
  });
  const path = join(dir, `${name}.safetensors`);
  saveCheckpoint(path, state, { config, model, dataset, tokenizer: null }, opts);
  return { path, layout, params };
}

const tiny = (bias: boolean): ResolvedModelConfig => ({
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
  blockSize: 4,
  vocabSize: 7,
  dropout: 0,
  bias,
});

describe("checkpoints under nanoGPT's state_dict names", () => {
  for (const bias of [false, true]) {
    it(`holds exactly nanoGPT's keys, shapes and float32 (bias=${bias}); lm_head.weight is wte's`, () => {
      const model = tiny(bias);
      const expected = nanoGptStateDict(model);
      const { tensors, metadata } = readRaw(
        writeCheckpoint(`weights-${bias}`, model, { optimizer: false }).path,
      );

      expect([...tensors.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [name, shape] of expected) {
        const t = tensors.get(name)!;
        expect({ name, dtype: t.dtype, shape: t.shape }).toEqual({ name, dtype: 'F32', shape });
        expect(t.bytes.length).toBe(4 * shape.reduce((a, b) => a * b, 1));
      }
      expect(tensors.get('lm_head.weight')!.bytes.equals(tensors.get('transformer.wte.weight')!.bytes)).toBe(
        true,
      );
      expect([...tensors.keys()].some((k) => k.endsWith('.attn.bias'))).toBe(false);
      // nanoGPT's checkpoint['model_args'], to build GPT(GPTConfig(**model_args)) before load_state_dict
      expect(JSON.parse(metadata.model_args!)).toEqual({
        n_layer: 2,
        n_head: 2,
        n_embd: 8,
        block_size: 4,
        bias,
        vocab_size: 7,
        dropout: 0,
      });
      expect(metadata).toMatchObject({ format: CHECKPOINT_FORMAT, step: '12', optimizer: 'none' });
    });
  }

  it('keeps AdamW moments beside the weights under optimizer.exp_avg[_sq].<nanoGPT name>', () => {
    const model = tiny(true);
    const params = [...nanoGptStateDict(model)].filter(([k]) => k !== 'lm_head.weight');
    const { tensors } = readRaw(writeCheckpoint('with-optimizer', model).path);
    const moments = [...tensors.keys()].filter((k) => k.startsWith('optimizer.')).sort();
    expect(moments).toEqual(
      params.flatMap(([k]) => [`optimizer.exp_avg.${k}`, `optimizer.exp_avg_sq.${k}`]).sort(),
    );
    for (const [k, shape] of params) expect(tensors.get(`optimizer.exp_avg_sq.${k}`)!.shape).toEqual(shape);
  });

  it("nanoGPT's forward pass over the named tensors gives the engine's logits", async () => {
    const model = tiny(true);
    const { path, layout, params } = writeCheckpoint('forward', model);
    const { tensors } = readRaw(path);
    const B = 2;
    const T = model.blockSize;
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % model.vocabSize);

    const session = await ort.InferenceSession.create(
      buildEvalGraph({ model, layout, batch: B, logits: true }).encode(),
    );
    const out = await session.run({
      [TRAIN_IO.params]: new ort.Tensor('float32', params, [layout.total]),
      [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [B, T]),
      [TRAIN_IO.targets]: new ort.Tensor('int32', ids, [B, T]),
    });
    const engine = out[TRAIN_IO.logits]!.data as Float32Array;
    await session.release();

    const sd = new Map([...tensors].map(([k, t]) => [k, floats(t)]));
    const reference = nanoGptForward(model, sd, ids, B, T);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < reference.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(reference[i]! - engine[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(reference[i]!));
    }
    expect(maxAbs).toBeGreaterThan(1);
    expect(maxDiff).toBeLessThan(1e-4 * maxAbs);
  });
});

/**
 * nanoGPT's GPT.forward (model.py, eval mode: no dropout) in float64 over a state_dict: token + position
 * embeddings; per block x += attn(ln_1(x)), x += mlp(ln_2(x)); ln_f; logits = lm_head(x).
 */
function nanoGptForward(
  c: ResolvedModelConfig,
  sd: Map<string, Float64Array>,
  ids: Int32Array,
  B: number,
  T: number,
): Float64Array {
  const C = c.nEmbd;
  const get = (k: string) => {
    const v = sd.get(k);
    if (!v) throw new Error(`the state_dict lacks ${k}`);
    return v;
  };
  const maybe = (k: string) => (c.bias ? get(k) : null);
  /** nn.Linear: y = x Wᵀ + b, W [out, in]. */
  const linear = (x: Float64Array, rows: number, inp: number, w: Float64Array, b: Float64Array | null) => {
    const out = w.length / inp;
    const y = new Float64Array(rows * out);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < out; o++) {
        let s = b ? b[o]! : 0;
        for (let i = 0; i < inp; i++) s += x[r * inp + i]! * w[o * inp + i]!;
        y[r * out + o] = s;
      }
    return y;
  };
  /** F.layer_norm(x, (C,), weight, bias, eps=1e-5). */
  const layerNorm = (x: Float64Array, rows: number, w: Float64Array, b: Float64Array | null) => {
    const y = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * C, (r + 1) * C);
      const mean = row.reduce((a, v) => a + v, 0) / C;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / C;
      for (let i = 0; i < C; i++)
        y[r * C + i] = ((row[i]! - mean) / Math.sqrt(variance + 1e-5)) * w[i]! + (b ? b[i]! : 0);
    }
    return y;
  };
  const rows = B * T;
  const wte = get('transformer.wte.weight');
  const wpe = get('transformer.wpe.weight');
  let x = new Float64Array(rows * C);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < C; i++) x[(b * T + t) * C + i] = wte[ids[b * T + t]! * C + i]! + wpe[t * C + i]!;

  const nh = c.nHead;
  const hs = C / nh;
  for (let l = 0; l < c.nLayer; l++) {
    const h = `transformer.h.${l}`;
    // attention: q, k, v = c_attn(x).split(C); causal softmax(q kᵀ / √hs) v per head; c_proj
    const qkv = linear(
      layerNorm(x, rows, get(`${h}.ln_1.weight`), maybe(`${h}.ln_1.bias`)),
      rows,
      C,
      get(`${h}.attn.c_attn.weight`),
      maybe(`${h}.attn.c_attn.bias`),
    );
    const y = new Float64Array(rows * C);
    for (let b = 0; b < B; b++)
      for (let head = 0; head < nh; head++)
        for (let t = 0; t < T; t++) {
          const q = (b * T + t) * 3 * C + head * hs;
          const scores = Array.from({ length: t + 1 }, (_, s) => {
            const k = (b * T + s) * 3 * C + C + head * hs;
            let dot = 0;
            for (let i = 0; i < hs; i++) dot += qkv[q + i]! * qkv[k + i]!;
            return dot / Math.sqrt(hs);
          });
          const top = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - top));
          const z = e.reduce((a, v) => a + v, 0);
          for (let s = 0; s <= t; s++) {
            const v = (b * T + s) * 3 * C + 2 * C + head * hs;
            for (let i = 0; i < hs; i++) y[(b * T + t) * C + head * hs + i]! += (e[s]! / z) * qkv[v + i]!;
          }
        }
    const attn = linear(y, rows, C, get(`${h}.attn.c_proj.weight`), maybe(`${h}.attn.c_proj.bias`));
    x = x.map((v, i) => v + attn[i]!);
    // MLP: c_proj(gelu(c_fc(x))), nn.GELU() exact
    const fc = linear(
      layerNorm(x, rows, get(`${h}.ln_2.weight`), maybe(`${h}.ln_2.bias`)),
      rows,
      C,
      get(`${h}.mlp.c_fc.weight`),
      maybe(`${h}.mlp.c_fc.bias`),
    );
    const mlp = linear(
      fc.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
      rows,
      4 * C,
      get(`${h}.mlp.c_proj.weight`),
      maybe(`${h}.mlp.c_proj.bias`),
    );
    x = x.map((v, i) => v + mlp[i]!);
  }
  const final = layerNorm(x, rows, get('transformer.ln_f.weight'), maybe('transformer.ln_f.bias'));
  return linear(final, rows, C, get('lm_head.weight'), null);
}

/** erf by its Maclaurin series (|x| < 3) or its continued fraction for erfc; float64 to ~1e-12. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free, fixed depth)
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
