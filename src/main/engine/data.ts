import { createHash } from 'node:crypto';
import { closeSync, existsSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GPT2_TOKENIZER_FILE } from '../../shared/tokenizers/tokenizer.ts';
import { readNanoGptMeta } from '../interop/nanoGptMeta.ts';
import {
  bytesPerToken,
  datasetManifestSchema,
  type DatasetManifest,
  type TokenDtype,
} from '../../shared/datasets/manifest.ts';
import { openRegularFile } from '../util/readUserFile.ts';

/**
 * Training data: a prepared dataset directory (manifest.json + train.bin + val.bin, nanoGPT's flat
 * little-endian uint16/uint32 token files), nanoGPT's own data folder (train.bin + val.bin as uint16,
 * meta.pkl with the char vocabulary; without meta.pkl the GPT-2 vocabulary, as nanoGPT assumes), or a
 * bare token file plus its vocabulary size, split 90/10 into train and val like nanoGPT's prepare.py.
 */

/** A read-only run of tokens (a whole file in memory, or windows read from disk for large files). */
export interface TokenSource {
  readonly length: number;
  /** Copies tokens [start, start + count) into `out` at `outOffset`. */
  read(start: number, count: number, out: Int32Array, outOffset: number): void;
  close(): void;
}

/** Files up to this size are read into memory; larger ones are read window by window. */
const IN_MEMORY_LIMIT = 1 << 30;

class MemoryTokens implements TokenSource {
  readonly #data: Uint16Array | Uint32Array;
  constructor(data: Uint16Array | Uint32Array) {
    this.#data = data;
  }
  get length(): number {
    return this.#data.length;
  }
  read(start: number, count: number, out: Int32Array, outOffset: number): void {
    const d = this.#data;
    for (let i = 0; i < count; i++) out[outOffset + i] = d[start + i]!;
  }
  close(): void {}
}

