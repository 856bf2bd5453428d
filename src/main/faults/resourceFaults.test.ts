import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createAppCore } from '../rpc/localClient.ts';
import { createServices } from '../services/services.ts';

/**
 * The machine fails, not XAI-Link: a full disk, a read-only disk, a corrupt record, a lock left by a dead
 * process. Each must end in a message that says what to do, with everything saved before intact.
 * The disk faults use a real 2 MB tmpfs (root only; skipped elsewhere).
 */
const dir = mkdtempSync(join(tmpdir(), 'xai-resource-faults-'));
const disk = join(dir, 'disk');
mkdirSync(disk);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]).status === 0;
afterAll(() => {
  if (mounted) spawnSync('umount', [disk]);
  rmSync(dir, { recursive: true, force: true });
});

function text(bytes: number): string {
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += `line ${i} of a text that is too large for the disk\n`;
  return out;
}

describe.skipIf(!mounted)('a full or read-only disk (2 MB tmpfs)', () => {
  const services = createServices({ dataDir: join(disk, 'data'), entryPoint: 'cli' });
  const { dispatcher } = createAppCore(services);
  const invoke = (method: string, params: unknown) =>
    dispatcher.invoke(method, params, { entryPoint: 'cli' });
  afterAll(() => services.dispose());
  const small = join(dir, 'small.txt');
  const large = join(dir, 'large.txt');
  writeFileSync(small, 'saved before the disk filled up\n');
  writeFileSync(large, text(4_000_000));
  let savedCid = '';

  it('disk full: IPFS add and dataset preparation say so and what to do; what was saved stays', async () => {
    expect(await invoke('settings.update', { patch: { theme: 'dark' } })).toMatchObject({ ok: true });
    const saved = await invoke('ipfs.add', { path: small, pin: true });
    if (!saved.ok) throw new Error(saved.error.message);
    savedCid = (saved.result as { cid: string }).cid;

    const add = await invoke('ipfs.add', { path: large, pin: true });
    expect(add).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(/disk is full/) as unknown },
    });
    if (!add.ok) expect(add.error.hint).toMatch(/Free some disk space/);

    const prepare = await invoke('datasets.prepare', { inputs: [large], tokenizer: 'char', name: 'big' });
    expect(prepare).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(/disk is full/) as unknown },
    });
    // Nothing half-written is left behind in the datasets folder.
    expect(readdirSync(join(disk, 'data', 'datasets'))).toEqual([]);

    expect(await invoke('ipfs.cat', { cid: savedCid })).toMatchObject({
      ok: true,
      result: { content: 'saved before the disk filled up\n' },
    });
    expect(await invoke('settings.get', {})).toMatchObject({ ok: true, result: { theme: 'dark' } });
  }, 120_000);
});

