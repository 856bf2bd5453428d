import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterEach, describe, expect, it } from 'vitest';
import { RepoBlockstore, STAGING_DIR } from './repoBlockstore.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (so a file named after it belongs to no live writer). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('RepoBlockstore', () => {
  it('removes the half-written blocks of a killed writer when it opens, and leaves live writers alone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xai-blocks-'));
    dirs.push(root);
    const first = new RepoBlockstore(root);
    await first.open();
    const bytes = new TextEncoder().encode('a block');
    const cid = CID.createV1(0x55, await sha256.digest(bytes));
    await first.put(cid, bytes);

    const staging = join(root, STAGING_DIR);
    const dead = `${deadPid()}-7.tmp`;
    const live = `${process.pid}-99.tmp`;
    await writeFile(join(staging, dead), 'torn');
    await writeFile(join(staging, live), 'in flight');

    const reopened = new RepoBlockstore(root);
    await reopened.open();
    expect(await readdir(staging)).toEqual([live]);
    // The staging folder is not a shard: it adds no block and hides none.
    expect(await reopened.size()).toEqual({ blocks: 1, bytes: bytes.byteLength });
    expect(Buffer.from(await reopened.getBytes(cid)).toString()).toBe('a block');
  });
});
