import { open, type FileHandle } from 'node:fs/promises';

/**
 * The cleaned text of the kept documents, one after the other as UTF-8, in a scratch file inside the
 * dataset's temporary directory: pass 1 (import + cleaning) writes it, the tokenizer fitting and the
 * encoding passes read it back, so no pass holds the corpus in memory.
 *
 * A document is written while it streams in; when cleaning drops it at its end, the writer rewinds
 * to the document's start and the next document overwrites it.
 */
export class SpoolWriter {
  readonly #handle: FileHandle;
  #buf = new Uint8Array(8 << 20);
  #used = 0;
  /** Logical offset of #buf[0]. */
  #bufStart = 0;
  #docStart = 0;
  /** Byte length and character count of each kept document. */
  readonly lengths: number[] = [];
  readonly characters: number[] = [];
  readonly #encoder = new TextEncoder();

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  static async create(path: string): Promise<SpoolWriter> {
    return new SpoolWriter(await open(path, 'w+'));
  }

  get #end(): number {
    return this.#bufStart + this.#used;
  }

  /** Total bytes of the kept documents. */
  get bytes(): number {
    return this.#docStart;
  }

  begin(): void {
    this.#docStart = this.#end;
  }

  write(text: string): void {
    if (text === '') return;
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    const need = this.#used + text.length * 3;
    if (need > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#used));
      this.#buf = bigger;
    }
    this.#used += this.#encoder.encodeInto(text, this.#buf.subarray(this.#used)).written;
  }

  keep(characters: number): void {
    this.lengths.push(this.#end - this.#docStart);
    this.characters.push(characters);
    this.#docStart = this.#end;
  }

  drop(): void {
    if (this.#docStart >= this.#bufStart) this.#used = this.#docStart - this.#bufStart;
    else {
      // Part of the document is already on disk: the next write goes where it started.
      this.#used = 0;
      this.#bufStart = this.#docStart;
    }
  }

  /** Writes the buffer out when it is large (call between input blocks). */
  async drain(force = false): Promise<void> {
    if (this.#used === 0 || (!force && this.#used < 4 << 20)) return;
    let off = 0;
    while (off < this.#used) {
      const { bytesWritten } = await this.#handle.write(
        this.#buf,
        off,
        this.#used - off,
        this.#bufStart + off,
      );
      off += bytesWritten;
    }
    this.#bufStart += this.#used;
    this.#used = 0;
    if (this.#buf.length > 16 << 20) this.#buf = new Uint8Array(8 << 20);
  }

  async close(): Promise<void> {
    await this.drain(true);
    await this.#handle.close();
  }
}

export interface SpoolVisitor {
  /** Start of kept document `doc`. */
  begin(doc: number): void;
  text(text: string): void;
  end(doc: number): void;
}

/**
 * Reads the kept documents back in order, in blocks; the visitor sees each document's text in
 * pieces (never a split character). Awaits between blocks (cancellation, progress, responsiveness).
 */
export async function readSpool(
  path: string,
  lengths: readonly number[],
  visitor: SpoolVisitor,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void; afterBlock?: () => Promise<void> } = {},
): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const block = Buffer.allocUnsafe(4 << 20);
    let filled = 0;
    let pos = 0; // bytes consumed from the file
    let readAt = 0;
    let doc = 0;
    let left = lengths[0] ?? 0;
    let decoder = new TextDecoder('utf-8', { fatal: true });
    if (lengths.length > 0) visitor.begin(0);
    const finishDocs = (): void => {
      // Documents of length 0 and the one that just ended.
      while (doc < lengths.length && left === 0) {
        const tail = decoder.decode();
        if (tail) visitor.text(tail);
        visitor.end(doc);
        doc++;
        if (doc < lengths.length) {
          visitor.begin(doc);
          left = lengths[doc]!;
          decoder = new TextDecoder('utf-8', { fatal: true });
        }
      }
    };
    finishDocs();
    while (doc < lengths.length) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(block, 0, block.length, readAt);
      if (bytesRead === 0)
        throw new Error(`dataset spool ended early (document ${doc} of ${lengths.length})`);
      readAt += bytesRead;
      filled = bytesRead;
      let off = 0;
      while (off < filled && doc < lengths.length) {
        const take = Math.min(left, filled - off);
        const text = decoder.decode(block.subarray(off, off + take), { stream: true });
        if (text) visitor.text(text);
        off += take;
        left -= take;
        finishDocs();
      }
      pos += filled;
      opts.onBytes?.(pos);
      await opts.afterBlock?.();
    }
  } finally {
    await handle.close();
  }
}