class FileTokens implements TokenSource {
  readonly #fd: number;
  readonly #bytes: 2 | 4;
  readonly #first: number;
  readonly length: number;
  #buf = new Uint8Array(0);
  constructor(path: string, dtype: TokenDtype, firstToken: number, length: number) {
    this.#fd = openRegularFile(path, 'a token file').fd;
    this.#bytes = bytesPerToken(dtype);
    this.#first = firstToken;
    this.length = length;
  }
  read(start: number, count: number, out: Int32Array, outOffset: number): void {
    const n = count * this.#bytes;
    if (this.#buf.length < n) this.#buf = new Uint8Array(n);
    readSync(this.#fd, this.#buf, 0, n, (this.#first + start) * this.#bytes);
    const view = new DataView(this.#buf.buffer, 0, n);
    for (let i = 0; i < count; i++)
      out[outOffset + i] = this.#bytes === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
  }
  close(): void {
    closeSync(this.#fd);
  }
}

/** Tokens [first, first + count) of a token file: in memory up to `inMemoryLimit` bytes, else read window by window. */
export function openTokens(
  path: string,
  dtype: TokenDtype,
  first = 0,
  count?: number,
  inMemoryLimit = IN_MEMORY_LIMIT,
): TokenSource {
  const size = statSync(path).size;
  const bpt = bytesPerToken(dtype);
  if (size % bpt !== 0) throw new Error(`${path}: ${size} bytes is not a whole number of ${dtype} tokens`);
  const total = size / bpt;
  const n = count ?? total - first;
  if (n * bpt <= inMemoryLimit) {
    const { fd } = openRegularFile(path, 'a token file');
    try {
      const bytes = new Uint8Array(n * bpt);
      readSync(fd, bytes, 0, bytes.length, first * bpt);
      return new MemoryTokens(
        dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer),
      );
    } finally {
      closeSync(fd);
    }
  }
  return new FileTokens(path, dtype, first, n);
}

/** Where a run's data came from, stored in its checkpoints. */
export interface DatasetRef {
  kind: 'dataset' | 'tokens';
  /** Absolute path of the dataset directory or token file. */
  path: string;
  name: string;
  vocabSize: number;
  dtype: TokenDtype;
  trainTokens: number;
  valTokens: number;
  /** sha256 of train.bin (dataset) or of the token file's first 64 MiB and size (bare tokens). */
  fingerprint: string;
  tokenizer: { kind: string; sha256: string } | null;
}

export interface OpenedDataset {
  ref: DatasetRef;
  train: TokenSource;
  val: TokenSource;
  manifest: DatasetManifest | null;
  /** tokenizer.json's parsed content when the dataset has one. */
  tokenizerJson: unknown;
  close(): void;
}

export class DataError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'DataError';
    this.hint = hint;
  }
}

/**
 * What a dataset is, from its manifest (or a bare file's size), without reading its tokens: enough to
 * validate a run's configuration on the main thread before a worker starts.
 */
export function inspectDataset(
  path: string,
  opts: { vocabSize?: number; dtype?: TokenDtype } = {},
): DatasetRef {
  return describeDataset(path, opts).ref;
}

/** The reference of a dataset directory (with its manifest) or of a bare token file (90/10 split). */
interface DatasetDescription {
  ref: DatasetRef;
  manifest: DatasetManifest | null;
  /** train and val token files of a directory. */
  files: { train: string; val: string } | null;
  /** tokenizer.json content (a nanoGPT folder's, from meta.pkl), when known without a manifest. */
  tokenizerJson: unknown;
}

const WHAT_DATA_TO_PASS =
  'pass a prepared dataset directory (with manifest.json), a nanoGPT data folder (train.bin, val.bin) or a token file (.bin)';

function describeDataset(path: string, opts: { vocabSize?: number; dtype?: TokenDtype }): DatasetDescription {
  const abs = resolve(path);
  // existsSync, not stat: a name too long or with a NUL byte is "no dataset", not an exception.
  if (!existsSync(abs)) throw new DataError(`no dataset at ${abs}`, WHAT_DATA_TO_PASS);
  const info = statSync(abs);
  if (info.isDirectory()) {
    if (!existsSync(join(abs, 'manifest.json')) && existsSync(join(abs, 'train.bin')))
      return describeNanoGptFolder(abs);
    const m = readManifest(abs);
    const tokens = (file: string) => statSync(join(abs, file)).size / bytesPerToken(m.dtype);
    return {
      ref: {
        kind: 'dataset',
        path: abs,
        name: m.name,
        vocabSize: m.vocabSize,
        dtype: m.dtype,
        trainTokens: tokens(m.splits.train.file),
        valTokens: tokens(m.splits.val.file),
        fingerprint: m.splits.train.sha256,
        tokenizer: { kind: m.tokenizer.kind, sha256: m.tokenizer.sha256 },
      },
      manifest: m,
      files: { train: join(abs, m.splits.train.file), val: join(abs, m.splits.val.file) },
      tokenizerJson: null,
    };
  }
  if (!info.isFile())
    throw new DataError(`${abs} is not a regular file (a device, socket or pipe)`, WHAT_DATA_TO_PASS);
  if (!opts.vocabSize)
    throw new DataError(
      `${abs} is a bare token file`,
      'say its vocabulary size (--vocab-size N), or pass a prepared dataset directory',
    );
  const dtype = opts.dtype ?? (opts.vocabSize <= 65536 ? 'uint16' : 'uint32');
  const total = Math.floor(info.size / bytesPerToken(dtype));
  const nTrain = Math.floor(total * 0.9);
  return {
    ref: {
      kind: 'tokens',
      path: abs,
      name: basename(abs),
      vocabSize: opts.vocabSize,
      dtype,
      trainTokens: nTrain,
      valTokens: total - nTrain,
      fingerprint: fingerprintFile(abs),
      tokenizer: null,
    },
    manifest: null,
    files: null,
    tokenizerJson: null,
  };
}

/** nanoGPT's data/<name>/: train.bin and val.bin (uint16), meta.pkl for char-level data. */
function describeNanoGptFolder(dir: string): DatasetDescription {
  const valPath = join(dir, 'val.bin');
  if (!existsSync(valPath))
    throw new DataError(
      `${dir} has train.bin but no val.bin`,
      'a nanoGPT data folder holds both splits (run its prepare.py)',
    );
  const metaPath = join(dir, 'meta.pkl');
  let vocabSize = 50257;
  let tokenizerJson: unknown = GPT2_TOKENIZER_FILE;
  if (existsSync(metaPath)) {
    try {
      const meta = readNanoGptMeta(metaPath);
      vocabSize = meta.vocabSize;
      tokenizerJson = meta.tokenizer;
    } catch (e) {
      throw new DataError(
        e instanceof Error ? e.message : String(e),
        "run the folder's prepare.py again to rewrite meta.pkl",
      );
    }
  }
  const tokens = (file: string) => {
    const size = statSync(file).size;
    if (size % 2 !== 0)
      throw new DataError(`${file} is not a file of uint16 tokens (odd size)`, 'run prepare.py again');
    return size / 2;
  };
  const kind = tokenizerJson ? (tokenizerJson as { kind: string }).kind : null;
  return {
    ref: {
      kind: 'dataset',
      path: dir,
      name: basename(dir),
      vocabSize,
      dtype: 'uint16',
      trainTokens: tokens(join(dir, 'train.bin')),
      valTokens: tokens(valPath),
      fingerprint: fingerprintFile(join(dir, 'train.bin')),
      tokenizer: kind
        ? { kind, sha256: createHash('sha256').update(JSON.stringify(tokenizerJson)).digest('hex') }
        : null,
    },
    manifest: null,
    files: { train: join(dir, 'train.bin'), val: valPath },
    tokenizerJson,
  };
}

function readManifest(dir: string): DatasetManifest {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new DataError(
      `${dir} has no manifest.json`,
      'prepare the dataset first (xai-link prepare), or pass a token file with --vocab-size',
    );
  }
  const parsed = datasetManifestSchema.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  if (!parsed.success)
    throw new DataError(
      `${manifestPath} is not a valid dataset manifest: ${parsed.error.issues[0]?.message}`,
      'prepare the dataset again',
    );
  return parsed.data;
}

