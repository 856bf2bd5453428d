import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isGpuDeviceLost } from './gpuErrors.ts';
import { RUN_FILES, Trainer, type TrainerOptions } from './trainer.ts';

/**
 * How many GPU device losses one run outlives. A loss can be weather (a driver update, a reset after another
 * program hung the GPU); one that keeps coming back has a cause to fix, which the error's hint names.
 */
export const DEVICE_LOSS_RECOVERIES = 3;

export interface DeviceRecoveryOptions {
  /** The live trainer, for control messages (pause, stop, samples): each as it starts, null between two. */
  onTrainer?: (trainer: Trainer | null) => void;
  /** Losses to outlive (DEVICE_LOSS_RECOVERIES by default). */
  recoveries?: number;
  /** The wait before reopening the device, times the recovery's number: a reset driver takes a moment to return. */
  backoffMs?: number;
}

/**
 * Trains to the end like Trainer.run, and outlives the loss of the GPU device. The state on the device is gone
 * with it, so a new trainer takes over from the run's last checkpoint, on a newly opened device of the same
 * kind. Resuming is exact (batches and dropout masks follow the step), so the run ends with the numbers an
 * uninterrupted one would have; the steps since the checkpoint run again and are logged again, as after any
 * resume. Without checkpoints (writeFiles false), or past the limit, the loss is the run's error; what the run
 * saved stays as it was: no checkpoint is written from a lost device (its reads fail).
 */
export async function trainThroughDeviceLoss(
  options: TrainerOptions,
  recovery: DeviceRecoveryOptions = {},
): Promise<void> {
  const limit = recovery.recoveries ?? DEVICE_LOSS_RECOVERIES;
  const backoffMs = recovery.backoffMs ?? 2000;
  let attempt = options;
  let lost: { error: Error; step: number; paused: boolean; stop: boolean } | null = null;
  for (let recovered = 0; ; recovered++) {
    let trainer: Trainer;
    try {
      trainer = await Trainer.create(attempt);
    } catch (e) {
      if (!lost) throw e;
      const why = `${lost.error.message} after step ${lost.step}, and could not be opened again`;
      throw new Error(`${why}: ${(e as Error).message}`, { cause: e });
    }
    if (lost) {
      options.onEvent?.({
        type: 'log',
        level: 'warn',
        message:
          `${lost.error.message} after step ${lost.step}: reopened it and resumed from ` +
          `${attempt.resume ? `the checkpoint at step ${trainer.step}` : 'the start (no checkpoint yet)'} ` +
          `(recovery ${recovered} of ${limit}).`,
      });
      if (lost.paused) trainer.pause();
      if (lost.stop) trainer.stop();
    }
    recovery.onTrainer?.(trainer);
    try {
      await trainer.run();
      await trainer.close();
      return;
    } catch (e) {
      recovery.onTrainer?.(null);
      await trainer.close().catch(() => undefined);
      if (!isGpuDeviceLost(e)) throw e;
      if (recovered >= limit || options.writeFiles === false) {
        e.message +=
          ` after step ${trainer.step}` +
          (recovered > 0 ? ` (${recovered + 1} losses in this run; it keeps its last checkpoint)` : '');
        throw e;
      }
      lost = { error: e, step: trainer.step, paused: trainer.paused, stop: trainer.stopRequested };
      // pinned to the device that was chosen: "auto" would time every device again
      attempt = {
        ...options,
        device: trainer.device,
        resume: existsSync(join(options.runDir, RUN_FILES.latest)),
      };
      await new Promise((resolve) => setTimeout(resolve, backoffMs * (recovered + 1)));
    }
  }
}
