import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../shared/engine/config.ts';
import type { DeviceRequestName } from '../../shared/engine/devices.ts';
import { loadCheckpoint } from '../engine/checkpoint.ts';
import { RUN_FILES } from '../engine/trainer.ts';
import { startTrainingWorker } from '../engine/trainingWorker.ts';

/**
 * The pipelines' use of the engine's Trainer (src/main/engine/trainer.ts), in the engine's training worker
 * thread (so the app's main process stays responsive): train from scratch, or continue from a checkpoint
 * placed as the run's latest, resuming an interrupted run from its last checkpoint.
 */
export interface TrainProgress {
  step: number;
  maxIters: number;
  loss: number | null;
  tokensPerSec: number | null;
}

export interface TrainResult {
  checkpointPath: string;
  step: number;
  tokensSeen: number;
  trainLoss: number | null;
  valLoss: number | null;
  resumed: boolean;
}

export async function trainRun(o: {
  config: RunConfig;
  datasetDir: string;
  runDir: string;
  /** Target step (total optimizer steps, including a parent's). */
  maxIters: number;
  device?: DeviceRequestName;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}): Promise<TrainResult> {
  const latest = join(o.runDir, RUN_FILES.latest);
  const resume = existsSync(latest);
  if (resume) {
    const step = loadCheckpoint(latest, { optimizer: false }).state.step;
    if (step >= o.maxIters) return resultOf(latest, true);
  }
  const handle = startTrainingWorker(
    {
      config: o.config,
      data: { path: o.datasetDir },
      runDir: o.runDir,
      device: o.device ?? 'cpu',
      ...(o.threads ? { threads: o.threads } : {}),
      resume,
      maxIters: o.maxIters,
    },
    (e) => {
      if (e.type === 'metric')
        o.onProgress?.({
          step: e.metric.step,
          maxIters: o.maxIters,
          loss: e.metric.loss,
          tokensPerSec: e.metric.tokensPerSec,
        });
      else if (e.type === 'started')
        o.onProgress?.({ step: e.step, maxIters: o.maxIters, loss: null, tokensPerSec: null });
    },
  );
  // Stop asks the worker to finish its step and write its latest checkpoint: a later run resumes from it.
  const onAbort = () => handle.stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await handle.done;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  const s = loadCheckpoint(latest, { optimizer: false }).state;
  if (s.step < o.maxIters)
    throw new Error(`training stopped at step ${s.step} of ${o.maxIters} (run it again to resume)`);
  return resultOf(latest, resume);
}

function resultOf(latest: string, resumed: boolean): TrainResult {
  const s = loadCheckpoint(latest, { optimizer: false }).state;
  return {
    checkpointPath: latest,
    step: s.step,
    tokensSeen: s.tokensSeen,
    trainLoss: s.trainLoss,
    valLoss: s.valLoss,
    resumed,
  };
}
