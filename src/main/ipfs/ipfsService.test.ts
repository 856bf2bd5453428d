import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import { RepoBlockstore } from './repoBlockstore.ts';
import { collect, seededBytes, TempRepos } from './testUtil.ts';

const repos = new TempRepos();
afterEach(() => repos.cleanup());

async function makeDataset(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ['train.bin', Buffer.from(seededBytes(3 * 1024 * 1024 + 17, 'train'))],
    ['val.bin', Buffer.from(seededBytes(300 * 1024, 'val'))],
    ['manifest.json', Buffer.from('{"format":1}\n')],
    ['tokenizer/vocab.json', Buffer.from('{"a":1}')],
    ['empty.txt', Buffer.alloc(0)],
  ]);
  for (const [rel, bytes] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), bytes);
  }
  await mkdir(join(root, 'empty-dir'));
  return files;
}

async function expectApiError(p: Promise<unknown>, code: string, message: RegExp): Promise<ApiError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).code).toBe(code);
  expect((e as ApiError).message).toMatch(message);
  return e as ApiError;
}

describe('IpfsService offline', () => {
  it('adds a dataset directory, reads it back by CID, and keeps it (and its peer id) across a restart', async () => {
    const dir = await repos.dir();
    const dataset = join(dir, 'my-dataset');
    const files = await makeDataset(dataset);
    const repoDir = join(dir, 'repo');

    const ipfs = repos.service(repoDir);
    const progress: number[] = [];
    const added = await ipfs.addPath(dataset, {
      pin: true,
      onProgress: (p) => p.stage === 'adding' && progress.push(p.done),
    });
    expect(added.cid).toMatch(/^bafybei/);
    expect(added).toMatchObject({ kubo: false, pinned: true, files: 5, directories: 3, skippedCount: 0 });
    expect(added.bytes).toBe([...files.values()].reduce((n, b) => n + b.length, 0));
    expect(progress.at(-1)).toBe(added.bytes);

    for (const [rel, bytes] of files) {
      expect((await collect(ipfs.cat(`${added.cid}/${rel}`))).equals(bytes)).toBe(true);
    }
    const head = await ipfs.catBytes(`/ipfs/${added.cid}/train.bin`, { offset: 10, maxBytes: 100 });
    expect(head.size).toBe(files.get('train.bin')!.length);
    expect(head.truncated).toBe(true);
    expect(Buffer.from(head.bytes).equals(files.get('train.bin')!.subarray(10, 110))).toBe(true);

    const peerId = (await ipfs.status()).peerId;
    expect(peerId).toMatch(/^12D3KooW/);
    await ipfs.stop();

    // A new process (here: a new service) on the same repository sees the same content, pin and identity.
    const again = repos.service(repoDir);
    const status = await again.status();
    expect(status).toMatchObject({ peerId, online: false, connectedPeers: 0, listenAddresses: [] });
    expect(status.repo.pins).toBe(1);
    expect(await again.pins()).toEqual([{ cid: added.cid, recursive: true, depth: null }]);
    expect(await again.has(added.cid, { complete: true })).toBe(true);
    const out = join(dir, 'restored');
    const got = await again.getToDir(added.cid, out);
    expect(got).toMatchObject({ files: 5, directories: 3, bytes: added.bytes });
    for (const [rel, bytes] of files) expect((await readFile(join(out, rel))).equals(bytes)).toBe(true);
    expect((await stat(join(out, 'empty-dir'))).isDirectory()).toBe(true);
    // The identity file is private to the user.
    if (process.platform !== 'win32')
      expect((await stat(join(repoDir, 'identity.json'))).mode & 0o777).toBe(0o600);
  });

  it('leaves hidden files out unless asked, like ipfs add -r', async () => {
    const dir = await repos.dir();
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd', 'a.txt'), 'a');
    await writeFile(join(dir, 'd', '.secret'), 'b');
    const ipfs = repos.service(join(dir, 'repo'));
    const without = await ipfs.addPath(join(dir, 'd'));
    expect(without.skipped).toEqual([{ path: '.secret', reason: expect.stringMatching(/hidden/) }]);
    const withHidden = await ipfs.addPath(join(dir, 'd'), { hidden: true });
    expect(withHidden.files).toBe(2);
    expect(withHidden.cid).not.toBe(without.cid);
  });

  it('round-trips a DAG through a CAR file into another repository', async () => {
    const dir = await repos.dir();
    const files = await makeDataset(join(dir, 'ds'));
    const a = repos.service(join(dir, 'a'));
    const { cid } = await a.addPath(join(dir, 'ds'), { kubo: true });
    const car = join(dir, 'ds.car');
    const exported = await a.exportCar(cid, car);
    expect(exported.blocks).toBeGreaterThan(10);
    expect(exported.bytes).toBe((await stat(car)).size);
    await expectApiError(a.exportCar(cid, car), 'CONFLICT', /already exists/);

    const b = repos.service(join(dir, 'b'));
    const imported = await b.importCar(car);
    expect(imported).toMatchObject({ roots: [cid], pinned: [cid], blocks: exported.blocks });
    expect(await b.has(cid, { complete: true })).toBe(true);
    for (const [rel, bytes] of files)
      expect((await collect(b.cat(`${cid}/${rel}`))).equals(bytes)).toBe(true);
    // Importing the same CAR again is harmless.
    expect((await b.importCar(car)).roots).toEqual([cid]);
  });

  it('refuses a CAR whose block does not hash to its CID, naming the CID', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const cid = await a.addBytes(Buffer.from('sneakernet payload '.repeat(1000)));
    const car = join(dir, 'x.car');
    await a.exportCar(cid, car);
    const bytes = await readFile(car);
    const marker = Buffer.from('sneakernet payload');
    bytes[bytes.lastIndexOf(marker) + 3] ^= 0xff;
    await writeFile(car, bytes);
    const b = repos.service(join(dir, 'b'));
    await expectApiError(
      b.importCar(car),
      'FAILED_PRECONDITION',
      new RegExp(`Block ${cid} in .* does not hash to its CID`),
    );
    expect(await b.has(cid)).toBe(false);
  });

  it('refuses content whose block on disk was corrupted, with an error naming that block', async () => {
    const dir = await repos.dir();
    const repoDir = join(dir, 'repo');
    const data = Buffer.from(seededBytes(2 * 1024 * 1024 + 5, 'corrupt'));
    const ipfs = repos.service(repoDir);
    const root = await ipfs.addBytes(data);
    await ipfs.stop();

    // The second 1 MiB chunk is a raw leaf: its CID is sha256 of those bytes. Flip one byte of its file.
    const { sha256 } = await import('multiformats/hashes/sha2');
    const leaf = CID.createV1(0x55, await sha256.digest(data.subarray(1024 * 1024, 2 * 1024 * 1024)));
    const blocks = new RepoBlockstore(join(repoDir, 'blocks'));
    const file = blocks.fileFor(leaf);
    const bytes = await readFile(file);
    bytes[12345] ^= 0x01;
    await writeFile(file, bytes);

    const again = repos.service(repoDir);
    const err = await expectApiError(
      collect(again.cat(root)),
      'FAILED_PRECONDITION',
      new RegExp(`Block ${leaf.toString()} is corrupt`),
    );
    expect(err.message).toContain('does not hash to its CID');
    // The bad block was moved aside; adding the original bytes again repairs the repository.
    expect(await again.has(leaf.toString())).toBe(false);
    expect(await again.addBytes(data)).toBe(root);
    expect((await collect(again.cat(root))).equals(data)).toBe(true);
  });

  it('fails fast, saying networking is off, for content that is not held locally', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    await ipfs.start();
    const missing = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
    const t0 = performance.now();
    await expectApiError(
      collect(ipfs.cat(missing)),
      'NOT_FOUND',
      /is not in the local IPFS repository and IPFS networking is off/,
    );
    await expectApiError(ipfs.getToDir(missing, join(dir, 'out')), 'NOT_FOUND', /networking is off/);
    await expectApiError(ipfs.pin(missing), 'NOT_FOUND', /networking is off/);
    await expectApiError(ipfs.exportCar(missing, join(dir, 'm.car')), 'NOT_FOUND', /networking is off/);
    expect(performance.now() - t0).toBeLessThan(2000);

    // A DAG with a block missing: the root is here, a leaf is not.
    const data = Buffer.from(seededBytes(2 * 1024 * 1024, 'partial'));
    const root = await ipfs.addBytes(data);
    const { sha256 } = await import('multiformats/hashes/sha2');
    const leaf = CID.createV1(0x55, await sha256.digest(data.subarray(0, 1024 * 1024)));
    const { rm } = await import('node:fs/promises');
    await rm(new RepoBlockstore(join(dir, 'repo', 'blocks')).fileFor(leaf));
    const t1 = performance.now();
    await expectApiError(
      collect(ipfs.cat(root)),
      'NOT_FOUND',
      /not completely in the local IPFS repository .*networking is off/,
    );
    expect(await ipfs.has(root)).toBe(true);
    expect(await ipfs.has(root, { complete: true })).toBe(false);
    expect(performance.now() - t1).toBeLessThan(1000);
    await expect(readdir(dir)).resolves.not.toContain('out');
  });

  it('pins, unpins and garbage-collects', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    const keep = await ipfs.addBytes(Buffer.from(seededBytes(1500 * 1024, 'keep')), { pin: true });
    const drop = await ipfs.addBytes(Buffer.from(seededBytes(1500 * 1024, 'drop')));
    const kuboPinned = await ipfs.addBytes(Buffer.from('hello world\n'), { kubo: true });
    expect(await ipfs.pin(kuboPinned)).toEqual({ cid: kuboPinned, alreadyPinned: false });
    expect(await ipfs.pin(kuboPinned)).toEqual({ cid: kuboPinned, alreadyPinned: true });
    expect((await ipfs.pins()).map((p) => p.cid).sort()).toEqual([keep, kuboPinned].sort());

    const before = await ipfs.repoStat();
    const gc = await ipfs.gc();
    expect(gc.removedBlocks).toBe(3); // the dropped file's root and its two leaves
    expect(gc.freedBytes).toBeGreaterThan(1500 * 1024);
    expect(gc.repo.blocks).toBe(before.blocks - 3);
    expect(await ipfs.has(drop)).toBe(false);
    expect(await ipfs.has(keep, { complete: true })).toBe(true);

    expect(await ipfs.unpin(keep)).toEqual({ cid: keep, unpinned: true });
    expect(await ipfs.unpin(keep)).toEqual({ cid: keep, unpinned: false });
    await ipfs.gc();
    expect(await ipfs.has(keep)).toBe(false);
    expect(await ipfs.has(kuboPinned)).toBe(true);
  });

  it('refuses garbage collection while another process has the repository open, not after it died', async () => {
    const dir = await repos.dir();
    const repoDir = join(dir, 'repo');
    const ipfs = repos.service(repoDir);
    const unpinned = await ipfs.addBytes(Buffer.from('not pinned'));
    const serviceUrl = new URL('./ipfsService.ts', import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { IpfsService } = await import(${JSON.stringify(serviceUrl)});
         await new IpfsService({ repoDir: ${JSON.stringify(repoDir)}, log: () => {} }).start();
         process.stdout.write('ready\\n');
         setInterval(() => {}, 60_000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      expect(String(chunk)).toBe('ready\n');
      const e = await expectApiError(
        ipfs.gc(),
        'FAILED_PRECONDITION',
        new RegExp(`Another XAI-Link process \\(pid ${child.pid}, open since`),
      );
      expect(e.hint).toContain(join(repoDir, 'users'));
      expect(await ipfs.has(unpinned)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    // Killed with no chance to say so: its file is found stale and removed.
    expect(await readdir(join(repoDir, 'users'))).toHaveLength(2);
    expect((await ipfs.gc()).removedBlocks).toBe(1);
    expect(await ipfs.has(unpinned)).toBe(false);
    expect(await readdir(join(repoDir, 'users'))).toHaveLength(1);
    await ipfs.stop();
    expect(await readdir(join(repoDir, 'users'))).toHaveLength(0);
  });

  it('rejects what is not a CID, and paths that exist, with usable errors', async () => {
    const dir = await repos.dir();
    const ipfs = repos.service(join(dir, 'repo'));
    await expectApiError(collect(ipfs.cat('not-a-cid')), 'INVALID_PARAMS', /is not an IPFS CID or path/);
    await expectApiError(
      ipfs.pin('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/x'),
      'INVALID_PARAMS',
      /has a path after the CID/,
    );
    await expectApiError(ipfs.addPath(join(dir, 'nope')), 'NOT_FOUND', /no such file or directory/);
    const cid = await ipfs.addBytes(Buffer.from('x'));
    await writeFile(join(dir, 'taken'), 'y');
    await expectApiError(ipfs.getToDir(cid, join(dir, 'taken')), 'CONFLICT', /already exists/);
    await mkdir(join(dir, 'folder'));
    const dirCid = (await ipfs.addPath(join(dir, 'folder'))).cid;
    await expectApiError(ipfs.catBytes(dirCid), 'FAILED_PRECONDITION', /is a directory/);
  });

  it('cancels an add through its signal and stays usable', async () => {
    const dir = await repos.dir();
    await writeFile(join(dir, 'big.bin'), seededBytes(32 * 1024 * 1024, 'big'));
    const ipfs = repos.service(join(dir, 'repo'));
    const controller = new AbortController();
    const p = ipfs.addPath(join(dir, 'big.bin'), {
      signal: controller.signal,
      onProgress: (u) => u.done > 4 * 1024 * 1024 && controller.abort(),
    });
    await expectApiError(p, 'CANCELLED', /cancelled/);
    expect(await ipfs.addBytes(Buffer.from('still works'))).toMatch(/^bafk/);
  });
});
