/**
 * Starts and stops anvil (Foundry's local Ethereum node, shipped as a real binary inside the npm package
 * `@foundry-rs/anvil-<platform>-<arch>`) on 127.0.0.1 and a free port. With `stateFile`, anvil loads the
 * chain from that file on start and writes it back when it stops on SIGTERM (and every `stateIntervalS`).
 * When anvil cannot start, the error says why (binary missing, not executable, port taken, its own
 * message when it exits, or no answer in time).
 */
import { isProcessAlive } from '../util/processAlive.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export const ANVIL_ENV = 'XAI_LINK_ANVIL';
export const DEFAULT_CHAIN_ID = 31337;

export type AnvilFailure = 'binary-missing' | 'not-executable' | 'port-in-use' | 'exited' | 'timeout';

export class AnvilError extends Error {
  readonly reason: AnvilFailure;
  readonly hint: string | undefined;
  constructor(reason: AnvilFailure, message: string, hint?: string) {
    super(message);
    this.name = 'AnvilError';
    this.reason = reason;
    this.hint = hint;
  }
}

export interface AnvilOptions {
  /** Loaded on start if it exists, written on stop (anvil's `--state`). */
  stateFile?: string;
  /** Also write the state every N seconds while running (guards against a crash). */
  stateIntervalS?: number;
  /** Loaded on start, never written (anvil's `--load-state`): the caller saves the state itself. */
  loadStateFile?: string;
  /** Default: a free port. */
  port?: number;
  chainId?: number;
  /** anvil's output goes here (appended). Required for `detached`; otherwise kept in memory. */
  logFile?: string;
  /** Let anvil outlive this process (the CLI's `chain start`). */
  detached?: boolean;
  /** Default: $XAI_LINK_ANVIL, else the binary of the installed npm package. */
  binary?: string;
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface AnvilInstance {
  readonly pid: number;
  readonly port: number;
  readonly rpcUrl: string;
  readonly chainId: number;
  /** SIGTERM (anvil then writes its state), SIGKILL after `timeoutMs`. Resolves when it has exited. */
  stop(timeoutMs?: number): Promise<void>;
  /** Resolves once Node has seen the process exit (killed, crashed or stopped). */
  readonly exited: Promise<void>;
  /** Whether it answers an RPC call within `timeoutMs`. */
  answers(timeoutMs?: number): Promise<boolean>;
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

/** Where the anvil binary is; throws an AnvilError saying what is missing. */
export function findAnvilBinary(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[ANVIL_ENV];
  if (override) {
    if (!existsSync(override))
      throw new AnvilError('binary-missing', `${ANVIL_ENV} points to ${override}, which does not exist`);
    return override;
  }
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new AnvilError(
      'binary-missing',
      `anvil has no npm build for ${key}`,
      `Install Foundry and set ${ANVIL_ENV} to its anvil binary.`,
    );
  }
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new AnvilError(
      'binary-missing',
      `the anvil binary package ${pkg} is not installed`,
      `Run "npm ci" (it installs @foundry-rs/anvil and its platform package), or set ${ANVIL_ENV}.`,
    );
  }
  const bin = join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(bin))
    throw new AnvilError(
      'binary-missing',
      `${pkg} is installed but has no binary at ${bin}`,
      'Reinstall it with "npm ci".',
    );
  return bin;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** Asks a JSON-RPC endpoint one question; null when nothing answers. */
export async function rpcCall(
  rpcUrl: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 1000,
): Promise<unknown> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { result?: unknown };
    return body.result ?? null;
  } catch {
    return null;
  }
}

/** Whether an anvil answers at `rpcUrl`; returns its chain id. */
export async function probeAnvil(rpcUrl: string): Promise<{ chainId: number; client: string } | null> {
  const client = await rpcCall(rpcUrl, 'web3_clientVersion');
  if (typeof client !== 'string' || !client.toLowerCase().startsWith('anvil')) return null;
  const chainId = await rpcCall(rpcUrl, 'eth_chainId');
  return typeof chainId === 'string' ? { chainId: Number(BigInt(chainId)), client } : null;
}

