/**
 * Losing the GPU in the middle of a run, on a real adapter (lavapipe here and in CI). WebGPU has one way for a
 * program to lose its device, `destroy()`; the engine handles every loss the same way, whatever its reason, so
 * destroying the device stands for a driver reset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.ts';
import { dawnDevice } from './dawn/device.ts';
import { DawnSession } from './dawn/session.ts';
import { GpuDeviceLostError } from './gpuErrors.ts';
import { trainThroughDeviceLoss } from './deviceRecovery.ts';
import { Graph } from './graph/graph.ts';
import { shakespeareSample, tinyRunConfig } from './testing/tinyRun.ts';
import { RUN_FILES, type Trainer, type TrainerEvent } from './trainer.ts';

let root: string;
let dataDir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'xai-device-loss-'));
  dataDir = shakespeareSample(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a driver reset does to the process's device. */
async function loseTheDevice(): Promise<void> {
  (await dawnDevice()).device.destroy();
}

describe('losing the GPU device', () => {
  it('a session on a lost device fails with the loss, naming the adapter; the next session opens a new device', async () => {
    const g = new Graph('double', { kernels: 'portable' });
    const x = g.input('x', 'float32', [4]);
    g.output(g.emit1('Add', [x, x], [4], 'float32'), 'y');
    const feeds = { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) };
    const before = await dawnDevice();
    const first = await DawnSession.create(g);
    expect((await first.run(feeds)).y!.data).toEqual(Float32Array.of(2, 4, 6, 8));

    // lost while a run is in flight: its read is refused (a bare AbortError) and the loss is reported, in
    // either order
    const inFlight = first.run(feeds);
    await new Promise((resolve) => setImmediate(resolve));
    await loseTheDevice();
    const error = await inFlight.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuDeviceLostError);
    expect((error as GpuDeviceLostError).message).toContain(
      `the GPU device (${before.adapter}) was lost (destroyed`,
    );
    expect((error as GpuDeviceLostError).hint).toMatch(/TDR/);
    // a later run of the same session fails at once, with the same error
    await expect(first.run(feeds)).rejects.toBe(error);
    await first.release();

    const after = await dawnDevice();
    expect(after.device).not.toBe(before.device);
    const second = await DawnSession.create(g);
    expect((await second.run(feeds)).y!.data).toEqual(Float32Array.of(2, 4, 6, 8));
    await second.release();
  }, 60_000);

  const config = tinyRunConfig();

  /** Trains `config` on Dawn, losing the device after each step listed in `loseAfter` (once per listing). */
  async function train(name: string, loseAfter: number[], recoveries?: number) {
    const runDir = join(root, name);
    const steps: number[] = [];
    const warnings: string[] = [];
    const losses = new Map<number, number>();
    const pending = [...loseAfter];
    const onEvent = (e: TrainerEvent) => {
      if (e.type === 'log' && e.level === 'warn') warnings.push(e.message);
      if (e.type !== 'metric') return;
      steps.push(e.metric.step);
      losses.set(e.metric.step, e.metric.loss);
      if (pending[0] === e.metric.step) {
        pending.shift();
        void loseTheDevice();
      }
    };
    const error = await trainThroughDeviceLoss(
      { config, data: { path: dataDir }, runDir, device: 'dawn', onEvent },
      { recoveries, backoffMs: 0 },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    return { runDir, steps, warnings, losses, error };
  }

  it('a run outlives the loss: it resumes on a new device from its last checkpoint and ends with the numbers of an uninterrupted run', async () => {
    const whole = await train('whole', []);
    expect(whole.error).toBeNull();
    const interrupted = await train('interrupted', [5]);
    expect(interrupted.error).toBeNull();
    // steps 1–5, the loss during step 6, then from the checkpoint at step 4 again
    expect(interrupted.steps).toEqual([1, 2, 3, 4, 5, 5, 6, 7, 8]);
    expect(interrupted.warnings).toEqual([
      expect.stringMatching(
        /the GPU device \(.+\) was lost \(destroyed.*\) after step 5: reopened it and resumed from the checkpoint at step 4 \(recovery 1 of 3\)\./,
      ),
    ]);
    for (const [step, loss] of interrupted.losses) expect(loss).toBe(whole.losses.get(step));
    const a = loadCheckpoint(join(whole.runDir, RUN_FILES.latest)).state;
    const b = loadCheckpoint(join(interrupted.runDir, RUN_FILES.latest)).state;
    expect(b.step).toBe(8);
    expect(b.params).toEqual(a.params);
    expect(b.m).toEqual(a.m);
    expect(b.v).toEqual(a.v);
  }, 300_000);

  it('a stop asked for before the loss is kept: the run resumes and stops at once, at its checkpoint', async () => {
    const runDir = join(root, 'stopped');
    let trainer: Trainer | null = null;
    const steps: number[] = [];
    const ends: string[] = [];
    const onEvent = (e: TrainerEvent) => {
      if (e.type === 'done') ends.push(e.status);
      if (e.type !== 'metric') return;
      steps.push(e.metric.step);
      // the stop's checkpoint is the first read from the lost device
      if (e.metric.step === 5) {
        trainer!.stop();
        void loseTheDevice();
      }
    };
    await trainThroughDeviceLoss(
      { config, data: { path: dataDir }, runDir, device: 'dawn', onEvent },
      { backoffMs: 0, onTrainer: (t) => (trainer = t ?? trainer) },
    );
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect(ends).toEqual(['stopped']);
    expect(loadCheckpoint(join(runDir, RUN_FILES.latest)).state.step).toBe(4);
  }, 300_000);

  it('a loss that keeps coming back ends the run with the error and its hint; the last checkpoint stays', async () => {
    // lost after step 3, resumed from step 2, lost after step 3 again: one recovery allowed
    const run = await train('repeated', [3, 3], 1);
    expect(run.steps).toEqual([1, 2, 3, 3]);
    expect(run.error).toBeInstanceOf(GpuDeviceLostError);
    expect((run.error as Error).message).toMatch(
      /was lost \(destroyed.*\) after step 3 \(2 losses in this run; it keeps its last checkpoint\)$/,
    );
    const saved = loadCheckpoint(join(run.runDir, RUN_FILES.latest)).state;
    expect(saved.step).toBe(2);
  }, 300_000);
});
