import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithDataDir, jsonOf, type Cli } from '../testing/cliProcess.ts';

let dir: string;
let cli: Cli;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-cli-ipfs-'));
  const inDataDir = cliWithDataDir(join(dir, 'data'));
  cli = (...args) => inDataDir('ipfs', ...args);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('xai-link ipfs', () => {
  it('adds (last line: the CID), cats, pins, exports, imports and collects garbage', async () => {
    await writeFile(join(dir, 'hello'), 'hello world\n');
    const add = await cli('add', join(dir, 'hello'), '--kubo', '--pin');
    expect(add.code).toBe(0);
    expect(add.stdout.trim().split('\n').at(-1)).toBe('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o');

    await mkdir(join(dir, 'ds'));
    await writeFile(join(dir, 'ds', 'a.txt'), 'a');
    const unpinned = await cli('add', join(dir, 'ds'), '--json');
    const added = JSON.parse(unpinned.stdout) as { cid: string; files: number; pinned: boolean };
    expect(added).toMatchObject({ files: 1, pinned: false });

    const cat = await cli('cat', 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o');
    expect(cat).toMatchObject({ code: 0, stdout: 'hello world\n' });

    const car = join(dir, 'hello.car');
    expect((await cli('export', 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o', '--out', car)).code).toBe(
      0,
    );
    expect((await readFile(car)).length).toBeGreaterThan(50);

    const gc = JSON.parse((await cli('gc', '--json')).stdout) as { removedBlocks: number };
    expect(gc.removedBlocks).toBe(2); // the unpinned folder and its file
    const status = JSON.parse((await cli('status', '--json')).stdout) as {
      online: boolean;
      peerId: string;
      repo: { pins: number };
    };
    expect(status).toMatchObject({ online: false, repo: { pins: 1 } });
    expect(status.peerId).toMatch(/^12D3KooW/);

    const missing = await cli('cat', added.cid);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/is not in the local IPFS repository and IPFS networking is off/);
    expect(missing.stderr).toMatch(/^hint: /m);

    const imported = await cli('import', car, '--json');
    expect(JSON.parse(imported.stdout)).toMatchObject({
      roots: ['QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'],
    });
  });

  it('pins, lists, gets and unpins by CID (--json), and refuses a malformed CID with exit code 2', async () => {
    await writeFile(join(dir, 'notes.txt'), 'pinned notes\n');
    const { cid } = jsonOf<{ cid: string; pinned: boolean }>(
      await cli('add', join(dir, 'notes.txt'), '--json'),
    );
    const isPinned = async () =>
      jsonOf<{ cid: string; recursive: boolean }[]>(await cli('pins', '--json')).some(
        (p) => p.cid === cid && p.recursive,
      );

    expect(jsonOf(await cli('pin', cid, '--json'))).toEqual({ cid, alreadyPinned: false });
    expect(await cli('pin', cid)).toMatchObject({ code: 0, stdout: `already pinned ${cid}\n` });
    expect(await isPinned()).toBe(true);

    const out = join(dir, 'got', 'notes.txt');
    await mkdir(join(dir, 'got'));
    const got = jsonOf<{ path: string; files: number; bytes: number }>(
      await cli('get', cid, '--output', out, '--json'),
    );
    expect(got).toMatchObject({ path: out, files: 1, bytes: 13 });
    expect(await readFile(out, 'utf8')).toBe('pinned notes\n');
    expect(jsonOf(await cli('unpin', cid, '--json'))).toEqual({ cid, unpinned: true });
    expect(await isPinned()).toBe(false);

    const malformed = await cli('unpin', 'not-a-cid');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^error: "not-a-cid" is not an IPFS CID or path/m);
  });
});