describe.skipIf(!mounted)('a read-only data directory (tmpfs remounted read-only)', () => {
  it('saving settings and adding to IPFS say so and what to do; what was saved stays readable', async () => {
    const roDisk = join(dir, 'ro-disk');
    mkdirSync(roDisk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', roDisk]);
    const small = join(dir, 'small-ro.txt');
    writeFileSync(small, 'saved while the disk was writable\n');
    const open = () => {
      const services = createServices({ dataDir: join(roDisk, 'data'), entryPoint: 'cli' });
      const { dispatcher } = createAppCore(services);
      return { services, invoke: (m: string, p: unknown) => dispatcher.invoke(m, p, { entryPoint: 'cli' }) };
    };
    try {
      const before = open();
      expect(await before.invoke('settings.update', { patch: { theme: 'dark' } })).toMatchObject({
        ok: true,
      });
      const saved = await before.invoke('ipfs.add', { path: small, pin: true });
      if (!saved.ok) throw new Error(saved.error.message);
      const cid = (saved.result as { cid: string }).cid;
      await before.services.dispose();

      execFileSync('mount', ['-o', 'remount,ro', roDisk]);
      const after = open();
      try {
        expect(await after.invoke('settings.update', { patch: { theme: 'light' } })).toMatchObject({
          ok: false,
          error: { code: 'FAILED_PRECONDITION', message: expect.stringMatching(/read-only/) as unknown },
        });
        const add = await after.invoke('ipfs.add', { path: small, pin: true, kubo: true });
        expect(add).toMatchObject({
          ok: false,
          error: { message: expect.stringMatching(/read-only/) as unknown },
        });
        if (!add.ok) expect(add.error.hint).toMatch(/writable|--data-dir/);
        expect(await after.invoke('settings.get', {})).toMatchObject({ ok: true, result: { theme: 'dark' } });
        // The IPFS node needs a writable repository to start: it says so, and reads again once it is.
        const cat = await after.invoke('ipfs.cat', { cid });
        expect(cat).toMatchObject({
          ok: false,
          error: { hint: expect.stringMatching(/writable/) as unknown },
        });
        await after.services.dispose();
        execFileSync('mount', ['-o', 'remount,rw', roDisk]);
        const again = open();
        expect(await again.invoke('ipfs.cat', { cid })).toMatchObject({
          ok: true,
          result: { content: 'saved while the disk was writable\n' },
        });
        await again.services.dispose();
      } finally {
        await after.services.dispose().catch(() => undefined);
      }
    } finally {
      spawnSync('umount', [roDisk]);
    }
  }, 120_000);
});

describe('corrupt records and stale locks', () => {
  it('a corrupt run.json is set aside with a message, and the other runs still list', async () => {
    const dataDir = join(dir, 'runs-data');
    const broken = join(dataDir, 'runs', 'run-broken');
    mkdirSync(join(broken, 'checkpoints'), { recursive: true });
    writeFileSync(join(broken, 'run.json'), '{"id": "run-broken", "status": "runn');
    writeFileSync(join(broken, 'checkpoints', 'latest.safetensors'), 'weights');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const services = createServices({ dataDir, entryPoint: 'cli' });
    try {
      const { dispatcher } = createAppCore(services);
      expect(await dispatcher.invoke('runs.list', {}, { entryPoint: 'cli' })).toMatchObject({
        ok: true,
        result: [],
      });
      const aside = readdirSync(broken).find((f) => f.startsWith('run.json.broken-'));
      expect(aside).toBeDefined();
      expect(existsSync(join(broken, 'checkpoints', 'latest.safetensors'))).toBe(true);
      expect(warn.mock.calls.flat().join(' ')).toMatch(
        /run-broken: run\.json was unreadable.*checkpoints are still in/,
      );
    } finally {
      warn.mockRestore();
      await services.dispose();
    }
  });

  it('an IPFS repository "open" by a process that died no longer blocks garbage collection', async () => {
    const dataDir = join(dir, 'ipfs-data');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(dead.stdout);
    const users = join(dataDir, 'ipfs', 'users');
    mkdirSync(users, { recursive: true });
    writeFileSync(
      join(users, `${deadPid}-dead.json`),
      JSON.stringify({ pid: deadPid, since: new Date().toISOString() }),
    );
    const services = createServices({ dataDir, entryPoint: 'cli' });
    try {
      const { dispatcher } = createAppCore(services);
      expect(await dispatcher.invoke('ipfs.gc', {}, { entryPoint: 'cli' })).toMatchObject({ ok: true });
      expect(existsSync(join(users, `${deadPid}-dead.json`))).toBe(false);
    } finally {
      await services.dispose();
    }
  });

  it('a killed embedded chain is reported, then started again on the next call with its deployment', async () => {
    const services = createServices({ dataDir: join(dir, 'chain-data'), entryPoint: 'cli' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { dispatcher } = createAppCore(services);
      const invoke = (m: string, p: unknown) => dispatcher.invoke(m, p, { entryPoint: 'cli' });
      const started = await invoke('chain.start', {});
      if (!started.ok) throw new Error(started.error.message);
      const first = started.result as { embedded: { pid: number }; deployment: { registry: string } };
      process.kill(first.embedded.pid, 'SIGKILL');
      await expect
        .poll(
          async () => ((await invoke('chain.status', {})) as { result: { running: boolean } }).result.running,
        )
        .toBe(false);
      // The next call that needs the chain starts it again; the contracts are found (or deployed) again.
      expect(await invoke('lineage.list', {})).toMatchObject({ ok: true });
      const again = await invoke('chain.status', {});
      expect(again).toMatchObject({ ok: true, result: { running: true } });
      expect((again as { result: { embedded: { pid: number } } }).result.embedded.pid).not.toBe(
        first.embedded.pid,
      );
      expect(warn.mock.calls.flat().join(' ')).toMatch(/has exited; it will be started again/);
    } finally {
      warn.mockRestore();
      await services.dispose();
    }
  }, 120_000);
});
