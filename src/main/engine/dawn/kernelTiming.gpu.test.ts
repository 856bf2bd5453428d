/**
 * GPU timestamps on the Dawn device, as the product tuner (kernelTiming.ts) and the kernel profile
 * (DawnSession.profile) read them: the GPU's own clock to the nanosecond. Dawn rounds timestamps down to multiples of
 * 65,536 ns by default, which would make a GPU's kernels of tens of microseconds read 0 or 65.5 µs; device.ts turns
 * that off. A clock that counts in whole nanoseconds lands on a multiple of 65,536 once in 65,536 readings, so
 * durations that are all such multiples mean the rounding is back.
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../graph/graph.ts';
import { dawnDevice } from './device.ts';
import { kernelTimer } from './kernelTiming.ts';
import { gemmKernel } from './kernels/matmul.ts';
import { DawnSession } from './session.ts';
import { plainProblem } from './testing/gemmProblems.ts';
import { floats } from './testing/rewrites.ts';

const QUANTUM_NS = 65_536;
const rounded = (msList: number[]) => msList.every((ms) => Math.round(ms * 1e6) % QUANTUM_NS === 0);

describe("GPU timestamps on the engine's Dawn device", () => {
  it('time a kernel on the GPU clock, to the nanosecond', async () => {
    const dev = await dawnDevice();
    expect(dev.features).toContain('timestamp-query');
    const p = plainProblem(48, 40, 32);
    const kernel = gemmKernel(p, {});
    const usage = GPUBufferUsage.STORAGE;
    const buffer = (floatsIn: number) => dev.device.createBuffer({ size: floatsIn * 4, usage });
    const buffers = [buffer(p.m * p.k), buffer(p.k * p.n), buffer(p.m * p.n)];
    const scratch = (kernel.scratchBytes ?? []).map((bytes) =>
      dev.device.createBuffer({ size: bytes, usage }),
    );
    const timer = await kernelTimer(dev, kernel, [...buffers, ...scratch], 'a small product');
    try {
      const times = [];
      for (let i = 0; i < 6; i++) times.push(await timer.time(1));
      expect(times.every((t) => t.clock === 'gpu' && t.ms > 0)).toBe(true);
      expect(rounded(times.map((t) => t.ms))).toBe(false);
    } finally {
      timer.destroy();
      for (const b of [...buffers, ...scratch]) b.destroy();
    }
  });

  it('profile a session kernel by kernel, each dispatch timed to the nanosecond', async () => {
    const g = new Graph('profiled', { kernels: 'portable' });
    const x = g.input('x', 'float32', [32, 24]);
    const w = g.input('w', 'float32', [40, 24]);
    const h = g.emit1('Gemm', [x, w], [32, 40], 'float32', { transB: { int: 1 } });
    const s = g.emit1('Softmax', [h], [32, 40], 'float32', { axis: { int: -1 } });
    g.output(g.emit1('Mul', [s, s], [32, 40], 'float32'), 'y');
    const session = await DawnSession.create(g, { tune: false });
    try {
      const times = await session.profile({ x: floats([32, 24], 1), w: floats([40, 24], 2) });
      expect(times.map((t) => t.label)).toEqual(session.dispatchLabels);
      expect(times.every((t) => t.ms >= 0)).toBe(true);
      // each dispatch names its node, whose FLOPs and bytes turn the times into rates (dawnProfile.ts)
      const nodes = times.map((t) => session.kernelTraffic[t.node]!);
      expect(nodes.map((k) => k.kernel)).toEqual(times.map((t) => t.label.split(' ')[0]));
      expect(nodes[0]!.flops).toBe(2 * 32 * 40 * 24);
      expect(nodes.slice(1).every((k) => k.flops === 0 && k.bytes > 0)).toBe(true);
      expect(rounded(times.map((t) => t.ms))).toBe(false);
    } finally {
      await session.release();
    }
  });
});
