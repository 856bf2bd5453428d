import { describe, expect, it } from 'vitest';
import { runConfigFromNanoGpt } from './nanoGptCheckpoint.ts';

describe("nanoGPT's train.py config", () => {
  it('becomes a valid run config, also for fine-tuning settings (constant lr below the default min_lr)', () => {
    const model = {
      nLayer: 12,
      nHead: 12,
      nEmbd: 768,
      blockSize: 1024,
      vocabSize: 50304,
      dropout: 0,
      bias: false,
    };
    const finetune = new Map<string, unknown>([
      ['learning_rate', 3e-5],
      ['decay_lr', false],
      ['min_lr', 6e-5],
      ['max_iters', 20],
      ['batch_size', 1],
      ['gradient_accumulation_steps', 32],
      ['dataset', 'shakespeare'],
    ]);
    const c = runConfigFromNanoGpt(model, finetune);
    expect(c.train).toMatchObject({
      learningRate: 3e-5,
      minLr: 3e-5,
      decayLr: false,
      maxIters: 20,
      batchSize: 1,
    });
    expect(c.train.gradAccumSteps).toBe(32);
    expect(runConfigFromNanoGpt(model, null).train.maxIters).toBe(600000);
  });
});
