/**
 * The embedded chain: one anvil per data directory, state in `<chainDir>/state.json` (written by us, see
 * chainState.ts: after each transaction the app sees and before each stop), output in
 * `<chainDir>/anvil.log`, and a record of the running process in `<chainDir>/node.json` so that every
 * process using the same data directory (the app, the headless host, CLI commands) finds and shares it.
 *
 * - `start({ detached: true })` (the CLI's `chain start`) leaves anvil running after the process exits.
 * - `ensureRunning()` reuses a running anvil, or starts one owned by this process; `dispose()` stops what
 *   this process started (anvil writes its state on SIGTERM), and leaves alone what it found running.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import {
  dumpChainState,
  registerDurableChain,
  unregisterDurableChain,
  usableStateFile,
} from './chainState.ts';
import { isProcessAlive } from '../util/processAlive.ts';
import { DEFAULT_CHAIN_ID, probeAnvil, startAnvil, stopPid, type AnvilInstance } from './anvil.ts';

const nodeRecordSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().positive(),
  rpcUrl: z.string(),
  chainId: z.number().int(),
  startedAt: z.string(),
  detached: z.boolean(),
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

const MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface RunningChain {
  rpcUrl: string;
  chainId: number;
  pid: number;
  port: number;
  /** Started by this process (and stopped by its `dispose`). */
  owned: boolean;
}

export class EmbeddedChain {
  readonly dir: string;
  readonly stateFile: string;
  readonly logFile: string;
  readonly recordFile: string;
  #owned: AnvilInstance | undefined;
  #starting: Promise<RunningChain> | undefined;
  /** The state write in progress, and whether another was asked for meanwhile (writes never overlap). */
  #persisting: Promise<void> | undefined;
  #persistAgain = false;

  constructor(chainDir: string) {
    this.dir = chainDir;
    this.stateFile = join(chainDir, 'state.json');
    this.logFile = join(chainDir, 'anvil.log');
    this.recordFile = join(chainDir, 'node.json');
  }

  /** The running anvil of this data directory, or null (a stale record is removed). */
  async running(): Promise<RunningChain | null> {
    if (this.#owned && !isProcessAlive(this.#owned.pid)) {
      // Our anvil died (killed, crashed): forget it, so that the next call starts a new one on the saved state.
      console.warn(`the embedded chain (anvil, pid ${this.#owned.pid}) has exited; it will be started again`);
      unregisterDurableChain(this.#owned.rpcUrl);
      this.#owned = undefined;
      rmSync(this.recordFile, { force: true });
    }
    if (this.#owned) {
      const o = this.#owned;
      return { rpcUrl: o.rpcUrl, chainId: o.chainId, pid: o.pid, port: o.port, owned: true };
    }
    const record = this.#readRecord();
    if (!record) return null;
    const probe = isProcessAlive(record.pid) ? await probeAnvil(record.rpcUrl) : null;
    if (!probe) {
      rmSync(this.recordFile, { force: true });
      return null;
    }
    // Started by another process (or left running by one that crashed): what this process writes is saved too.
    registerDurableChain(record.rpcUrl, () => this.persist(record.rpcUrl));
    return {
      rpcUrl: record.rpcUrl,
      chainId: probe.chainId,
      pid: record.pid,
      port: record.port,
      owned: false,
    };
  }

  /** Starts anvil unless one runs for this data directory. */
  async ensureRunning(opts: { detached?: boolean } = {}): Promise<RunningChain> {
    // A killed anvil closes its socket before Node reaps it, and until then its pid still looks alive:
    // when ours does not answer, give its exit a moment to be seen, so that running() forgets it and a
    // new one starts instead of a dead address being handed out. One that is only slow is kept.
    const owned = this.#owned;
    if (owned && !(await owned.answers())) {
      await Promise.race([owned.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    const existing = await this.running();
    if (existing) return existing;
    this.#starting ??= this.#start(opts.detached ?? false).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(detached: boolean): Promise<RunningChain> {
    mkdirSync(this.dir, { recursive: true });
    if (existsSync(this.logFile) && statSync(this.logFile).size > MAX_LOG_BYTES)
      truncateSync(this.logFile, 0);
    const loadStateFile = usableStateFile(this.stateFile, (m) => console.warn(m));
    const instance = await startAnvil({
      ...(loadStateFile ? { loadStateFile } : {}),
      logFile: this.logFile,
      detached,
      chainId: DEFAULT_CHAIN_ID,
    });
    const record: NodeRecord = {
      pid: instance.pid,
      port: instance.port,
      rpcUrl: instance.rpcUrl,
      chainId: instance.chainId,
      startedAt: new Date().toISOString(),
      detached,
    };
    registerDurableChain(instance.rpcUrl, () => this.persist(instance.rpcUrl));
    // The first state file is written now, so that a chain that was started exists on disk.
    await this.persist(instance.rpcUrl);
    await writeJsonAtomic(this.recordFile, record);
    if (!detached) this.#owned = instance;
    return {
      rpcUrl: instance.rpcUrl,
      chainId: instance.chainId,
      pid: instance.pid,
      port: instance.port,
      owned: !detached,
    };
  }

  /**
   * Writes the state of the anvil at `rpcUrl` to the state file (atomically). Calls while one write runs
   * are served by one more write after it, which sees everything they saw.
   */
  async persist(rpcUrl: string): Promise<void> {
    if (this.#persisting) {
      this.#persistAgain = true;
      return this.#persisting;
    }
    this.#persisting = (async () => {
      try {
        do {
          this.#persistAgain = false;
          await dumpChainState(rpcUrl, this.stateFile);
        } while (this.#persistAgain);
      } finally {
        this.#persisting = undefined;
      }
    })();
    return this.#persisting;
  }

  /** Stops the running anvil of this data directory, whoever started it, after saving its state. */
  async stop(): Promise<boolean> {
    if (this.#owned) {
      const o = this.#owned;
      this.#owned = undefined;
      if (isProcessAlive(o.pid)) await this.#persistBeforeStop(o.rpcUrl);
      else unregisterDurableChain(o.rpcUrl);
      await o.stop();
      rmSync(this.recordFile, { force: true });
      return true;
    }
    const running = await this.running();
    if (!running) return false;
    // running() checked that an anvil answers at the recorded address with the recorded pid alive.
    await this.#persistBeforeStop(running.rpcUrl);
    await stopPid(running.pid);
    rmSync(this.recordFile, { force: true });
    return true;
  }

  async #persistBeforeStop(rpcUrl: string): Promise<void> {
    unregisterDurableChain(rpcUrl);
    await this.persist(rpcUrl).catch((e: unknown) =>
      console.warn(
        `the embedded chain's state could not be saved before it stopped: ${(e as Error).message}`,
      ),
    );
  }

  /** Stops anvil only if this process started it. */
  async dispose(): Promise<void> {
    if (this.#owned) await this.stop();
  }

  #readRecord(): NodeRecord | null {
    try {
      return nodeRecordSchema.parse(JSON.parse(readFileSync(this.recordFile, 'utf8')));
    } catch {
      return null;
    }
  }
}
