import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASET_FORMAT_VERSION, type DatasetManifest } from '../../../shared/datasets/manifest.ts';
import { charTokenizerFromText } from '../../../shared/tokenizers/tokenizer.ts';

/**
 * A minimal char-level preparation for the engine's tests and benchmarks, as nanoGPT's
 * data/shakespeare_char/prepare.py: vocabulary = sorted distinct characters, first 90 % of the text
 * for train, last 10 % for val, uint16 token files. Writes the same layout as dataset preparation
 * (manifest.json, tokenizer.json, train.bin, val.bin).
 */

const here = dirname(fileURLToPath(import.meta.url));

/** tinyshakespeare.txt: $XAI_LINK_SHAKESPEARE, else ../shared/data beside the repository, else resources/. */
export function shakespearePath(): string {
  const candidates = [
    process.env.XAI_LINK_SHAKESPEARE,
    resolve(here, '../../../../../shared/data/tinyshakespeare.txt'),
    resolve(here, '../../../../resources/tinyshakespeare.txt'),
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `tinyshakespeare.txt not found (looked in ${candidates.join(', ')}; set XAI_LINK_SHAKESPEARE)`,
    );
  return found;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Prepares `text` as a char-level dataset in `dir` and returns the directory. */
export function prepareCharDataset(text: string, dir: string, name = 'char-dataset'): string {
  mkdirSync(dir, { recursive: true });
  const tok = charTokenizerFromText(text);
  const ids = tok.encode(text);
  const n = ids.length;
  const split = Math.floor(n * 0.9);
  const files = { train: Uint16Array.from(ids.slice(0, split)), val: Uint16Array.from(ids.slice(split)) };
  const tokJson = JSON.stringify(tok.toFile());
  writeFileSync(join(dir, 'tokenizer.json'), tokJson);
  const stats = (file: string, arr: Uint16Array, chars: number) => {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    writeFileSync(join(dir, file), bytes);
    return {
      file,
      documents: 1,
      characters: chars,
      bytes: bytes.length,
      tokens: arr.length,
      sha256: sha256(bytes),
    };
  };
  const manifest: DatasetManifest = {
    formatVersion: DATASET_FORMAT_VERSION,
    name,
    createdAt: new Date().toISOString(),
    tokenizer: { kind: 'char', file: 'tokenizer.json', sha256: sha256(tokJson) },
    vocabSize: tok.vocabSize,
    dtype: 'uint16',
    splits: { train: stats('train.bin', files.train, split), val: stats('val.bin', files.val, n - split) },
  };
  const tmp = join(dir, 'manifest.json.tmp');
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  renameSync(tmp, join(dir, 'manifest.json'));
  return dir;
}

/** tiny-shakespeare as a char dataset, prepared once into a cache directory (65 symbols, ~1M/111k tokens). */
export function shakespeareCharDataset(cacheDir = join(tmpdir(), 'xai-link-engine-cache')): string {
  const dir = join(cacheDir, 'shakespeare_char');
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const text = readFileSync(shakespearePath(), 'utf8');
  return prepareCharDataset(text, dir, 'shakespeare_char');
}
