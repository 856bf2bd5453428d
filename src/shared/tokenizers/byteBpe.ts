import { GPT2_PATTERN, StreamPretokenizer, pretokenizer } from './pretokenize.ts';
import { lenientUtf8Decoder, utf8Encoder } from './text.ts';

/**
 * Byte-level BPE encoder/decoder shared by the trained `bpe` tokenizer and `gpt2`.
 *
 * Text is cut into pieces by the GPT-2 regex; each piece's UTF-8 bytes start as one token per byte,
 * then adjacent tokens are merged, lowest rank first (leftmost on ties), while a merge exists. A
 * merge is a pair (left id, right id) → merged id, and a merge's rank is its merged id (earlier
 * merges have smaller ids, for GPT-2 as for our trained vocabularies).
 *
 * Every byte has a token, so any text encodes, and decode(encode(text)) === text for every
 * well-formed string.
 */
export interface ByteBpeSpec {
  /** Token id of each byte value 0..255. */
  byteIds: ArrayLike<number>;
  /** [left, right, merged] triples. */
  merges: Iterable<readonly [number, number, number]>;
  /** Bytes of every token by id; when absent, a merged token's bytes are its parts' bytes (parts defined first). */
  tokenBytes?: readonly Uint8Array[];
  /** Special tokens (text → id); never produced by encode, decoded to their text. */
  specialTokens: Record<string, number>;
  vocabSize: number;
  pattern?: string;
}

/** Pieces longer than this (in bytes) use the heap-based merge; shorter ones the simple scan. */
const LONG_PIECE = 64;
const MAX_CACHE = 200_000;

export class ByteBpe {
  readonly vocabSize: number;
  readonly pattern: string;
  readonly #byteIds: Int32Array;
  /** pair key → merged id */
  readonly #merges = new Map<number, number>();
  readonly #tokenBytes: (Uint8Array | undefined)[];
  readonly #specialById = new Map<number, string>();
  readonly #cache = new Map<string, readonly number[]>();
  readonly #re: RegExp;

  constructor(spec: ByteBpeSpec) {
    this.vocabSize = spec.vocabSize;
    this.pattern = spec.pattern ?? GPT2_PATTERN;
    this.#re = pretokenizer(this.pattern);
    this.#byteIds = Int32Array.from(spec.byteIds);
    if (this.#byteIds.length !== 256)
      throw new Error('a byte-level BPE needs a token for each of the 256 byte values');
    this.#tokenBytes = new Array<Uint8Array | undefined>(spec.vocabSize);
    for (let b = 0; b < 256; b++) this.#setBytes(this.#byteIds[b]!, Uint8Array.of(b));
    spec.tokenBytes?.forEach((bytes, id) => this.#setBytes(id, bytes));
    for (const [a, b, c] of spec.merges) {
      const left = this.#tokenBytes[a];
      const right = this.#tokenBytes[b];
      if (!left || !right)
        throw new Error(`merge (${a}, ${b}) → ${c} uses a token that is not defined before it`);
      this.#merges.set(this.#key(a, b), c);
      if (!this.#tokenBytes[c]) {
        const bytes = new Uint8Array(left.length + right.length);
        bytes.set(left, 0);
        bytes.set(right, left.length);
        this.#setBytes(c, bytes);
      }
    }
    for (const [text, id] of Object.entries(spec.specialTokens)) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize)
        throw new Error(`special token ${text} has id ${id} outside the vocabulary`);
      this.#specialById.set(id, text);
      this.#tokenBytes[id] = utf8Encoder.encode(text);
    }
  }

  #setBytes(id: number, bytes: Uint8Array): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
      throw new Error(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    this.#tokenBytes[id] = bytes;
  }

