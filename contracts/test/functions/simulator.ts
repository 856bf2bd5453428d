/**
 * Runs the Functions source with @chainlink/functions-toolkit's `simulateScript` (Deno in the toolkit's
 * sandbox, the same limits as a DON node). `deno` comes from the npm package `deno` (node_modules/.bin).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulateScript } from '@chainlink/functions-toolkit/dist/simulateScript/simulateScript.js';

export const SOURCE_FILE = fileURLToPath(new URL('../../functions/attestClaim.js', import.meta.url));

export function attestorSource(): string {
  return readFileSync(SOURCE_FILE, 'utf8');
}

/** Puts node_modules/.bin (where npm links `deno`) first on the PATH, as simulateScript spawns `deno`. */
export function ensureDenoOnPath(): void {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(dirname(require.resolve('deno/package.json'))), '.bin');
  const parts = (process.env.PATH ?? '').split(delimiter);
  if (parts[0] !== bin) process.env.PATH = [bin, ...parts].join(delimiter);
}

export interface SimulationResult {
  response: `0x${string}` | null;
  error: string | null;
  output: string;
}

export async function simulate(args: string[], source = attestorSource()): Promise<SimulationResult> {
  ensureDenoOnPath();
  const r = await simulateScript({ source, args });
  return {
    response: (r.responseBytesHexstring as `0x${string}` | undefined) ?? null,
    error: r.errorString ?? null,
    output: r.capturedTerminalOutput ?? '',
  };
}
