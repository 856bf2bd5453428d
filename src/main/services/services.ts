import type { EntryPoint } from '../../shared/api/system.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { SettingsService } from '../settings/settingsService.ts';
import { SystemService, type RuntimeVersions } from '../system/systemService.ts';
import { readAppIdentity } from './appInfo.ts';
import { DataDir } from './dataDir.ts';
import { JobManager } from './jobs.ts';

export interface ServicesOptions {
  dataDir: string;
  entryPoint: EntryPoint;
  runtime?: RuntimeVersions;
}

/**
 * Every main-process service, created once per process and shared by all entry points.
 * Heavy services (IPFS node, chain, training workers) must start lazily on first use, so that
 * `xai-link info` or opening the window stays fast.
 */
export interface AppServices {
  readonly dataDir: DataDir;
  readonly events: EventBus;
  readonly jobs: JobManager;
  readonly settings: SettingsService;
  readonly system: SystemService;
  /** Stops everything that runs (cancels jobs, stops nodes and child processes); call once on exit. */
  dispose(): Promise<void>;
}

export function createServices(opts: ServicesOptions): AppServices {
  const dataDir = new DataDir(opts.dataDir).ensure();
  const events = new EventBus();
  const jobs = new JobManager(events);
  const settings = new SettingsService(dataDir.settingsFile);
  const system = new SystemService({
    app: readAppIdentity(),
    dataDir: dataDir.root,
    entryPoint: opts.entryPoint,
    runtime: opts.runtime ?? { electron: null, chromium: null },
  });

  const disposers: (() => Promise<void> | void)[] = [() => jobs.cancelAll()];
  let disposed: Promise<void> | undefined;

  return {
    dataDir,
    events,
    jobs,
    settings,
    system,
    dispose() {
      disposed ??= (async () => {
        // Reverse order of creation: later services may depend on earlier ones.
        for (const d of disposers.reverse()) {
          try {
            await d();
          } catch (e) {
            console.error('error while shutting down', e);
          }
        }
      })();
      return disposed;
    },
  };
}