/**
 * Opens a dataset directory or a bare token file. A bare file needs `vocabSize`; its dtype comes from
 * `dtype` or the vocabulary (uint16 up to 65 536 ids).
 */
export function openDataset(
  path: string,
  opts: { vocabSize?: number; dtype?: TokenDtype } = {},
): OpenedDataset {
  const { ref, manifest: m, files, tokenizerJson: known } = describeDataset(path, opts);
  let train: TokenSource;
  let val: TokenSource;
  let tokenizerJson: unknown = known;
  if (files) {
    train = openTokens(files.train, ref.dtype);
    val = openTokens(files.val, ref.dtype);
    const tokPath = m ? join(ref.path, m.tokenizer.file) : null;
    if (tokPath && existsSync(tokPath)) tokenizerJson = JSON.parse(readFileSync(tokPath, 'utf8'));
  } else {
    train = openTokens(ref.path, ref.dtype, 0, ref.trainTokens);
    val = openTokens(ref.path, ref.dtype, ref.trainTokens, ref.valTokens);
  }
  return {
    ref: { ...ref, trainTokens: train.length, valTokens: val.length },
    train,
    val,
    manifest: m,
    tokenizerJson,
    close() {
      train.close();
      val.close();
    },
  };
}

function fingerprintFile(path: string): string {
  const { fd, size } = openRegularFile(path, 'a token file');
  try {
    const buf = new Uint8Array(Math.min(size, 64 << 20));
    readSync(fd, buf, 0, buf.length, 0);
    return createHash('sha256').update(buf).update(String(size)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** The largest token id in a source (scanned in chunks), to check it against the model's vocabulary. */
export function maxTokenId(src: TokenSource): number {
  const chunk = new Int32Array(1 << 20);
  let max = 0;
  for (let start = 0; start < src.length; start += chunk.length) {
    const n = Math.min(chunk.length, src.length - start);
    src.read(start, n, chunk, 0);
    for (let i = 0; i < n; i++) if (chunk[i]! > max) max = chunk[i]!;
  }
  return max;
}

/**
 * nanoGPT's get_batch: B random windows of T + 1 tokens; x = window[0..T), y = window[1..T].
 * Offsets are uniform in [0, len − T) from the given generator. Writes into the caller's arrays.
 */
export function sampleBatch(
  rng: { randint(n: number): number },
  src: TokenSource,
  batch: number,
  block: number,
  x: Int32Array,
  y: Int32Array,
  window: Int32Array,
): void {
  const span = src.length - block;
  const offsets = Array.from({ length: batch }, () => rng.randint(span));
  readBatch(src, offsets, block, x, y, window);
}

/** The windows at `offsets`: x[b] = tokens [o, o + T), y[b] = tokens [o + 1, o + T]. */
export function readBatch(
  src: TokenSource,
  offsets: readonly number[],
  block: number,
  x: Int32Array,
  y: Int32Array,
  window: Int32Array,
): void {
  offsets.forEach((start, b) => {
    src.read(start, block + 1, window, 0);
    x.set(window.subarray(0, block), b * block);
    y.set(window.subarray(1, block + 1), b * block);
  });
}
