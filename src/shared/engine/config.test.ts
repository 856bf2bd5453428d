import { describe, expect, it } from 'vitest';
import {
  activationBytes,
  checkConfigAgainstData,
  configFromPreset,
  countParams,
  presets,
  resolveModelConfig,
  runConfigSchema,
  runOverridesSchema,
  trainingFlopsPerToken,
  usesActivationCheckpointing,
} from './config.ts';
import { learningRateAt } from './schedule.ts';

describe('presets', () => {
  it("use nanoGPT's configurations and shakespeare_char hyperparameters", () => {
    const tiny = configFromPreset('cpu-tiny');
    expect(tiny.model).toEqual({ nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false });
    expect(tiny.train).toMatchObject({
      batchSize: 12,
      maxIters: 2000,
      lrDecayIters: 2000,
      learningRate: 1e-3,
      minLr: 1e-4,
      warmupIters: 100,
      beta1: 0.9,
      beta2: 0.99,
      weightDecay: 0.1,
      gradClip: 1,
      evalIters: 20,
    });
    expect(configFromPreset('baby').model).toMatchObject({
      nLayer: 6,
      nHead: 6,
      nEmbd: 384,
      blockSize: 256,
      dropout: 0.2,
    });
    expect(configFromPreset('baby').train.batchSize).toBe(64);
    expect(configFromPreset('gpt2-small').model).toMatchObject({
      nLayer: 12,
      nHead: 12,
      nEmbd: 768,
      blockSize: 1024,
    });
    for (const p of Object.values(presets)) expect(() => configFromPreset(p.id)).not.toThrow();
  });

  it('counts parameters as nanoGPT (GPT-2 small with biases: 124,439,808)', () => {
    expect(
      countParams({
        nLayer: 12,
        nHead: 12,
        nEmbd: 768,
        blockSize: 1024,
        vocabSize: 50257,
        dropout: 0,
        bias: true,
      }),
    ).toBe(124_439_808);
    // nanoGPT prints 10.65M for shakespeare_char: its count leaves out the position embedding
    expect(countParams({ ...configFromPreset('baby').model, vocabSize: 65 }) - 256 * 384).toBe(10_646_784);
  });

  it("counts a step's FLOPs per token as nanoGPT's estimate_mfu: 6 per parameter but position embeddings, and attention", () => {
    const baby = resolveModelConfig(configFromPreset('baby'), { vocabSize: 65 });
    expect(trainingFlopsPerToken(baby)).toBe(6 * 10_646_784 + 12 * 6 * 384 * 256);
    const gpt2 = resolveModelConfig(configFromPreset('gpt2-small'), { vocabSize: 50_304 });
    // ≈ 0.85 GFLOP a token: 10.5 TFLOP for one micro-batch of 12 × 1,024
    expect(trainingFlopsPerToken(gpt2) * 12 * 1024).toBeGreaterThan(10.4e12);
    expect(trainingFlopsPerToken(gpt2) * 12 * 1024).toBeLessThan(10.6e12);
  });
});

