import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../util/processAlive.ts';
import { AnvilError, findAnvilBinary, probeAnvil, startAnvil } from './anvil.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-anvil-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<AnvilError> {
  try {
    const instance = (await p) as { stop(): Promise<void> };
    await instance.stop();
  } catch (e) {
    if (e instanceof AnvilError) return e;
    throw e;
  }
  throw new Error('anvil started, but it should not have');
}

describe('anvil', () => {
  it('starts on a free 127.0.0.1 port, answers JSON-RPC, and stops', async () => {
    const a = await startAnvil();
    expect(a.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await probeAnvil(a.rpcUrl)).toMatchObject({ chainId: 31337 });
    await a.stop();
    expect(isProcessAlive(a.pid)).toBe(false);
    expect(await probeAnvil(a.rpcUrl)).toBeNull();
  });

  it('finds the binary of the installed npm package', () => {
    expect(findAnvilBinary({})).toMatch(/anvil(\.exe)?$/);
    expect(() => findAnvilBinary({ XAI_LINK_ANVIL: join(dir, 'nope') })).toThrow(/does not exist/);
  });

  it('says why it cannot start: missing binary, not executable, port in use, damaged state file', async () => {
    expect((await failure(startAnvil({ binary: join(dir, 'missing-anvil') }))).reason).toBe('binary-missing');

    const notExecutable = join(dir, 'anvil-not-executable');
    writeFileSync(notExecutable, 'not a program', { mode: 0o644 });
    const e1 = await failure(startAnvil({ binary: notExecutable }));
    expect(e1.reason).toBe('not-executable');
    expect(e1.message).toContain('not executable');

    const first = await startAnvil();
    try {
      const e2 = await failure(startAnvil({ port: first.port }));
      expect(e2.reason).toBe('port-in-use');
    } finally {
      await first.stop();
    }

    const state = join(dir, 'state.json');
    writeFileSync(state, '{garbage');
    const e3 = await failure(startAnvil({ stateFile: state }));
    expect(e3.reason).toBe('exited');
    expect(e3.message).toMatch(/failed to parse/);
    expect(e3.hint).toContain(state);
  });
});
