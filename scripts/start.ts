/**
 * `npm start`: builds the app, then opens the desktop window where an Electron binary is installed,
 * and otherwise starts the headless host and prints its URL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const bin = (name: string): string =>
  `node_modules/.bin/${name}${process.platform === 'win32' ? '.cmd' : ''}`;
const extraArgs = process.argv.slice(2);

function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const build = spawnSync(bin('electron-vite'), ['build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const electron = electronBinary();
const child = electron
  ? spawn(electron, ['.', ...extraArgs], { stdio: 'inherit' })
  : (console.log(
      'No Electron binary is installed here (ELECTRON_SKIP_BINARY_DOWNLOAD?): starting the headless host instead.',
    ),
    spawn(process.execPath, ['bin/xai-link.js', 'serve', ...extraArgs], { stdio: 'inherit' }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
