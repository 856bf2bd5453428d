import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** `xai-link serve` in a child process, as a user runs it: a test can then see whether a client ended it. */
export interface HostProcess {
  readonly port: number;
  readonly token: string;
  readonly origin: string;
  readonly child: ChildProcess;
  /** Whether the process still runs. */
  alive(): boolean;
  /** Everything the host wrote to stderr so far (its log). */
  log(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (or signal name). */
  stop(): Promise<number | string | null>;
}

/** Starts the host on a free port with `dataDir`; a stub UI is written next to it. */
export async function startHostProcess(
  dataDir: string,
  opts: { env?: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number; cwd?: string } = {},
): Promise<HostProcess> {
  const rendererDir = join(dataDir, '..', `${dataDir.split('/').pop()}-ui`);
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>XAI-Link</title>');
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--data-dir',
      dataDir,
      'serve',
      '--port',
      '0',
      '--json',
      '--renderer-dir',
      rendererDir,
      ...(opts.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    },
  );
  let stderr = '';
  let stdout = '';
  let exit: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = code ?? signal;
      resolve(exit);
    }),
  );
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-1_000_000)));
  const started = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the host did not start within ${opts.timeoutMs ?? 30_000} ms:\n${stderr}`)),
      opts.timeoutMs ?? 30_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line && stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { port: number; url: string });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited (${code}) before it listened:\n${stderr}`));
    });
  });
  const token = new URL(started.url).searchParams.get('token')!;
  return {
    port: started.port,
    token,
    origin: `http://127.0.0.1:${started.port}`,
    child,
    alive: () => exit === undefined,
    log: () => stderr,
    async stop() {
      if (exit !== undefined) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
