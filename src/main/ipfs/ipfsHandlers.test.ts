import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractClient } from '../../shared/api/client.ts';
import { ApiError } from '../../shared/api/errors.ts';
import type { JobProgress } from '../../shared/api/jobs.ts';
import { createAppCore, createLocalClient, type AppCore } from '../rpc/localClient.ts';
import { createServices } from '../services/services.ts';
import { seededBytes } from './testUtil.ts';

let dir: string;
let core: AppCore;
let client: ContractClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-ipfs-api-'));
  core = createAppCore(createServices({ dataDir: join(dir, 'data'), entryPoint: 'cli' }));
  client = createLocalClient(core, 'cli');
});
afterAll(async () => {
  await core.services.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('ipfs.* through the dispatcher', () => {
  it('adds as a job with progress, and every result passes the contract', async () => {
    const file = join(dir, 'data.bin');
    await writeFile(file, seededBytes(3 * 1024 * 1024, 'api'));
    const progress: JobProgress[] = [];
    const off = client.on('job.progress', (p) => progress.push(p));
    const added = await client.invoke('ipfs.add', { path: file, pin: true });
    off();
    expect(added).toMatchObject({ kubo: false, pinned: true, files: 1, bytes: 3 * 1024 * 1024 });
    expect(
      progress.some((p) => p.kind === 'ipfs.add' && p.stage === 'adding' && p.total === 3 * 1024 * 1024),
    ).toBe(true);

    const text = await client.invoke('ipfs.add', {
      path: await writeText('note.txt', 'héllo\n'),
      kubo: true,
    });
    const cat = await client.invoke('ipfs.cat', { cid: text.cid });
    expect(cat).toMatchObject({ encoding: 'utf8', content: 'héllo\n', size: 7, truncated: false });
    const bin = await client.invoke('ipfs.cat', { cid: added.cid, maxBytes: 4 });
    expect(bin).toMatchObject({ encoding: 'base64', bytes: 4, truncated: true });
    expect(Buffer.from(bin.content, 'base64')).toEqual(Buffer.from(seededBytes(4, 'api')));

    expect(await client.invoke('ipfs.pins', {})).toEqual([{ cid: added.cid, recursive: true, depth: null }]);
    const status = await client.invoke('ipfs.status', {});
    expect(status).toMatchObject({ online: false, repo: { pins: 1 } });
    expect(await client.invoke('ipfs.peers', {})).toEqual([]);
    const gc = await client.invoke('ipfs.gc', {});
    expect(gc.removedBlocks).toBe(1);

    const online = await client.invoke('ipfs.setOnline', {
      online: true,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      publicNetwork: false,
    });
    expect(online).toMatchObject({ online: true, peerId: status.peerId });
    const offline = await client.invoke('ipfs.setOnline', { online: false });
    expect(offline.online).toBe(false);
  });

  it('reports bad requests as INVALID_PARAMS naming the field', async () => {
    const unknownField = await client
      .invoke('ipfs.add', { path: '/x', recursive: true } as never)
      .catch((e: unknown) => e);
    expect(unknownField).toBeInstanceOf(ApiError);
    expect((unknownField as ApiError).code).toBe('INVALID_PARAMS');
    const badCid = await client.invoke('ipfs.cat', { cid: 'nope' }).catch((e: unknown) => e);
    expect(badCid).toMatchObject({ code: 'INVALID_PARAMS', field: 'cid' });
    const badAddr = await client.invoke('ipfs.connect', { address: 'tcp://x' }).catch((e: unknown) => e);
    expect(badAddr).toMatchObject({ code: 'INVALID_PARAMS', field: 'address' });
  });
});

async function writeText(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}
