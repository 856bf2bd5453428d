import type { GpuReading, SystemStats } from '../../../../shared/api/system.ts';
import { formatBytes } from '../../util/format.ts';

/** Polling interval for live readings while something is worth watching. */
export const LIVE_POLL_MS = 2000;

/** 3.14 → "3.1 %", 42.4 → "42 %". */
export function percentText(v: number): string {
  return `${v.toFixed(v < 10 ? 1 : 0)} %`;
}

/** "42 % of 16 cores, load average 6.10"; "measuring… (16 cores)" until there is an interval to measure. */
export function cpuLoadText(cpu: SystemStats['cpu']): string {
  const cores = `${cpu.cores} core${cpu.cores === 1 ? '' : 's'}`;
  const avg = cpu.loadAverage1m > 0 ? `, load average ${cpu.loadAverage1m.toFixed(2)}` : '';
  return cpu.loadPercent === null
    ? `measuring… (${cores}${avg})`
    : `${percentText(cpu.loadPercent)} of ${cores}${avg}`;
}

function gpuMemoryText(g: GpuReading): string | null {
  if (g.memoryUsedBytes !== null && g.memoryTotalBytes !== null)
    return `${formatBytes(g.memoryUsedBytes)} of ${formatBytes(g.memoryTotalBytes)}`;
  if (g.memoryUsedBytes !== null) return `${formatBytes(g.memoryUsedBytes)} used`;
  if (g.memoryTotalBytes !== null) return `${formatBytes(g.memoryTotalBytes)} total`;
  return null;
}

/** "NVIDIA H100 80GB HBM3: 37 % busy, 1.2 GiB of 80 GiB, 45 °C"; what nvidia-smi could not say is left out. */
export function gpuText(g: GpuReading): string {
  const parts = [
    g.utilizationPercent !== null ? `${percentText(g.utilizationPercent)} busy` : null,
    gpuMemoryText(g),
    g.temperatureC !== null ? `${g.temperatureC.toFixed(0)} °C` : null,
  ].filter((p): p is string => p !== null);
  return parts.length > 0 ? `${g.name}: ${parts.join(', ')}` : `${g.name} (no readings)`;
}
