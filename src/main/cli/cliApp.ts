import type { Command } from 'commander';
import { ContractClient } from '../../shared/api/client.ts';
import type { EntryPoint } from '../../shared/api/system.ts';
import type { AppCore } from '../rpc/localClient.ts';
import { resolveDataDirPath } from '../services/dataDir.ts';
import { ProgressBar } from './progress.ts';

/**
 * What every command uses: the services (created on first use, with the data directory from
 * --data-dir or XAI_LINK_DATA_DIR), the in-process client, and shutdown.
 */
export class CliApp {
  readonly #program: Command;
  #core: Promise<AppCore> | undefined;
  #client: ContractClient | undefined;
  /** `serve` switches this to "host" before the services start, so reports say how the app runs. */
  entryPoint: EntryPoint = 'cli';

  constructor(program: Command) {
    this.#program = program;
  }

  get dataDir(): string {
    return resolveDataDirPath(this.#program.opts<{ dataDir?: string }>().dataDir);
  }

  /**
   * The services and dispatcher, loaded on first use: `--help`, a usage error or a command that needs no
   * service then costs no import of the engine, the chain and the IPFS node.
   */
  loadCore(): Promise<AppCore> {
    this.#core ??= (async () => {
      const [{ createAppCore }, { createServices }] = await Promise.all([
        import('../rpc/localClient.ts'),
        import('../services/services.ts'),
      ]);
      const core = createAppCore(createServices({ dataDir: this.dataDir, entryPoint: this.entryPoint }));
      core.services.events.subscribe((event, payload) => this.#client?.dispatchEvent(event, payload));
      return core;
    })();
    return this.#core;
  }

  /** The in-process client: the same dispatcher, validation and handlers as the window and the host. */
  get client(): ContractClient {
    this.#client ??= new ContractClient(async (method, params) =>
      (await this.loadCore()).dispatcher.invoke(method, params, { entryPoint: this.entryPoint }),
    );
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
    const core = await this.#core?.catch(() => undefined);
    await core?.services.dispose();
  }
}
