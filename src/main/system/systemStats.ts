import { execFile } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem, type CpuInfo } from 'node:os';
import { promisify } from 'node:util';
import type { GpuReading, SystemStats } from '../../shared/api/system.ts';

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu',
  '--format=csv,noheader,nounits',
] as const;

const NVIDIA_SMI_TIMEOUT_MS = 2000;
/** A CPU interval shorter than this is not moved on from, so that quick calls do not measure noise. */
const MIN_CPU_INTERVAL_MS = 200;
/** Successful GPU readings are reused this long, so several pollers do not each spawn nvidia-smi. */
const GPU_FRESH_MS = 1000;
/** After nvidia-smi failed (but exists), it is tried again only after this long. */
const GPU_RETRY_MS = 30_000;

export const NVIDIA_SMI_NOT_FOUND =
  'nvidia-smi not found: GPU readings are shown for NVIDIA GPUs with their driver installed.';

const MIB = 1024 * 1024;

/** A field nvidia-smi could not report ("[N/A]", "[Not Supported]", "[Unknown Error]"…) becomes null. */
function numberOrNull(field: string): number | null {
  const t = field.trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu
 * --format=csv,noheader,nounits`: one line per GPU, memory in MiB. Lines that are not a GPU (a
 * warning, "No devices were found") are skipped; a GPU name containing commas is kept whole.
 */
export function parseNvidiaSmiCsv(text: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 6) continue;
    const index = fields[0]!;
    if (!/^\d+$/.test(index)) continue;
    const [util, used, total, temp] = fields.slice(-4).map(numberOrNull) as [
      number | null,
      number | null,
      number | null,
      number | null,
    ];
    const name = fields.slice(1, -4).join(', ');
    if (name === '') continue;
    gpus.push({
      index: Number(index),
      name,
      utilizationPercent: util !== null && util >= 0 && util <= 100 ? util : null,
      memoryUsedBytes: used !== null && used >= 0 ? used * MIB : null,
      memoryTotalBytes: total !== null && total >= 0 ? total * MIB : null,
      temperatureC: temp,
      source: 'nvidia-smi',
    });
  }
  return gpus;
}

export type ExecFileFn = (
  file: string,
  args: readonly string[],
  options: { timeout: number },
) => Promise<{ stdout: string; stderr: string }>;

const execFileAsync = promisify(execFile);
const defaultExec: ExecFileFn = (file, args, options) =>
  execFileAsync(file, [...args], { ...options, encoding: 'utf8', windowsHide: true });

/**
 * The smallest free memory among the NVIDIA GPUs nvidia-smi lists (total − used), or null where it is absent, fails or
 * reports no memory: what a training run may take there (trainer.ts decides activation checkpointing with it).
 */
export async function nvidiaFreeMemoryBytes(exec: ExecFileFn = defaultExec): Promise<number | null> {
  try {
    const { stdout } = await exec('nvidia-smi', NVIDIA_SMI_ARGS, { timeout: NVIDIA_SMI_TIMEOUT_MS });
    const free = parseNvidiaSmiCsv(stdout).map((g) =>
      g.memoryTotalBytes !== null && g.memoryUsedBytes !== null
        ? g.memoryTotalBytes - g.memoryUsedBytes
        : null,
    );
    return free.length > 0 && free.every((f) => f !== null) ? Math.min(...(free as number[])) : null;
  } catch {
    return null;
  }
}

interface GpuResult {
  gpus: GpuReading[];
  note: string | null;
}

interface CpuSample {
  /** Summed over all cores, in ms. */
  idle: number;
  total: number;
  cores: number;
  process: NodeJS.CpuUsage;
  hrtimeNs: bigint;
}

function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

function describeFailure(e: unknown): string {
  const err = e as {
    killed?: boolean;
    signal?: string | null;
    stderr?: string;
    stdout?: string;
    message?: string;
  };
  if (err.killed) return `nvidia-smi did not answer within ${NVIDIA_SMI_TIMEOUT_MS / 1000} s.`;
  const why =
    firstLine(err.stderr ?? '') || firstLine(err.stdout ?? '') || firstLine(err.message ?? String(e));
  return `nvidia-smi failed: ${why.slice(0, 300)}`;
}

/**
 * Live CPU, memory and GPU readings. Keeps the previous CPU sample so that each call reports the
 * load over the interval since then (a sample is taken at construction, so the first call already
 * has one). nvidia-smi is run at most once at a time, its absence is remembered, and after a
 * failure it is left alone for a while.
 */
export class SystemStatsSampler {
  readonly #exec: ExecFileFn;
  readonly #cpus: () => CpuInfo[];
  readonly #now: () => number;
  #previous: CpuSample;
  #gpuCached: { result: GpuResult; until: number } | undefined;
  #gpuInFlight: Promise<GpuResult> | undefined;

  constructor(opts: { exec?: ExecFileFn; cpus?: () => CpuInfo[]; now?: () => number } = {}) {
    this.#exec = opts.exec ?? defaultExec;
    this.#cpus = opts.cpus ?? cpus;
    this.#now = opts.now ?? Date.now;
    this.#previous = this.#cpuSample();
  }

  async sample(): Promise<SystemStats> {
    const gpu = this.#gpuReadings();
    const current = this.#cpuSample();
    const previous = this.#previous;
    const elapsedMs = Number(current.hrtimeNs - previous.hrtimeNs) / 1e6;
    if (elapsedMs >= MIN_CPU_INTERVAL_MS) this.#previous = current;

    const totalDelta = current.total - previous.total;
    const idleDelta = current.idle - previous.idle;
    const loadPercent =
      current.cores === previous.cores && totalDelta > 0
        ? Math.min(100, Math.max(0, (100 * (totalDelta - idleDelta)) / totalDelta))
        : null;
    const processMicros =
      current.process.user - previous.process.user + (current.process.system - previous.process.system);
    const cpuPercent = elapsedMs > 0 ? Math.max(0, (processMicros / 1000 / elapsedMs) * 100) : 0;

    const { gpus, note } = await gpu;
    return {
      at: this.#now(),
      cpu: {
        cores: Math.max(1, current.cores),
        loadPercent,
        loadAverage1m: Math.max(0, loadavg()[0] ?? 0),
      },
      process: { cpuPercent, rssBytes: process.memoryUsage.rss() },
      memory: { totalBytes: totalmem(), freeBytes: freemem() },
      gpus,
      gpuNote: note,
    };
  }

  #cpuSample(): CpuSample {
    let idle = 0;
    let total = 0;
    const list = this.#cpus();
    for (const { times } of list) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.irq + times.idle;
    }
    return {
      idle,
      total,
      cores: list.length,
      process: process.cpuUsage(),
      hrtimeNs: process.hrtime.bigint(),
    };
  }

  #gpuReadings(): Promise<GpuResult> {
    const cached = this.#gpuCached;
    if (cached && this.#now() < cached.until) return Promise.resolve(cached.result);
    this.#gpuInFlight ??= this.#queryGpus().finally(() => {
      this.#gpuInFlight = undefined;
    });
    return this.#gpuInFlight;
  }

  async #queryGpus(): Promise<GpuResult> {
    let result: GpuResult;
    let keepMs: number;
    try {
      const { stdout } = await this.#exec('nvidia-smi', NVIDIA_SMI_ARGS, { timeout: NVIDIA_SMI_TIMEOUT_MS });
      const gpus = parseNvidiaSmiCsv(stdout);
      result = { gpus, note: gpus.length > 0 ? null : 'nvidia-smi reported no GPU.' };
      keepMs = gpus.length > 0 ? GPU_FRESH_MS : GPU_RETRY_MS;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') {
        result = { gpus: [], note: NVIDIA_SMI_NOT_FOUND };
        keepMs = Number.POSITIVE_INFINITY;
      } else {
        result = { gpus: [], note: describeFailure(e) };
        keepMs = GPU_RETRY_MS;
      }
    }
    this.#gpuCached = { result, until: this.#now() + keepMs };
    return result;
  }
}
