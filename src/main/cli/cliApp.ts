import type { Command } from 'commander';
import type { ContractClient } from '../../shared/api/client.ts';
import type { EntryPoint } from '../../shared/api/system.ts';
import { createAppCore, createLocalClient, type AppCore } from '../rpc/localClient.ts';
import { resolveDataDirPath } from '../services/dataDir.ts';
import { createServices } from '../services/services.ts';
import { ProgressBar } from './progress.ts';

/**
 * What every command uses: the services (created on first use, with the data directory from
 * --data-dir or XAI_LINK_DATA_DIR), the in-process client, and shutdown.
 */
export class CliApp {
  readonly #program: Command;
  #core: AppCore | undefined;
  #client: ContractClient | undefined;
  /** `serve` switches this to "host" before the services start, so reports say how the app runs. */
  entryPoint: EntryPoint = 'cli';

  constructor(program: Command) {
    this.#program = program;
  }

  get dataDir(): string {
    return resolveDataDirPath(this.#program.opts<{ dataDir?: string }>().dataDir);
  }

  get core(): AppCore {
    this.#core ??= createAppCore(createServices({ dataDir: this.dataDir, entryPoint: this.entryPoint }));
    return this.#core;
  }

  get client(): ContractClient {
    this.#client ??= createLocalClient(this.core, this.entryPoint);
    return this.#client;
  }

  /**
   * Shows job progress events as a progress bar while `work` runs (unless --json or quiet),
   * and clears it afterwards.
   */
  async withProgress<T>(work: () => Promise<T>, opts: { json?: boolean } = {}): Promise<T> {
    const bar = new ProgressBar(process.stderr, !opts.json);
    const off = this.client.on('job.progress', (p) => bar.fromJob(p));
    try {
      return await work();
    } finally {
      off();
      bar.done();
    }
  }

  async close(): Promise<void> {
    await this.#core?.services.dispose();
  }
}
