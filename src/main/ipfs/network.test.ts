import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import { collect, seededBytes, TempRepos } from './testUtil.ts';

/** Only 127.0.0.1 and no public bootstrap: the tests never leave this machine. */
const LOCAL = { listen: ['/ip4/127.0.0.1/tcp/0'], publicNetwork: false };

const repos = new TempRepos();
afterEach(() => repos.cleanup());

async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

describe('IpfsService networking (127.0.0.1 only)', () => {
  it('transfers a 10 MB dataset by CID over bitswap, keeping each peer id across online/offline and restarts', async () => {
    const dir = await repos.dir();
    const dataset = join(dir, 'dataset');
    await mkdir(join(dataset, 'shards'), { recursive: true });
    const files = new Map<string, Buffer>();
    for (let i = 0; i < 4; i++)
      files.set(`shards/train-${i}.bin`, Buffer.from(seededBytes(2_400_000 + i, `train-${i}`)));
    files.set('val.bin', Buffer.from(seededBytes(400_000, 'val')));
    files.set('manifest.json', Buffer.from('{"format":1}\n'));
    for (const [rel, bytes] of files) await writeFile(join(dataset, rel), bytes);

    const a = repos.service(join(dir, 'a'));
    const b = repos.service(join(dir, 'b'), { fetchTimeoutMs: 20_000 });
    const added = await a.addPath(dataset, { pin: true });
    expect(added.bytes).toBeGreaterThan(10_000_000);
    const aOffline = await a.status();
    const bId = await b.peerId();

    const aOnline = await a.setOnline(true, LOCAL);
    expect(aOnline).toMatchObject({ online: true, publicNetwork: false, peerId: aOffline.peerId });
    const address = aOnline.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/'));
    expect(address).toMatch(new RegExp(`/p2p/${aOffline.peerId}$`));

    // Offline, B cannot have it and says so at once.
    expect((await rejection(b.getToDir(added.cid, join(dir, 'early')))).code).toBe('NOT_FOUND');

    const bOnline = await b.setOnline(true, LOCAL);
    expect(bOnline.peerId).toBe(bId);
    const peer = await b.connect(address!);
    expect(peer.peerId).toBe(aOffline.peerId);
    expect((await b.peers()).map((p) => p.peerId)).toContain(aOffline.peerId);
    // The listener registers the inbound connection a moment after the dialler has it.
    await eventually(async () => expect((await a.status()).connectedPeers).toBe(1));

    const t0 = performance.now();
    const got = await b.getToDir(added.cid, join(dir, 'copy'));
    const seconds = (performance.now() - t0) / 1000;
    expect(got).toMatchObject({ files: files.size, bytes: added.bytes });
    for (const [rel, bytes] of files)
      expect((await readFile(join(dir, 'copy', rel))).equals(bytes)).toBe(true);
    expect(await b.has(added.cid, { complete: true })).toBe(true);
    console.info(`bitswap over 127.0.0.1: ${(added.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s`);

    // Pinning online fetches what is missing: a file only A has.
    const extra = await a.addBytes(Buffer.from(seededBytes(1_500_000, 'extra')));
    expect(await b.has(extra)).toBe(false);
    expect(await b.pin(extra)).toEqual({ cid: extra, alreadyPinned: false });
    expect(await b.has(extra, { complete: true })).toBe(true);

    // Back offline: same identity, no peers, the fetched content stays.
    const bOff = await b.setOnline(false);
    expect(bOff).toMatchObject({ online: false, peerId: bId, connectedPeers: 0, listenAddresses: [] });
    expect(await b.peers()).toEqual([]);
    expect((await collect(b.cat(`${added.cid}/manifest.json`))).toString()).toBe('{"format":1}\n');

    // A restarted (a new process) keeps its peer id, offline and online.
    await a.stop();
    const a2 = repos.service(join(dir, 'a'));
    expect((await a2.status()).peerId).toBe(aOffline.peerId);
    expect((await a2.setOnline(true, LOCAL)).peerId).toBe(aOffline.peerId);
  });

  it('online, a CID nobody has fails after the stall timeout, and a fetch can be cancelled', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const b = repos.service(join(dir, 'b'), { fetchTimeoutMs: 1500 });
    const address = (await a.setOnline(true, LOCAL)).listenAddresses[0]!;
    await b.setOnline(true, LOCAL);
    await b.connect(address);
    const nobodyHasIt = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyka';

    let t0 = performance.now();
    const timedOut = await rejection(collect(b.cat(nobodyHasIt)));
    expect(timedOut.code).toBe('UNAVAILABLE');
    expect(timedOut.message).toMatch(new RegExp(`timed out: no peer sent block ${nobodyHasIt} within 2 s`));
    expect(performance.now() - t0).toBeLessThan(5000);

    const controller = new AbortController();
    t0 = performance.now();
    setTimeout(() => controller.abort(), 200);
    const cancelled = await rejection(
      b.getToDir(nobodyHasIt, join(dir, 'never'), { signal: controller.signal, timeoutMs: 60_000 }),
    );
    expect(cancelled.code).toBe('CANCELLED');
    expect(performance.now() - t0).toBeLessThan(2000);

    // Turning networking off ends a fetch that waits on the network.
    const waiting = rejection(collect(b.cat(nobodyHasIt, { timeoutMs: 60_000 })));
    await new Promise((r) => setTimeout(r, 200));
    t0 = performance.now();
    await b.setOnline(false);
    const ended = await waiting;
    expect(ended.code).toBe('CANCELLED');
    expect(ended.message).toMatch(/networking was turned off/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('refuses to connect while offline, and reports a taken port without losing the node', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const b = repos.service(join(dir, 'b'));
    expect((await rejection(a.connect('/ip4/127.0.0.1/tcp/4001'))).code).toBe('FAILED_PRECONDITION');
    const taken = (await a.setOnline(true, LOCAL)).listenAddresses[0]!.replace(/\/p2p\/.*$/, '');
    const err = await rejection(b.setOnline(true, { listen: [taken], publicNetwork: false }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/Could not turn IPFS networking on/);
    expect((await b.status()).online).toBe(false);
    expect(await b.addBytes(Buffer.from('still usable'))).toMatch(/^bafk/);
  });
});
