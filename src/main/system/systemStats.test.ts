import { existsSync } from 'node:fs';
import type { CpuInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemStatsSchema } from '../../shared/api/system.ts';
import {
  NVIDIA_SMI_ARGS,
  NVIDIA_SMI_NOT_FOUND,
  nvidiaFreeMemoryBytes,
  parseNvidiaSmiCsv,
  SystemStatsSampler,
  type ExecFileFn,
} from './systemStats.ts';

const MIB = 1024 * 1024;

describe('parseNvidiaSmiCsv', () => {
  it('reads one GPU, memory from MiB to bytes', () => {
    expect(parseNvidiaSmiCsv('0, NVIDIA H100 80GB HBM3, 37, 1234, 81559, 45\n')).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        utilizationPercent: 37,
        memoryUsedBytes: 1234 * MIB,
        memoryTotalBytes: 81559 * MIB,
        temperatureC: 45,
        source: 'nvidia-smi',
      },
    ]);
  });

  it('reads two GPUs (CRLF, as on Windows)', () => {
    const gpus = parseNvidiaSmiCsv(
      '0, NVIDIA GeForce RTX 4090, 98, 20480, 24564, 71\r\n1, NVIDIA GeForce RTX 3060, 0, 5, 12288, 38\r\n',
    );
    expect(gpus.map((g) => [g.index, g.name, g.utilizationPercent, g.temperatureC])).toEqual([
      [0, 'NVIDIA GeForce RTX 4090', 98, 71],
      [1, 'NVIDIA GeForce RTX 3060', 0, 38],
    ]);
    expect(gpus[1]!.memoryTotalBytes).toBe(12288 * MIB);
  });

  it('turns fields nvidia-smi cannot report into null', () => {
    const [a, b] = parseNvidiaSmiCsv(
      '0, NVIDIA GeForce GTX 1650, [N/A], 512, 4096, [Not Supported]\n' +
        '1, Tesla K80, [Not Supported], [N/A], [Unknown Error], 33\n',
    );
    expect(a).toMatchObject({ utilizationPercent: null, memoryUsedBytes: 512 * MIB, temperatureC: null });
    expect(b).toMatchObject({
      index: 1,
      utilizationPercent: null,
      memoryUsedBytes: null,
      memoryTotalBytes: null,
      temperatureC: 33,
    });
  });

  it('keeps a name with commas whole and drops an impossible utilization', () => {
    expect(parseNvidiaSmiCsv('2, Quadro RTX 8000, rev 2, 250, 10, 20, 30')).toEqual([
      expect.objectContaining({ index: 2, name: 'Quadro RTX 8000, rev 2', utilizationPercent: null }),
    ]);
  });

  it('ignores lines that are not a GPU, without throwing', () => {
    const text = [
      '',
      'No devices were found',
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      'index, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu',
      'a, b, c, d, e, f',
      '-1, Broken, 1, 2, 3, 4',
      '0, , 1, 2, 3, 4',
      '0, NVIDIA A100-SXM4-40GB, 12',
      '3, NVIDIA A100-SXM4-40GB, 12, 100, 40960, 29',
      '\u0000\uffff,,,,,,',
    ].join('\n');
    expect(parseNvidiaSmiCsv(text)).toEqual([expect.objectContaining({ index: 3, temperatureC: 29 })]);
    expect(parseNvidiaSmiCsv('')).toEqual([]);
  });
});

/** Fake per-core times: each call returns the next entry of `steps` (busy, idle) spread over `cores`. */
function fakeCpus(steps: [busy: number, idle: number, cores?: number][]): () => CpuInfo[] {
  let i = 0;
  return () => {
    const [busy, idle, cores = 2] = steps[Math.min(i++, steps.length - 1)]!;
    return Array.from({ length: cores }, () => ({
      model: 'fake',
      speed: 1000,
      times: { user: busy / cores, nice: 0, sys: 0, irq: 0, idle: idle / cores },
    }));
  };
}