  #key(a: number, b: number): number {
    return a * this.vocabSize + b;
  }

  /** Encodes text as ordinary text: special-token strings in it are encoded like any other text. */
  encode(text: string): number[] {
    const out: number[] = [];
    const re = this.#re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) this.encodePiece(m[0], out);
    return out;
  }

  /** An encoder for text that arrives in chunks; gives the same ids as encode() of the whole text. */
  streamEncoder(): { push(text: string, out: number[]): void; end(out: number[]): void } {
    const pre = new StreamPretokenizer(this.pattern);
    return {
      push: (text, out) => pre.push(text, (p) => this.encodePiece(p, out)),
      end: (out) => pre.end((p) => this.encodePiece(p, out)),
    };
  }

  /** Appends the ids of one pre-tokenized piece to `out`. */
  encodePiece(piece: string, out: number[]): void {
    const cached = this.#cache.get(piece);
    if (cached) {
      for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
      return;
    }
    const bytes = utf8Encoder.encode(piece);
    const ids = bytes.length > LONG_PIECE ? this.#mergeLong(bytes) : this.#mergeShort(bytes);
    if (this.#cache.size >= MAX_CACHE) this.#cache.clear();
    this.#cache.set(piece, ids);
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /** Simple O(n²) merge for short pieces: find the lowest-ranked adjacent pair, merge, repeat. */
  #mergeShort(bytes: Uint8Array): number[] {
    const ids: number[] = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) ids[i] = this.#byteIds[bytes[i]!]!;
    // ranks[i]: merged id of (ids[i], ids[i+1]), or Infinity.
    const ranks: number[] = new Array<number>(Math.max(0, ids.length - 1));
    for (let i = 0; i + 1 < ids.length; i++)
      ranks[i] = this.#merges.get(this.#key(ids[i]!, ids[i + 1]!)) ?? Infinity;
    while (ids.length > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < ranks.length; i++) {
        if (ranks[i]! < best) {
          best = ranks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      ids[at] = best;
      ids.splice(at + 1, 1);
      ranks.splice(at, 1);
      if (at > 0) ranks[at - 1] = this.#merges.get(this.#key(ids[at - 1]!, best)) ?? Infinity;
      if (at < ranks.length) ranks[at] = this.#merges.get(this.#key(best, ids[at + 1]!)) ?? Infinity;
    }
    return ids;
  }

  /**
   * The same merge order for long pieces (a 100 KB run of letters or spaces) in O(n log n): a linked
   * list of parts and a heap of candidate merges ordered by (rank, position), checked lazily.
   */
  #mergeLong(bytes: Uint8Array): number[] {
    const n = bytes.length;
    const ids = new Int32Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const version = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = this.#byteIds[bytes[i]!]!;
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MergeHeap();
    const consider = (i: number): void => {
      if (i < 0) return;
      const j = next[i]!;
      if (j < 0) return;
      const merged = this.#merges.get(this.#key(ids[i]!, ids[j]!));
      if (merged !== undefined) heap.push(merged, i, version[i]!, version[j]!);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.size > 0) {
      const [rank, i, vi, vj] = heap.pop();
      const j = next[i]!;
      if (ids[i] === -1 || j < 0 || version[i] !== vi || version[j] !== vj) continue;
      ids[i] = rank;
      version[i]!++;
      ids[j] = -1;
      const k = next[j]!;
      next[i] = k;
      if (k >= 0) prev[k] = i;
      consider(prev[i]!);
      consider(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return n === 0 ? [] : out;
  }

  decode(ids: ArrayLike<number>): string {
    return lenientUtf8Decoder.decode(this.decodeBytes(ids));
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let length = 0;
    for (let i = 0; i < ids.length; i++) length += this.tokenBytes(ids[i]!).length;
    const out = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]!);
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  tokenBytes(id: number): Uint8Array {
    const bytes = this.#tokenBytes[id];
    if (!bytes) throw new Error(`token id ${id} is not in this vocabulary (size ${this.vocabSize})`);
    return bytes;
  }

  isSpecial(id: number): boolean {
    return this.#specialById.has(id);
  }
}

/** Min-heap of (rank, position) with the versions of both parts, for lazy invalidation. */
class MergeHeap {
  #rank: number[] = [];
  #pos: number[] = [];
  #vi: number[] = [];
  #vj: number[] = [];

  get size(): number {
    return this.#rank.length;
  }

  #less(a: number, b: number): boolean {
    return (
      this.#rank[a]! < this.#rank[b]! || (this.#rank[a] === this.#rank[b] && this.#pos[a]! < this.#pos[b]!)
    );
  }

  #swap(a: number, b: number): void {
    for (const arr of [this.#rank, this.#pos, this.#vi, this.#vj]) {
      const t = arr[a]!;
      arr[a] = arr[b]!;
      arr[b] = t;
    }
  }

  push(rank: number, pos: number, vi: number, vj: number): void {
    this.#rank.push(rank);
    this.#pos.push(pos);
    this.#vi.push(vi);
    this.#vj.push(vj);
    let i = this.#rank.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number, number, number] {
    const top: [number, number, number, number] = [this.#rank[0]!, this.#pos[0]!, this.#vi[0]!, this.#vj[0]!];
    const last = this.#rank.length - 1;
    this.#swap(0, last);
    this.#rank.pop();
    this.#pos.pop();
    this.#vi.pop();
    this.#vj.pop();
    let i = 0;
    const n = this.#rank.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }
}
