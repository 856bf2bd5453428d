import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-cli-ipfs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, '--data-dir', join(dir, 'data'), 'ipfs', ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

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
});