const noGpu: ExecFileFn = () =>
  Promise.reject(Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' }));

function busyFor(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SystemStatsSampler: CPU', () => {
  it('computes machine load from the time deltas since the previous sample', async () => {
    // construction: 100 busy / 100 idle; then +150 busy / +50 idle → 75 %.
    const sampler = new SystemStatsSampler({
      cpus: fakeCpus([
        [100, 100],
        [250, 150],
      ]),
      exec: noGpu,
    });
    const stats = await sampler.sample();
    expect(stats.cpu.loadPercent).toBeCloseTo(75, 6);
    expect(stats.cpu.cores).toBe(2);
  });

  it('does not move the baseline on a call that comes too soon', async () => {
    // The second call comes < 200 ms after construction, so the third still measures from construction.
    const sampler = new SystemStatsSampler({
      cpus: fakeCpus([
        [0, 100],
        [100, 100],
        [100, 200],
      ]),
      exec: noGpu,
    });
    expect((await sampler.sample()).cpu.loadPercent).toBeCloseTo(100, 6);
    expect((await sampler.sample()).cpu.loadPercent).toBeCloseTo(50, 6);
  });

  it('says null when it cannot tell: no time passed, or the core count changed', async () => {
    const still = new SystemStatsSampler({ cpus: fakeCpus([[100, 100]]), exec: noGpu });
    expect((await still.sample()).cpu.loadPercent).toBeNull();
    const hotplug = new SystemStatsSampler({
      cpus: fakeCpus([
        [100, 100, 2],
        [300, 300, 4],
      ]),
      exec: noGpu,
    });
    expect((await hotplug.sample()).cpu.loadPercent).toBeNull();
  });

  it('measures real work: this process is busy, the machine load is plausible', async () => {
    const sampler = new SystemStatsSampler();
    await sleep(50);
    await sampler.sample(); // too soon to move the baseline; still a valid reading
    busyFor(400);
    const stats = await sampler.sample();
    expect(() => systemStatsSchema.parse(stats)).not.toThrow();
    // ~100 % of one core was spent busy-looping; leave room for a loaded CI machine.
    expect(stats.process.cpuPercent).toBeGreaterThan(20);
    expect(stats.cpu.loadPercent).not.toBeNull();
    expect(stats.cpu.loadPercent!).toBeGreaterThan(0);
    expect(stats.cpu.loadPercent!).toBeLessThanOrEqual(100);
    expect(stats.process.rssBytes).toBeGreaterThan(10 * MIB);
    expect(stats.memory.totalBytes).toBeGreaterThan(0);
    expect(stats.memory.freeBytes).toBeLessThanOrEqual(stats.memory.totalBytes);
    expect(stats.cpu.loadAverage1m).toBeGreaterThanOrEqual(0);
    expect(Math.abs(stats.at - Date.now())).toBeLessThan(5000);

    // Idle for a while: this process's share drops well below the busy interval's.
    await sleep(400);
    const idle = await sampler.sample();
    expect(idle.process.cpuPercent).toBeLessThan(stats.process.cpuPercent);
  });
});

function onPath(command: string): boolean {
  const names = process.platform === 'win32' ? [`${command}.exe`] : [command];
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && names.some((n) => existsSync(join(dir, n))));
}

