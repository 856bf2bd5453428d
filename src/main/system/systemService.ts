import { cpus, freemem, totalmem } from 'node:os';
import ort from 'onnxruntime-node';
import type {
  EntryPoint,
  ExecutionProviderReport,
  SystemInfo,
  SystemStats,
} from '../../shared/api/system.ts';
import { probeExecutionProvidersIsolated } from './executionProviders.ts';
import { SystemStatsSampler } from './systemStats.ts';

export interface AppIdentity {
  name: string;
  version: string;
}

export interface RuntimeVersions {
  electron: string | null;
  chromium: string | null;
}

export class SystemService {
  readonly #app: AppIdentity;
  readonly #dataDir: string;
  readonly #entryPoint: EntryPoint;
  readonly #runtime: RuntimeVersions;
  /** Created with the service, so the first `stats()` already measures CPU load over an interval. */
  readonly #stats: SystemStatsSampler;
  #providers: Promise<ExecutionProviderReport[]> | undefined;

  constructor(opts: {
    app: AppIdentity;
    dataDir: string;
    entryPoint: EntryPoint;
    runtime: RuntimeVersions;
    stats?: SystemStatsSampler;
  }) {
    this.#app = opts.app;
    this.#dataDir = opts.dataDir;
    this.#entryPoint = opts.entryPoint;
    this.#runtime = opts.runtime;
    this.#stats = opts.stats ?? new SystemStatsSampler();
  }

  /** Live CPU load, memory and GPU readings (see SystemStatsSampler). */
  stats(): Promise<SystemStats> {
    return this.#stats.sample();
  }

  /** Probed once and cached: the hardware does not change while the app runs. */
  providers(refresh = false): Promise<ExecutionProviderReport[]> {
    if (!this.#providers || refresh) this.#providers = probeExecutionProvidersIsolated();
    return this.#providers;
  }

  async info(refresh = false): Promise<SystemInfo> {
    const cpuList = cpus();
    return {
      app: this.#app,
      dataDir: this.#dataDir,
      entryPoint: this.#entryPoint,
      runtime: {
        node: process.versions.node,
        v8: process.versions.v8,
        electron: this.#runtime.electron,
        chromium: this.#runtime.chromium,
        platform: process.platform,
        arch: process.arch,
      },
      cpu: { model: cpuList[0]?.model.trim() ?? 'unknown', cores: Math.max(1, cpuList.length) },
      memory: { totalBytes: totalmem(), freeBytes: freemem() },
      onnxRuntime: {
        version: ort.env.versions.common ?? 'unknown',
        providers: await this.providers(refresh),
      },
    };
  }
}
