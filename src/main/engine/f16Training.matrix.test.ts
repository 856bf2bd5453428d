/**
 * Training with f16 products (`xai-link train --device dawn --precision f16`) through the Trainer, on an adapter with
 * f16 subgroup matrices: a GPU with tensor cores, or Mesa 26's lavapipe (`npm run test:webgpu-matrix`). The run
 * follows the f32 run to f16 accuracy, says where and how it trains, and a stopped run resumed from its checkpoint
 * equals an uninterrupted one exactly: the products are deterministic, so resume stays exact as on the CPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from './checkpoint.ts';
import { DeviceError } from './device.ts';
import { shakespeareSample, tinyRunConfig } from './testing/tinyRun.ts';
import { RUN_FILES, Trainer } from './trainer.ts';
import type { Precision } from '../../shared/engine/devices.ts';

let root: string;
let dataDir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'xai-f16-test-'));
  dataDir = shakespeareSample(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = tinyRunConfig();

async function train(runDir: string, precision: Precision, o: { stopAt?: number; resume?: boolean } = {}) {
  const losses = new Map<number, number>();
  let message = '';
  const trainer: Trainer = await Trainer.create({
    config,
    data: { path: dataDir },
    runDir,
    device: 'dawn',
    precision,
    resume: o.resume,
    onEvent: (e) => {
      if (e.type === 'started') message = e.message;
      if (e.type === 'metric') {
        losses.set(e.metric.step, e.metric.loss);
        if (e.metric.step === o.stopAt) trainer.stop();
      }
    },
  });
  expect(trainer.device).toBe('dawn');
  await trainer.run();
  await trainer.close();
  return { losses, message };
}

describe('training with f16 products', () => {
  it('follows the f32 run, and says it multiplies in f16', async () => {
    const f32 = await train(join(root, 'f32'), 'f32');
    const f16 = await train(join(root, 'f16'), 'f16');
    expect(f16.message).toMatch(/Matrix products in f16 on the GPU’s matrix units/);
    expect(f32.message).not.toMatch(/f16/);
    for (const [step, loss] of f16.losses) expect(Math.abs(loss - f32.losses.get(step)!)).toBeLessThan(5e-3);
  }, 300_000);

  it('a run stopped with a checkpoint and resumed equals an uninterrupted one', async () => {
    const whole = await train(join(root, 'whole'), 'f16');
    const first = await train(join(root, 'split'), 'f16', { stopAt: 3 });
    expect([...first.losses.keys()]).toEqual([1, 2, 3]);
    const rest = await train(join(root, 'split'), 'f16', { resume: true });
    expect([...rest.losses.keys()]).toEqual([4, 5, 6, 7, 8]);
    for (const [step, loss] of [...first.losses, ...rest.losses]) expect(loss).toBe(whole.losses.get(step));
    const a = loadCheckpoint(join(root, 'whole', RUN_FILES.latest)).state;
    const b = loadCheckpoint(join(root, 'split', RUN_FILES.latest)).state;
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    expect(bytes(b.params).equals(bytes(a.params))).toBe(true);
  }, 300_000);

  it('f16 on a device without f16 products is refused, saying where it runs', async () => {
    await expect(
      Trainer.create({
        config,
        data: { path: dataDir },
        runDir: join(root, 'cpu'),
        device: 'cpu',
        precision: 'f16',
      }),
    ).rejects.toThrow(DeviceError);
    await expect(
      Trainer.create({
        config,
        data: { path: dataDir },
        runDir: join(root, 'cpu'),
        device: 'cpu',
        precision: 'f16',
      }),
    ).rejects.toThrow(/engine's own kernels \(device "dawn"/);
  });
});
