import { z } from 'zod';
import { precisionSchema } from '../engine/devices.ts';
import { request } from './contract.ts';

export const executionProviderNames = ['cpu', 'webgpu', 'dawn', 'cuda', 'dml', 'coreml'] as const;
export const executionProviderNameSchema = z.enum(executionProviderNames);
export type ExecutionProviderName = z.infer<typeof executionProviderNameSchema>;

export const executionProviderReportSchema = z.object({
  name: executionProviderNameSchema,
  /** True only when a real session was created and run on this provider here. */
  usable: z.boolean(),
  /** Why it is unusable, or what it ran on. */
  detail: z.string(),
  probeMs: z.number().nonnegative(),
  /** The precisions of matrix products a run may ask of it (f16: matrix units, `dawn` only); absent: f32. */
  precisions: z.array(precisionSchema).optional(),
  /** A software WebGPU adapter (the CPU running WebGPU): trains when named, never chosen by `auto`. */
  software: z.boolean().optional(),
});
export type ExecutionProviderReport = z.infer<typeof executionProviderReportSchema>;

export const entryPointSchema = z.enum(['electron', 'host', 'cli']);
export type EntryPoint = z.infer<typeof entryPointSchema>;

export const systemInfoSchema = z.object({
  app: z.object({ name: z.string(), version: z.string() }),
  dataDir: z.string(),
  entryPoint: entryPointSchema,
  runtime: z.object({
    node: z.string(),
    v8: z.string(),
    electron: z.string().nullable(),
    chromium: z.string().nullable(),
    platform: z.string(),
    arch: z.string(),
  }),
  cpu: z.object({ model: z.string(), cores: z.number().int().positive() }),
  memory: z.object({ totalBytes: z.number().nonnegative(), freeBytes: z.number().nonnegative() }),
  onnxRuntime: z.object({
    version: z.string(),
    providers: z.array(executionProviderReportSchema),
  }),
});
export type SystemInfo = z.infer<typeof systemInfoSchema>;

/** One NVIDIA GPU as `nvidia-smi` reports it; a field it cannot report ("[N/A]", "[Not Supported]") is null. */
export const gpuReadingSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  utilizationPercent: z.number().min(0).max(100).nullable(),
  memoryUsedBytes: z.number().nonnegative().nullable(),
  memoryTotalBytes: z.number().nonnegative().nullable(),
  temperatureC: z.number().nullable(),
  source: z.literal('nvidia-smi'),
});
export type GpuReading = z.infer<typeof gpuReadingSchema>;

/** Live readings; the CPU figures cover the interval since the previous sample (of any caller). */
export const systemStatsSchema = z.object({
  /** When the readings were taken (ms since the epoch). */
  at: z.number(),
  cpu: z.object({
    cores: z.number().int().positive(),
    /** Machine-wide busy time over the interval, 0..100 (all cores together); null when the interval was too short to tell. */
    loadPercent: z.number().min(0).max(100).nullable(),
    /** The 1-minute load average; always 0 on Windows. */
    loadAverage1m: z.number().nonnegative(),
  }),
  process: z.object({
    /**
     * CPU time of the XAI-Link service process (its training and evaluation worker threads included)
     * over the interval, in percent of one core, like `top`: 250 means two and a half cores busy.
     */
    cpuPercent: z.number().nonnegative(),
    rssBytes: z.number().nonnegative(),
  }),
  memory: z.object({ totalBytes: z.number().nonnegative(), freeBytes: z.number().nonnegative() }),
  gpus: z.array(gpuReadingSchema),
  /** Why `gpus` is empty (no nvidia-smi, or it failed); null when there are readings. */
  gpuNote: z.string().nullable(),
});
export type SystemStats = z.infer<typeof systemStatsSchema>;

export const systemRequests = {
  'system.info': request({
    description:
      'Versions, hardware and the ONNX Runtime execution providers that really work on this machine.',
    params: z.strictObject({
      /** Probe the execution providers again instead of using the cached result. */
      refresh: z.boolean().default(false),
    }),
    result: systemInfoSchema,
  }),
  'system.stats': request({
    description:
      'Live CPU load (machine and this process), memory, and NVIDIA GPU readings from nvidia-smi where present.',
    params: z.strictObject({}),
    result: systemStatsSchema,
  }),
  'system.ping': request({
    description: 'Echoes a message back; checks that the transport works end to end.',
    params: z.strictObject({ message: z.string().max(1000) }),
    result: z.object({ message: z.string(), at: z.number() }),
  }),
};
