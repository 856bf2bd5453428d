import { z } from 'zod';
import { request } from './contract.ts';

export const executionProviderNames = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export const executionProviderNameSchema = z.enum(executionProviderNames);
export type ExecutionProviderName = z.infer<typeof executionProviderNameSchema>;

export const executionProviderReportSchema = z.object({
  name: executionProviderNameSchema,
  /** True only when a real session was created and run on this provider here. */
  usable: z.boolean(),
  /** Why it is unusable, or what it ran on. */
  detail: z.string(),
  probeMs: z.number().nonnegative(),
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
  'system.ping': request({
    description: 'Echoes a message back; checks that the transport works end to end.',
    params: z.strictObject({ message: z.string().max(1000) }),
    result: z.object({ message: z.string(), at: z.number() }),
  }),
};
