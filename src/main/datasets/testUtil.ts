import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preparationSettingsSchema, type PreparationSettings } from '../../shared/datasets/options.ts';
import { prepareDataset, type PrepareOutcome } from './prepare.ts';

/** Test helpers (used by the *.test.ts files of this folder only). */
export function settings(over: Partial<PreparationSettings> & { tokenizer: string }): PreparationSettings {
  return preparationSettingsSchema.parse(over);
}

export async function prepare(
  inputs: string[],
  dest: string,
  over: Partial<PreparationSettings> & { tokenizer: string },
  opts: { signal?: AbortSignal; onStage?: (stage: string) => void } = {},
): Promise<PrepareOutcome> {
  return prepareDataset({ ...settings(over), inputs, name: 'test' }, dest, {
    signal: opts.signal ?? new AbortController().signal,
    progress: (u) => opts.onStage?.(u.stage),
    generator: { name: 'XAI-Link', version: 'test' },
  });
}

/** The token ids of a .bin file. */
export async function readTokens(path: string, dtype: 'uint16' | 'uint32' = 'uint16'): Promise<number[]> {
  const buf = await readFile(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: number[] = [];
  const width = dtype === 'uint16' ? 2 : 4;
  for (let i = 0; i < buf.length; i += width)
    out.push(width === 2 ? view.getUint16(i, true) : view.getUint32(i, true));
  return out;
}

export function inDir(dir: string, ...names: string[]): string {
  return join(dir, ...names);
}
