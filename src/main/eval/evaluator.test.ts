import { describe, expect, it } from 'vitest';
import { charTokenizerFromText, type Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { scoreOf } from '../../shared/eval/metrics.ts';
import { OnnxPolicyError } from '../../shared/onnx/onnxPolicy.ts';
import { encodeOnnxModel, OnnxDataType } from '../../shared/onnx/onnxModel.ts';
import { evaluateModel, EvaluationError } from './evaluator.ts';
import { openEvaluableOnnx } from './onnxSession.ts';
import { bigramOnnx, bundledShakespeare, engineGptOnnx, TINY_GPT } from './testing/models.ts';

const text = bundledShakespeare().slice(0, 20_000);
const utf8 = new TextEncoder();

async function evalBigram(
  table: Float32Array,
  tok: Tokenizer,
  blockSize: number,
  t = text,
  maxTokens?: number,
) {
  const m = await openEvaluableOnnx(bigramOnnx(table, tok.vocabSize), tok, blockSize);
  try {
    return await evaluateModel(m, t, { maxTokens });
  } finally {
    await m.release();
  }
}

describe('evaluateModel', () => {
  it('scores a uniform model at exactly ln V nats per token, over every non-overlapping window', async () => {
    const tok = charTokenizerFromText(text);
    const V = tok.vocabSize;
    const T = 16;
    const r = await evalBigram(new Float32Array(V * V), tok, T);
    const ids = tok.encode(text);
    const W = Math.floor((ids.length - 1) / T);
    expect(r.windows).toBe(W);
    expect(r.tokens).toBe(W * T);
    // bytes: the UTF-8 bytes of the scored text ids[1..W·T]
    expect(r.bytes).toBe(utf8.encode(tok.decode(ids.slice(1, W * T + 1))).length);
    expect(r.metrics.mean_loss).toBeCloseTo(Math.log(V), 10);
    expect(r.metrics.perplexity).toBeCloseTo(V, 8);
    expect(r.metrics.bits_per_byte).toBeCloseTo((W * T * Math.log(V)) / Math.LN2 / r.bytes, 10);
    // all logits tie: argmax is id 0, so accuracy = share of targets that are id 0
    const zeros = ids.slice(1, W * T + 1).filter((id) => id === 0).length;
    expect(r.correct).toBe(zeros);
    expect(r.scores.bits_per_byte).toBe(scoreOf(r.metrics.bits_per_byte).toString());
  });

  it('matches a hand computation for a bigram model', async () => {
    const tok = charTokenizerFromText(text);
    const V = tok.vocabSize;
    const table = new Float32Array(V * V);
    for (let i = 0; i < table.length; i++) table[i] = Math.sin(i * 0.37) * 3;
    const T = 8;
    const r = await evalBigram(table, tok, T);
    const ids = tok.encode(text);
    const W = Math.floor((ids.length - 1) / T);
    let nats = 0;
    let correct = 0;
    for (let p = 0; p < W * T; p++) {
      const row = Array.from(table.subarray(ids[p]! * V, ids[p]! * V + V));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      nats += lse - row[ids[p + 1]!]!;
      if (row.indexOf(max) === ids[p + 1]) correct++;
    }
    expect(r.totalNats).toBeCloseTo(nats, 6);
    expect(r.correct).toBe(correct);
    expect(r.metrics.top1_accuracy).toBe(correct / (W * T));
  });

  it('caps the scored tokens and says so', async () => {
    const tok = charTokenizerFromText(text);
    const r = await evalBigram(new Float32Array(tok.vocabSize ** 2), tok, 16, text, 1000);
    expect(r.windows).toBe(62);
    expect(r.tokens).toBe(992);
    expect(r.truncated).toBe(true);
  });

  it('refuses a text shorter than one window', async () => {
    const tok = charTokenizerFromText(text);
    await expect(
      evalBigram(new Float32Array(tok.vocabSize ** 2), tok, 64, text.slice(0, 64)),
    ).rejects.toThrow(EvaluationError);
  });

  it('is bit-identical across two runs of an engine GPT (separate sessions)', async () => {
    const tok = charTokenizerFromText(text);
    const cfg = { ...TINY_GPT, vocabSize: tok.vocabSize };
    const bytes = engineGptOnnx(cfg, 7);
    const results = [];
    for (let run = 0; run < 2; run++) {
      const m = await openEvaluableOnnx(bytes, tok, cfg.blockSize);
      // every op of the engine's graph passed the policy
      expect(Object.keys(m.facts.ops)).toContain('LayerNormalization');
      results.push(await evaluateModel(m, text, { onProgress: () => undefined }));
      await m.release();
    }
    const [a, b] = results as [NonNullable<(typeof results)[0]>, NonNullable<(typeof results)[0]>];
    expect(Object.is(a.totalNats, b.totalNats)).toBe(true);
    expect(a).toStrictEqual(b);
    // an untrained model is near uniform: loss ≈ ln V
    expect(a.metrics.mean_loss).toBeGreaterThan(Math.log(tok.vocabSize) - 0.2);
    expect(a.metrics.mean_loss).toBeLessThan(Math.log(tok.vocabSize) + 0.2);
    expect(a.windows).toBe(Math.floor((tok.encode(text).length - 1) / cfg.blockSize));
    // another model gives another score
    const other = await openEvaluableOnnx(engineGptOnnx(cfg, 8), tok, cfg.blockSize);
    const c = await evaluateModel(other, text);
    await other.release();
    expect(c.totalNats).not.toBe(a.totalNats);
  });

  it('refuses an unsafe model before ONNX Runtime opens it', async () => {
    const tok = charTokenizerFromText('abc');
    const evil = encodeOnnxModel({
      opsets: [{ domain: '', version: 18 }],
      graph: {
        name: 'evil',
        nodes: [{ opType: 'RandomNormalLike', inputs: ['input_ids'], outputs: ['logits'] }],
        inputs: [{ name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch', 'seq'] }],
        outputs: [{ name: 'logits', elemType: OnnxDataType.FLOAT, shape: ['batch', 'seq', 3] }],
      },
    });
    await expect(openEvaluableOnnx(evil, tok, 4)).rejects.toThrow(OnnxPolicyError);
    await expect(openEvaluableOnnx(evil, tok, 4)).rejects.toThrow(/RandomNormalLike/);
  });
});
