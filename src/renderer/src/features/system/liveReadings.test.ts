import { describe, expect, it } from 'vitest';
import type { GpuReading } from '../../../../shared/api/system.ts';
import { cpuLoadText, gpuText, percentText } from './liveReadings.ts';

const GiB = 1024 ** 3;
const gpu: GpuReading = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  utilizationPercent: 37,
  memoryUsedBytes: 1.5 * GiB,
  memoryTotalBytes: 80 * GiB,
  temperatureC: 45,
  source: 'nvidia-smi',
};

describe('live readings text', () => {
  it('formats percentages with a decimal only when small', () => {
    expect(percentText(3.14)).toBe('3.1 %');
    expect(percentText(42.4)).toBe('42 %');
    expect(percentText(250)).toBe('250 %');
  });

  it('describes the CPU load, and says when it is still measuring', () => {
    expect(cpuLoadText({ cores: 16, loadPercent: 42.4, loadAverage1m: 6.1 })).toBe(
      '42 % of 16 cores, load average 6.10',
    );
    expect(cpuLoadText({ cores: 1, loadPercent: null, loadAverage1m: 0 })).toBe('measuring… (1 core)');
  });

  it('describes a GPU, leaving out what nvidia-smi could not report', () => {
    expect(gpuText(gpu)).toBe('NVIDIA H100 80GB HBM3: 37 % busy, 1.5 GiB of 80.0 GiB, 45 °C');
    expect(gpuText({ ...gpu, utilizationPercent: null, memoryUsedBytes: null, temperatureC: null })).toBe(
      'NVIDIA H100 80GB HBM3: 80.0 GiB total',
    );
    expect(
      gpuText({
        ...gpu,
        utilizationPercent: null,
        memoryUsedBytes: null,
        memoryTotalBytes: null,
        temperatureC: null,
      }),
    ).toBe('NVIDIA H100 80GB HBM3 (no readings)');
  });
});
