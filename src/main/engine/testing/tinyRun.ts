import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConfigSchema, type RunConfig, type RunConfigInput } from '../../../shared/engine/config.ts';
import { prepareCharDataset, shakespearePath } from './charDataset.ts';

/**
 * What the engine's training tests train through the Trainer: a small slice of Tiny Shakespeare, and a GPT small
 * enough for software Vulkan with every mechanism a run has (dropout, a learning-rate schedule, evaluations,
 * checkpoints, samples) reached within a few steps.
 */

/** The first 30,000 characters of Tiny Shakespeare, prepared as a char dataset in `dir`/data. */
export function shakespeareSample(dir: string): string {
  return prepareCharDataset(
    readFileSync(shakespearePath(), 'utf8').slice(0, 30_000),
    join(dir, 'data'),
    'sh-30k',
  );
}

/** 2 layers of 32 with dropout 0.1; a metric every step, an evaluation every 4, a checkpoint every 2. */
export function tinyRunConfig(maxIters = 8): RunConfig {
  return runConfigSchema.parse({
    model: { nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, dropout: 0.1, bias: true },
    train: {
      batchSize: 4,
      maxIters,
      lrDecayIters: 8,
      warmupIters: 2,
      learningRate: 3e-3,
      minLr: 3e-4,
      evalInterval: 4,
      evalIters: 1,
      logInterval: 1,
      checkpointInterval: 2,
      sampleTokens: 8,
    },
  } satisfies RunConfigInput);
}