describe('validation', () => {
  const base = {
    model: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 32 },
    train: { batchSize: 4, maxIters: 10 },
  };
  it('rejects impossible configurations, naming the field and the fix', () => {
    const issue = (cfg: unknown) => {
      const r = runConfigSchema.safeParse(cfg);
      return r.success
        ? null
        : { path: r.error.issues[0]!.path.join('.'), message: r.error.issues[0]!.message };
    };
    expect(issue({ ...base, model: { ...base.model, nEmbd: 18, nHead: 4 } })).toEqual({
      path: 'model.nEmbd',
      message: 'nEmbd (18) must be divisible by nHead (4): use nEmbd 16 or 20, or change nHead',
    });
    expect(issue({ ...base, model: { ...base.model, nLayer: -1 } })?.message).toMatch(
      /nLayer \(number of layers\) must be at least 1/,
    );
    expect(issue({ ...base, model: { ...base.model, blockSize: 0 } })?.path).toBe('model.blockSize');
    expect(issue({ ...base, train: { ...base.train, batchSize: 1.5 } })?.message).toMatch(/whole number/);
    expect(issue({ ...base, train: { ...base.train, minLr: 1, learningRate: 0.1 } })?.path).toBe(
      'train.minLr',
    );
    expect(issue({ ...base, extra: 1 })?.message).toMatch(/Unrecognized key/);
    expect(issue(base)).toBeNull();
  });

  it('checks the context and the vocabulary against the data', () => {
    const cfg = runConfigSchema.parse(base);
    expect(checkConfigAgainstData(cfg, { vocabSize: 65, trainTokens: 1000, valTokens: 20 })).toEqual([
      {
        path: 'model.blockSize',
        message: 'blockSize 32 does not fit the val split (20 tokens): use blockSize 19 or less, or add data',
      },
    ]);
    const v = runConfigSchema.parse({ ...base, model: { ...base.model, vocabSize: 50 } });
    expect(
      checkConfigAgainstData(v, { vocabSize: 65, trainTokens: 1000, valTokens: 200 })[0]?.message,
    ).toMatch(/vocabSize 50 is smaller than the dataset's vocabulary \(65 tokens\): use vocabSize 65/);
    expect(checkConfigAgainstData(cfg, { vocabSize: 65, trainTokens: 1000, valTokens: 200 })).toEqual([]);
  });
});

describe('overrides', () => {
  it('leave unset fields to the preset (no defaults filled in)', () => {
    expect(runOverridesSchema.parse({ model: {}, train: { maxIters: 10 } })).toEqual({
      model: {},
      train: { maxIters: 10 },
    });
    expect(() => runOverridesSchema.parse({ model: { nHead: 0 } })).toThrow(/at least 1/);
    expect(() => runOverridesSchema.parse({ train: { nope: 1 } })).toThrow(/Unrecognized key/);
    expect(configFromPreset('baby', { train: { maxIters: 10 } }).model.dropout).toBe(0.2);
  });
});

describe('learning-rate schedule (nanoGPT get_lr)', () => {
  const t = {
    learningRate: 1e-3,
    minLr: 1e-4,
    warmupIters: 100,
    lrDecayIters: 2000,
    maxIters: 2000,
    decayLr: true,
  };
  it('warms up linearly, decays along a cosine to minLr, stays there', () => {
    expect(learningRateAt(t, 0)).toBeCloseTo(1e-3 / 101, 12);
    expect(learningRateAt(t, 99)).toBeCloseTo((1e-3 * 100) / 101, 12);
    expect(learningRateAt(t, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(t, 1050)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(learningRateAt(t, 2000)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(t, 5000)).toBe(1e-4);
    expect(learningRateAt({ ...t, decayLr: false }, 1500)).toBe(1e-3);
  });
});

describe('activation checkpointing', () => {
  const baby = configFromPreset('baby');
  const model = resolveModelConfig(baby, { vocabSize: 65 });
  const GiB = 2 ** 30;
  it('auto: above 1 GiB of activations, or half of a GPU whose free memory is known', () => {
    expect(activationBytes(model, baby.train.batchSize)).toBeGreaterThan(3 * GiB);
    expect(usesActivationCheckpointing(baby, model)).toBe(true);
    expect(usesActivationCheckpointing(baby, model, 140 * GiB)).toBe(false); // an H200 holds it
    expect(usesActivationCheckpointing(baby, model, 4 * GiB)).toBe(true); // a small GPU does not
    const tiny = configFromPreset('cpu-tiny');
    expect(usesActivationCheckpointing(tiny, resolveModelConfig(tiny, { vocabSize: 65 }))).toBe(false);
  });
  it('on and off are obeyed whatever the memory', () => {
    const on = { ...baby, train: { ...baby.train, activationCheckpointing: 'on' as const } };
    const off = { ...baby, train: { ...baby.train, activationCheckpointing: 'off' as const } };
    expect(usesActivationCheckpointing(on, model, 140 * GiB)).toBe(true);
    expect(usesActivationCheckpointing(off, model)).toBe(false);
  });
});
