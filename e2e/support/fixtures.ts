import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test as base, _electron, type Page } from '@playwright/test';
import { electronBinary } from './electronApp.ts';

export interface RunningHost {
  url: string;
  origin: string;
  token: string;
  dataDir: string;
}

export interface AppFixtures {
  /** The app's page: the host's UI in Chromium (web) or the desktop window (electron). */
  appPage: Page;
  /** The data directory the app under test uses. */
  dataDir: string;
}

interface WorkerFixtures {
  host: RunningHost;
  /**
   * A spec that needs a host of its own — a fresh data directory and chain, whatever ran before it in the
   * worker (say, empty states) — names it with `test.use({ ownHost: 'name' })`. It is a worker option, so
   * Playwright runs that spec in a worker of its own, which starts its own host.
   */
  ownHost: string;
}

/** Runs the real CLI (same entry point users run) against a data directory, returning stdout. */
export function runCli(
  dataDir: string,
  args: string[],
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['bin/xai-link.js', '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Starts `xai-link serve` on a free port with a fresh data directory and waits for its URL. */
async function startHost(name: string): Promise<{ host: RunningHost; child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), name ? `xai-e2e-${name}-` : 'xai-e2e-'));
  const child = spawn(
    process.execPath,
    ['bin/xai-link.js', '--data-dir', dataDir, 'serve', '--port', '0', '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`xai-link serve did not start in 60 s:\n${stderr}`)),
      60_000,
    );
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`xai-link serve exited with ${code}:\n${stderr}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  const parsed = new URL(url);
  return {
    host: { url, origin: parsed.origin, token: parsed.searchParams.get('token') ?? '', dataDir },
    child,
  };
}

export const test = base.extend<AppFixtures, WorkerFixtures>({
  ownHost: ['', { scope: 'worker', option: true }],

  host: [
    async ({ ownHost }, use) => {
      const { host, child } = await startHost(ownHost);
      await use(host);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(host.dataDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],

  dataDir: async ({ host }, use, testInfo) => {
    if (testInfo.project.name === 'electron') {
      const dir = mkdtempSync(join(tmpdir(), 'xai-e2e-electron-'));
      await use(dir);
      rmSync(dir, { recursive: true, force: true });
    } else {
      await use(host.dataDir);
    }
  },

  appPage: async ({ page, host, dataDir }, use, testInfo) => {
    if (testInfo.project.name === 'electron') {
      const executablePath = electronBinary();
      if (!executablePath) throw new Error('the electron project needs an Electron binary');
      const app = await _electron.launch({ executablePath, args: ['.', '--data-dir', dataDir] });
      const window = await app.firstWindow();
      await use(window);
      await app.close();
      return;
    }
    await page.goto(host.url);
    await use(page);
  },
});

export { expect } from '@playwright/test';
