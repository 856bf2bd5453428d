/**
 * `--device auto` on this machine's WebGPU adapter: a software one (lavapipe in CI) is passed over before any
 * shader compiles, and trains only when named; a GPU is timed against the CPU as before.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dawnAdapter } from './dawn/device.ts';
import { kernelsFor, selectDevice, type DeviceName, type EngineSession } from './device.ts';
import { dropout, DROPOUT_KEY_INPUT } from './graph/ops.ts';
import { Graph } from './graph/graph.ts';

function tinyGraph(): Graph {
  const g = new Graph('auto_probe', { kernels: 'portable' });
  const x = g.input('x', 'float32', [1, 4]);
  g.output(g.emit1('Add', [g.emit1('Mul', [x, x], [1, 4], 'float32'), x], [1, 4], 'float32'), 'y');
  return g;
}
const feeds = { x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) };
/** A probe made slow: the device it runs on loses the timing. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('auto and the adapter', () => {
  it('passes over a software adapter without compiling on it; a GPU is timed', async () => {
    const adapter = await dawnAdapter();
    const built: DeviceName[] = [];
    const chosen = await selectDevice('auto', {
      probeModel: (device) => {
        built.push(device);
        return tinyGraph();
      },
      probeRun: async (s) => void (await s.run(feeds)),
    });
    try {
      const dawn = chosen.attempts.find((a) => a.device === 'dawn')!;
      const webgpu = chosen.attempts.find((a) => a.device === 'webgpu')!;
      if (adapter.software) {
        expect(built).not.toContain('dawn');
        expect(built).not.toContain('webgpu');
        expect(chosen.factory.device).toBe('cpu');
        for (const [attempt, device] of [
          [dawn, 'dawn'],
          [webgpu, 'webgpu'],
        ] as const) {
          expect(attempt.ok).toBe(false);
          expect(attempt.reason).toBe(
            `${adapter.name} is a software adapter (the CPU running WebGPU), slower than training on the CPU ` +
              `directly; --device ${device} trains on it anyway`,
          );
        }
        expect(chosen.message).toContain(`dawn (${adapter.name} is a software adapter`);
      } else {
        expect(built).toContain('dawn');
        expect(dawn.reason).not.toMatch(/software adapter/);
      }
    } finally {
      await chosen.session.release();
    }
  });

  it('times every device that works and takes the fastest; a CPU whose first step already loses is not timed again', async () => {
    const pick = async (slow: (device: DeviceName) => boolean, stepFlops?: number) => {
      const runs: DeviceName[] = [];
      const chosen = await selectDevice('auto', {
        threads: 1,
        timeSoftwareAdapters: true,
        stepFlops,
        probeModel: () => tinyGraph(),
        probeRun: async (s, device) => {
          runs.push(device);
          await s.run(feeds);
          if (slow(device)) await sleep(400);
        },
      });
      await chosen.session.release();
      const reason = (d: DeviceName) => chosen.attempts.find((a) => a.device === d)!.reason;
      return { device: chosen.factory.device, runs, reason };
    };

    const gpuWins = await pick((d) => d === 'cpu');
    expect(['dawn', 'webgpu']).toContain(gpuWins.device);
    expect(gpuWins.runs.filter((d) => d === 'cpu')).toHaveLength(1);
    expect(gpuWins.runs.filter((d) => d === 'dawn')).toHaveLength(2); // its warm-up, then the timed step
    expect(gpuWins.reason('cpu')).toMatch(/^1 thread, first step \d+ ms \(slower\)$/);

    const cpuWins = await pick((d) => d !== 'cpu');
    expect(cpuWins.device).toBe('cpu');
    expect(cpuWins.runs.filter((d) => d === 'cpu')).toHaveLength(2);
    expect(cpuWins.reason('dawn')).toMatch(/^ran the training graph, \d+ ms\/step \(slower\)$/);
    expect(cpuWins.reason('webgpu')).toMatch(/^ran the training graph, \d+ ms\/step \(slower\)$/);

    // a step whose products alone would keep this CPU busy for ages is not run on it at all
    const huge = await pick((d) => d !== 'cpu', 1e15);
    expect(['dawn', 'webgpu']).toContain(huge.device);
    expect(huge.runs).not.toContain('cpu');
    expect(huge.reason('cpu')).toMatch(
      /^1 thread, not timed: a step's 1000000 GFLOP of matrix products alone take ≥ \d+ ms at the \d+ GFLOP\/s it multiplies at \(slower\)$/,
    );
    // while one that could win is timed as before
    const small = await pick((d) => d !== 'cpu', 1e6);
    expect(small.device).toBe('cpu');
    expect(small.runs.filter((d) => d === 'cpu')).toHaveLength(2);
  });

  it("a CPU chosen after timing draws the dropout masks of a CPU asked for by name (ONNX Runtime's Dropout is stateful)", async () => {
    const withDropout = (device: DeviceName) => {
      const g = new Graph('auto_dropout', { kernels: kernelsFor(device) });
      const x = g.input('x', 'float32', [1, 64]);
      g.output(dropout(g, x, 0.5, 1234), 'y');
      return g;
    };
    const ones = {
      x: new ort.Tensor('float32', new Float32Array(64).fill(1), [1, 64]),
      // the GPUs' masks are a hash of the step's key (graph/ops.ts)
      [DROPOUT_KEY_INPUT]: new ort.Tensor('uint32', new Uint32Array([1]), []),
    };
    const feedsOf = (s: EngineSession) =>
      Object.fromEntries(Object.entries(ones).filter(([name]) => s.inputNames.includes(name)));
    const firstRun = async (request: 'auto' | 'cpu') => {
      const chosen = await selectDevice(request, {
        threads: 1,
        timeSoftwareAdapters: true,
        probeModel: withDropout,
        probeRun: async (s, device) => {
          await s.run(feedsOf(s));
          if (device !== 'cpu') await sleep(300); // the GPUs lose
        },
      });
      try {
        expect(chosen.factory.device).toBe('cpu');
        if (request === 'auto')
          expect(chosen.message).toMatch(/dawn \(ran the training graph, \d+ ms\/step \(slower\)\)/);
        return Array.from((await chosen.session.run(feedsOf(chosen.session))).y!.data as Float32Array);
      } finally {
        await chosen.session.release();
      }
    };
    const named = await firstRun('cpu');
    expect(new Set(named)).toEqual(new Set([0, 2])); // a real mask: some dropped, the rest scaled by 1/(1 − p)
    expect(await firstRun('auto')).toEqual(named);
  });

  it("a resumed run's own device is kept without timing the others; one that no longer works falls back to auto", async () => {
    const built: DeviceName[] = [];
    const options = {
      probeModel: (device: DeviceName) => {
        built.push(device);
        return tinyGraph();
      },
      probeRun: async (s: EngineSession) => void (await s.run(feeds)),
    };
    const kept = await selectDevice('auto', { ...options, prefer: 'dawn' });
    await kept.session.release();
    expect(kept.factory.device).toBe('dawn');
    expect(built).toEqual(['dawn']);
    expect(kept.message).toMatch(
      /^Kept the device this run trained on\. Training on WebGPU \(engine kernels\) on /,
    );

    built.length = 0;
    const gone = await selectDevice('auto', { ...options, threads: 1, prefer: 'cuda' });
    await gone.session.release();
    expect(built).toContain('cpu');
    expect(gone.message).toMatch(
      /^cuda, which this run trained on, cannot train now \(CUDA provider libraries are not installed.*\)\. Training on /,
    );
  });

  it('trains on a software adapter when it is named', async () => {
    for (const device of ['dawn', 'webgpu'] as const) {
      const chosen = await selectDevice(device, {
        probeModel: () => tinyGraph(),
        probeRun: async (s) => void (await s.run(feeds)),
      });
      try {
        expect(chosen.factory.device).toBe(device);
        if (device === 'dawn') {
          // the run's log names the adapter it trains on
          const { name, software } = await dawnAdapter();
          expect(chosen.message).toBe(
            `Training on WebGPU (engine kernels) on ${name}${software ? ' (a software adapter)' : ''}.`,
          );
        }
        const { y } = await chosen.session.run(feeds);
        expect(Array.from(y!.data as Float32Array)).toEqual([2, 6, 12, 20]);
      } finally {
        await chosen.session.release();
      }
    }
  });
});