/** Sends SIGTERM, waits for the process to exit, SIGKILL after `timeoutMs`. For processes we did not spawn here. */
export async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  if (!isProcessAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      return;
    }
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Attached anvils are told to stop (and so save their state) if this process exits without stopping them. */
const attached = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of attached) {
      try {
        child.kill('SIGTERM');
      } catch {
        /* ignore */
      }
    }
  });
}

const MAX_OUTPUT = 64 * 1024;

/** Starts anvil and resolves once it answers JSON-RPC. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  const binary = opts.binary ?? findAnvilBinary();
  const explicitPort = opts.port !== undefined;
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await findFreePort());
    try {
      return await startOnce(binary, port, opts);
    } catch (e) {
      // Another process may take the free port between our check and anvil's bind: try another one.
      if (e instanceof AnvilError && e.reason === 'port-in-use' && !explicitPort && attempt < 3) continue;
      throw e;
    }
  }
}

async function startOnce(binary: string, port: number, opts: AnvilOptions): Promise<AnvilInstance> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId)];
  if (opts.stateFile) args.push('--state', opts.stateFile);
  if (opts.stateFile && opts.stateIntervalS) args.push('--state-interval', String(opts.stateIntervalS));
  if (opts.loadStateFile) args.push('--load-state', opts.loadStateFile);
  args.push(...(opts.extraArgs ?? []));

  if (opts.detached && !opts.logFile) throw new Error('a detached anvil needs a log file');
  const logOffset = opts.logFile && existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const logFd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
  let output = '';
  let child: ChildProcess;
  try {
    child = spawn(binary, args, {
      detached: opts.detached ?? false,
      stdio: logFd !== undefined ? ['ignore', logFd, logFd] : ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const readOutput = (): string => {
    if (!opts.logFile) return output;
    try {
      return readFileSync(opts.logFile).subarray(logOffset).toString('utf8').slice(-MAX_OUTPUT);
    } catch {
      return '';
    }
  };

  let exitCode: number | null | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      attached.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      resolve();
    });
  });

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (spawnError) throw spawnFailure(binary, spawnError);
    if (exitCode !== undefined)
      throw exitFailure(readOutput(), exitCode, opts.stateFile ?? opts.loadStateFile);
    // Our anvil is ready once it says it listens (another process may answer on a port it failed to bind).
    if (
      /Listening on/.test(readOutput()) &&
      typeof (await rpcCall(rpcUrl, 'eth_chainId', [], 500)) === 'string'
    )
      break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new AnvilError(
        'timeout',
        `anvil did not answer on ${rpcUrl} within ${opts.startTimeoutMs ?? 20_000} ms`,
        lastLines(readOutput()),
      );
    }
    await sleep(50);
  }

  if (opts.detached) {
    child.unref();
  } else {
    attached.add(child);
    installExitHook();
  }
  const pid = child.pid!;
  return {
    pid,
    port,
    rpcUrl,
    chainId,
    exited,
    answers: async (timeoutMs = 500) =>
      typeof (await rpcCall(rpcUrl, 'eth_chainId', [], timeoutMs)) === 'string',
    async stop(timeoutMs = 15_000) {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function spawnFailure(binary: string, e: NodeJS.ErrnoException): AnvilError {
  if (e.code === 'ENOENT')
    return new AnvilError(
      'binary-missing',
      `anvil could not start: ${binary} does not exist`,
      'Run "npm ci".',
    );
  if (e.code === 'EACCES') {
    return new AnvilError(
      'not-executable',
      `anvil could not start: ${binary} is not executable`,
      `Run: chmod +x "${binary}"`,
    );
  }
  return new AnvilError('exited', `anvil could not start: ${e.message}`);
}

function exitFailure(output: string, code: number | null, stateFile: string | undefined): AnvilError {
  const tail = lastLines(output);
  if (/address already in use|os error 98|os error 48|os error 10048/i.test(output)) {
    return new AnvilError('port-in-use', `anvil could not start: its port is already in use (${tail})`);
  }
  const stateHint =
    stateFile && /state/i.test(output)
      ? `The chain state file ${stateFile} may be damaged: move it away to start a fresh chain.`
      : undefined;
  return new AnvilError(
    'exited',
    `anvil exited with code ${code} before it was ready: ${tail || '(no output)'}`,
    stateHint,
  );
}

function lastLines(text: string, n = 5): string {
  return text.trim().split(/\r?\n/).slice(-n).join(' | ');
}
