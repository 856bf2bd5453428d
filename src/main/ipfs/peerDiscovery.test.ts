import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliWithDataDir, jsonOf } from '../cli/testing/cliProcess.ts';
import { seededBytes, TempRepos } from './testUtil.ts';

/** Peers a user can see and steer: connect by multiaddr, list peers, find peers on the local network. */
const repos = new TempRepos();
afterEach(() => repos.cleanup());

const LOCAL = { listen: ['/ip4/127.0.0.1/tcp/0'], publicNetwork: false };

describe('IPFS peers', () => {
  it('xai-link ipfs connect reaches a peer by multiaddr; ipfs peers lists it; a bad address is explained', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const online = await a.setOnline(true, LOCAL);
    const address = online.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/'))!;
    const cli = cliWithDataDir(join(dir, 'b-data'));
    const connected = jsonOf<{ peerId: string }>(await cli('ipfs', 'connect', address, '--json'));
    expect(connected.peerId).toBe(online.peerId);
    const peers = jsonOf<{ peerId: string }[]>(
      await cli('ipfs', 'peers', '--no-public', '--peer', address, '--wait', '0.2', '--json'),
    );
    expect(peers.map((p) => p.peerId)).toContain(online.peerId);
    const bad = await cli('ipfs', 'connect', 'not-a-multiaddr');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/multiaddr/);
  }, 60_000);

  it('shows what is being fetched and from whom', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const b = repos.service(join(dir, 'b'));
    const cid = await a.addBytes(seededBytes(3_000_000, 'fetched'), { pin: true });
    const aOnline = await a.setOnline(true, LOCAL);
    await b.setOnline(true, LOCAL);
    expect(b.fetches()).toEqual([]);
    await b.connect(aOnline.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/'))!);
    const got = await b.catBytes(cid, { maxBytes: 4_000_000 });
    expect(got.bytes.length).toBe(3_000_000);
    // The card first (root block), then the content: every block came from A, and B says so.
    const fetches = b.fetches();
    expect(fetches.every((f) => f.cid === cid && f.error === null && f.endedAt !== null)).toBe(true);
    expect(new Set(fetches.flatMap((f) => f.peers.map((p) => p.peerId)))).toEqual(new Set([aOnline.peerId]));
    const blocks = fetches.reduce((n, f) => n + f.blocks, 0);
    expect(blocks).toBeGreaterThanOrEqual(4); // 3 MB in 1 MiB leaves, and the root
    expect(fetches.reduce((n, f) => n + f.peers.reduce((m, p) => m + p.blocks, 0), 0)).toBe(blocks);
    // Held now: reading again fetches nothing from anyone.
    const before = fetches.length;
    await b.catBytes(cid, { maxBytes: 4_000_000 });
    expect(
      b
        .fetches()
        .slice(before)
        .every((f) => f.blocks === 0 && f.peers.length === 0),
    ).toBe(true);
  }, 60_000);

  it('finds a peer on the local network by multicast DNS, with no address given', async () => {
    const dir = await repos.dir();
    const a = repos.service(join(dir, 'a'));
    const b = repos.service(join(dir, 'b'));
    const aOnline = await a.setOnline(true, {
      ...LOCAL,
      listen: ['/ip4/0.0.0.0/tcp/0'],
      localDiscovery: true,
    });
    await b.setOnline(true, { ...LOCAL, listen: ['/ip4/0.0.0.0/tcp/0'], localDiscovery: true });
    const until = Date.now() + 20_000;
    while (!(await b.peers()).some((p) => p.peerId === aOnline.peerId)) {
      if (Date.now() > until) throw new Error('B did not find A by mDNS within 20 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);
});