describe('nvidiaFreeMemoryBytes', () => {
  const answering =
    (stdout: string): ExecFileFn =>
    () =>
      Promise.resolve({ stdout, stderr: '' });
  it("the smallest GPU's free memory (total − used)", async () => {
    const two = '0, NVIDIA H200, 0, 1000, 143771, 30\n1, NVIDIA L4, 5, 300, 23034, 40\n';
    expect(await nvidiaFreeMemoryBytes(answering(two))).toBe((23034 - 300) * MIB);
  });
  it('null when nvidia-smi is missing, fails or reports no memory', async () => {
    const missing: ExecFileFn = () =>
      Promise.reject(Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' }));
    expect(await nvidiaFreeMemoryBytes(missing)).toBeNull();
    expect(await nvidiaFreeMemoryBytes(answering('No devices were found\n'))).toBeNull();
    expect(await nvidiaFreeMemoryBytes(answering('0, GPU, 5, [N/A], [N/A], 40\n'))).toBeNull();
  });
});

describe('SystemStatsSampler: GPU', () => {
  it('reports either GPU readings or a note saying why there are none', async () => {
    const stats = await new SystemStatsSampler().sample();
    expect(stats.gpus.length > 0).toBe(stats.gpuNote === null);
    expect(stats.gpuNote ?? 'nvidia-smi').toMatch(/nvidia-smi/);
  });

  it.runIf(!onPath('nvidia-smi'))('without nvidia-smi: no GPUs, and a note that explains', async () => {
    const stats = await new SystemStatsSampler().sample();
    expect(stats.gpus).toEqual([]);
    expect(stats.gpuNote).toBe(NVIDIA_SMI_NOT_FOUND);
    expect(stats.gpuNote).toMatch(/nvidia-smi not found/);
  });

  it('runs nvidia-smi with the query and a timeout, and returns what it parsed', async () => {
    const calls: unknown[][] = [];
    const exec: ExecFileFn = (file, args, options) => {
      calls.push([file, args, options]);
      return Promise.resolve({ stdout: '0, NVIDIA L4, 5, 300, 23034, 40\n', stderr: '' });
    };
    const stats = await new SystemStatsSampler({ exec }).sample();
    expect(calls).toEqual([['nvidia-smi', NVIDIA_SMI_ARGS, { timeout: 2000 }]]);
    expect(stats.gpuNote).toBeNull();
    expect(stats.gpus).toEqual([expect.objectContaining({ name: 'NVIDIA L4', memoryUsedBytes: 300 * MIB })]);
  });

  it('remembers that nvidia-smi is missing instead of spawning it on every poll', async () => {
    let spawned = 0;
    const exec: ExecFileFn = (...args) => {
      spawned++;
      return noGpu(...args);
    };
    let now = 1_000_000;
    const sampler = new SystemStatsSampler({ exec, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect((await sampler.sample()).gpuNote).toBe(NVIDIA_SMI_NOT_FOUND);
      now += 3_600_000;
    }
    expect(spawned).toBe(1);
  });

  it('never runs two nvidia-smi at once; concurrent polls share one', async () => {
    let spawned = 0;
    let running = 0;
    let most = 0;
    const exec: ExecFileFn = async () => {
      spawned++;
      most = Math.max(most, ++running);
      await sleep(50);
      running--;
      return { stdout: '0, NVIDIA T4, 1, 2, 15360, 30\n', stderr: '' };
    };
    let now = 0;
    const sampler = new SystemStatsSampler({ exec, now: () => now });
    const all = await Promise.all([sampler.sample(), sampler.sample(), sampler.sample()]);
    expect(all.map((s) => s.gpus.length)).toEqual([1, 1, 1]);
    expect([spawned, most]).toEqual([1, 1]);
    // Fresh readings are reused briefly, then asked for again.
    now += 500;
    await sampler.sample();
    expect(spawned).toBe(1);
    now += 1000;
    await sampler.sample();
    expect(spawned).toBe(2);
  });

  it('explains a failing nvidia-smi, and waits before trying it again', async () => {
    let spawned = 0;
    const failures = [
      Object.assign(new Error('Command failed: nvidia-smi'), {
        code: 9,
        stdout: '',
        stderr:
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      }),
      Object.assign(new Error('Command failed: nvidia-smi'), { killed: true, signal: 'SIGTERM', code: null }),
    ];
    const exec: ExecFileFn = () => Promise.reject(failures[spawned++]!);
    let now = 0;
    const sampler = new SystemStatsSampler({ exec, now: () => now });
    const first = await sampler.sample();
    expect(first.gpus).toEqual([]);
    expect(first.gpuNote).toMatch(
      /^nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate/,
    );
    now += 10_000;
    expect((await sampler.sample()).gpuNote).toBe(first.gpuNote);
    expect(spawned).toBe(1);
    now += 25_000;
    expect((await sampler.sample()).gpuNote).toBe('nvidia-smi did not answer within 2 s.');
    expect(spawned).toBe(2);
  });

  it('says so when nvidia-smi runs but lists no GPU', async () => {
    const exec: ExecFileFn = () => Promise.resolve({ stdout: '\n', stderr: '' });
    const stats = await new SystemStatsSampler({ exec }).sample();
    expect(stats).toMatchObject({ gpus: [], gpuNote: 'nvidia-smi reported no GPU.' });
  });
});
