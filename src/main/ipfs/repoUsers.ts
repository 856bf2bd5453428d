import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { isProcessAlive } from '../util/processAlive.ts';

export interface RepoUser {
  pid: number;
  /** ISO time the process opened the repository. */
  since: string;
}

/**
 * The processes that have one IPFS repository open — the desktop app, the headless host and a CLI command
 * may share a data directory. Adds and pins from several processes are safe (blocks are content-addressed
 * files written atomically, pins are separate keys), but garbage collection is not: it would delete the
 * blocks another process is adding before it pins them. So each process leaves a file in `users/` while it
 * has the repository open, and collection refuses to run while another live process has one.
 */
export class RepoUsers {
  readonly #dir: string;
  readonly #file: string;

  constructor(repoDir: string) {
    this.#dir = join(repoDir, 'users');
    // The nonce keeps two services in one process (tests) apart.
    this.#file = join(this.#dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
  }

  async register(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const me: RepoUser = { pid: process.pid, since: new Date().toISOString() };
    await writeJsonAtomic(this.#file, me);
  }

  async unregister(): Promise<void> {
    await rm(this.#file, { force: true });
  }

  /** Other live processes that have the repository open; files left by processes that died are removed. */
  async others(): Promise<RepoUser[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const out: RepoUser[] = [];
    for (const name of names) {
      const file = join(this.#dir, name);
      if (file === this.#file || !name.endsWith('.json')) continue;
      const user = await readFile(file, 'utf8')
        .then((raw) => JSON.parse(raw) as RepoUser)
        .catch(() => null);
      if (!user || !Number.isInteger(user.pid) || user.pid === process.pid) continue;
      if (isProcessAlive(user.pid)) out.push(user);
      else await rm(file, { force: true });
    }
    return out;
  }
}
