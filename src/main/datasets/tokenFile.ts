import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { bytesPerToken, type TokenDtype } from '../../shared/datasets/manifest.ts';

const LITTLE_ENDIAN = endianness() === 'LE';
const CHUNK_TOKENS = 1 << 20;

/**
 * Writes a token file in nanoGPT's layout: a flat array of little-endian uint16 (or uint32) token
 * ids, no header. Computes the SHA-256 as it writes. Ids are checked against the vocabulary.
 */
export class TokenFileWriter {
  readonly dtype: TokenDtype;
  readonly #vocabSize: number;
  readonly #handle: FileHandle;
  readonly #sha: Hash = createHash('sha256');
  #chunk: Uint16Array | Uint32Array;
  #used = 0;
  #full: (Uint16Array | Uint32Array)[] = [];
  #tokens = 0;
  #bytes = 0;

  private constructor(handle: FileHandle, dtype: TokenDtype, vocabSize: number) {
    this.#handle = handle;
    this.dtype = dtype;
    this.#vocabSize = vocabSize;
    this.#chunk = this.#newChunk();
  }

  static async create(path: string, dtype: TokenDtype, vocabSize: number): Promise<TokenFileWriter> {
    const max = dtype === 'uint16' ? 0x10000 : 0x100000000;
    if (vocabSize > max) throw new Error(`a vocabulary of ${vocabSize} does not fit ${dtype}`);
    return new TokenFileWriter(await open(path, 'wx'), dtype, vocabSize);
  }

  #newChunk(): Uint16Array | Uint32Array {
    return this.dtype === 'uint16' ? new Uint16Array(CHUNK_TOKENS) : new Uint32Array(CHUNK_TOKENS);
  }

  get tokens(): number {
    return this.#tokens;
  }

  /** Appends ids (and empties `ids`). */
  push(ids: number[]): void {
    const vocab = this.#vocabSize;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < vocab))
        throw new Error(`token id ${id} is outside the vocabulary (size ${vocab})`);
      if (this.#used === CHUNK_TOKENS) {
        this.#full.push(this.#chunk);
        this.#chunk = this.#newChunk();
        this.#used = 0;
      }
      this.#chunk[this.#used++] = id;
    }
    this.#tokens += ids.length;
    ids.length = 0;
  }

  /** Writes out the full chunks (call between blocks). */
  async drain(): Promise<void> {
    const full = this.#full;
    this.#full = [];
    for (const c of full) await this.#write(c);
  }

  async #write(tokens: Uint16Array | Uint32Array): Promise<void> {
    let bytes = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
    if (!LITTLE_ENDIAN) bytes = swapToLittleEndian(bytes, bytesPerToken(this.dtype));
    this.#sha.update(bytes);
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    this.#bytes += bytes.length;
  }

  async close(): Promise<{ tokens: number; bytes: number; sha256: string }> {
    await this.drain();
    if (this.#used > 0) await this.#write(this.#chunk.subarray(0, this.#used));
    this.#used = 0;
    await this.#handle.sync();
    await this.#handle.close();
    return { tokens: this.#tokens, bytes: this.#bytes, sha256: this.#sha.digest('hex') };
  }

  /** Closes without caring about the content (a failed prepare). */
  async abandon(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

function swapToLittleEndian(bytes: Uint8Array, width: 2 | 4): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width)
    for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k]!;
  return out;
}
