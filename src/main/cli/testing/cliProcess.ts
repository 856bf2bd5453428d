import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The real CLI in a child process, as a user runs it (`xai-link --data-dir DIR …`), for command-level
 * tests: exit code, stdout and stderr.
 */
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface CliResult {
  /** The exit code; -1 when the process was killed (timeout or signal). */
  code: number;
  stdout: string;
  stderr: string;
}

export type Cli = (...args: string[]) => Promise<CliResult>;

export function cliWithDataDir(
  dataDir: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Cli {
  return (...args) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [MAIN, '--data-dir', dataDir, ...args],
        {
          timeout: opts.timeoutMs ?? 60_000,
          maxBuffer: 64 * 1024 * 1024,
          env: { ...process.env, ...opts.env },
          ...(opts.cwd ? { cwd: opts.cwd } : {}),
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
}

/** The JSON a `--json` command printed; fails with its stderr when it did not exit 0. */
export function jsonOf<T>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`the command exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
