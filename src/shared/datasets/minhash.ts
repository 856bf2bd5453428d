import { fmix32, hashString32 } from './hash.ts';
import { Prng } from './prng.ts';

/**
 * Near-duplicate detection with MinHash and LSH banding (Broder 1997; Leskovec, Rajaraman & Ullman,
 * "Mining of Massive Datasets", ch. 3), as datasketch's MinHashLSH does it, plus a check of every
 * candidate:
 *
 * - a document is the set of its word 5-grams (words: runs of letters/digits, lower-cased); a document
 *   with fewer words is one shingle of all its words;
 * - its signature is, for each of `numPerm` seeded hash functions, the smallest hash of its shingles;
 *   the fraction of equal entries of two signatures estimates the Jaccard similarity of the sets;
 * - signatures are cut into b bands of r rows (b·r ≤ numPerm, chosen for the threshold like datasketch's
 *   optimal parameters), a document is a candidate when one band is equal, and a candidate is a
 *   near-duplicate when its estimated similarity is ≥ the threshold.
 *
 * Streaming: text is fed in chunks. Deterministic for a given seed. Memory per kept document: the
 * signature's low 16 bits (2·numPerm bytes; the estimate's bias from that is < 2⁻¹⁶) plus one entry
 * per band.
 */
export const DEFAULT_NUM_PERM = 128;
export const DEFAULT_SHINGLE_WORDS = 5;

export interface MinHashOptions {
  numPerm?: number;
  shingleWords?: number;
  seed: number;
}

export class MinHasher {
  readonly numPerm: number;
  readonly shingleWords: number;
  readonly #mulA: Int32Array;
  readonly #addB: Int32Array;
  readonly #seed: number;

  constructor(opts: MinHashOptions) {
    this.numPerm = opts.numPerm ?? DEFAULT_NUM_PERM;
    this.shingleWords = opts.shingleWords ?? DEFAULT_SHINGLE_WORDS;
    const prng = new Prng(opts.seed ^ 0x6d696e68);
    this.#seed = prng.next();
    this.#mulA = new Int32Array(this.numPerm);
    this.#addB = new Int32Array(this.numPerm);
    for (let i = 0; i < this.numPerm; i++) {
      this.#mulA[i] = prng.next() | 1;
      this.#addB[i] = prng.next();
    }
  }

  /** Starts the signature of one document. */
  begin(): MinHashDocument {
    return new MinHashDocument(this, this.#seed);
  }

  /** Folds one shingle hash into a signature. */
  fold(sig: Uint32Array, x: number): void {
    const a = this.#mulA;
    const b = this.#addB;
    for (let i = 0; i < sig.length; i++) {
      const v = fmix32((Math.imul(x, a[i]!) + b[i]!) | 0);
      if (v < sig[i]!) sig[i] = v;
    }
  }

  /** Signature of a whole text (tests, small inputs). */
  signature(text: string): Uint32Array | null {
    const d = this.begin();
    d.update(text);
    return d.finish();
  }
}

const WORD = /[\p{L}\p{N}]+/gu;
const WORD_CHAR = /^[\p{L}\p{N}]$/u;

/** Start of the word that ends `s` (s.length when s does not end inside a word). */
function trailingWordStart(s: string): number {
  let i = s.length;
  while (i > 0) {
    const low = s.charCodeAt(i - 1);
    const width = low >= 0xdc00 && low <= 0xdfff && i >= 2 ? 2 : 1;
    if (!WORD_CHAR.test(s.slice(i - width, i))) break;
    i -= width;
  }
  return i;
}

export class MinHashDocument {
  readonly #h: MinHasher;
  readonly #seed: number;
  readonly #sig: Uint32Array;
  readonly #window: number[] = [];
  #words = 0;
  #carry = '';

  constructor(h: MinHasher, seed: number) {
    this.#h = h;
    this.#seed = seed;
    this.#sig = new Uint32Array(h.numPerm).fill(0xffffffff);
  }

  update(text: string): void {
    const buf = this.#carry + text;
    // A word cut by the chunk boundary waits for the rest of it.
    const cut = trailingWordStart(buf);
    this.#carry = buf.slice(cut);
    this.#words_(cut === buf.length ? buf : buf.slice(0, cut));
  }

  #words_(text: string): void {
    WORD.lastIndex = 0;
    const k = this.#h.shingleWords;
    const w = this.#window;
    for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
      w.push(hashString32(m[0].toLowerCase(), this.#seed));
      if (w.length > k) w.shift();
      this.#words++;
      if (w.length === k) this.#h.fold(this.#sig, shingleHash(w));
    }
  }

  /** The signature, or null for a document without any word (never a near-duplicate). */
  finish(): Uint32Array | null {
    if (this.#carry) {
      const c = this.#carry;
      this.#carry = '';
      this.#words_(c);
    }
    if (this.#words === 0) return null;
    if (this.#words < this.#h.shingleWords) this.#h.fold(this.#sig, shingleHash(this.#window));
    return this.#sig;
  }
}

function shingleHash(words: readonly number[]): number {
  let h = 0x1b873593 ^ words.length;
  for (const x of words) h = fmix32(Math.imul(h, 31) ^ x);
  return h;
}

/** Estimated Jaccard similarity of two signatures. */
export function estimateJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Bands × rows minimising the weighted probability of false positives (similarity below the
 * threshold but sharing a band) and false negatives (above it but sharing none), integrated over the
 * similarity; false negatives weigh more because every candidate is checked afterwards.
 */
export function optimalBands(
  threshold: number,
  numPerm: number,
  fpWeight = 0.3,
  fnWeight = 0.7,
): { bands: number; rows: number } {
  const integrate = (f: (s: number) => number, a: number, b: number): number => {
    const steps = 200;
    const h = (b - a) / steps;
    let sum = 0.5 * (f(a) + f(b));
    for (let i = 1; i < steps; i++) sum += f(a + i * h);
    return sum * h;
  };
  let best = { bands: 1, rows: numPerm, error: Infinity };
  for (let bands = 1; bands <= numPerm; bands++) {
    for (let rows = 1; rows * bands <= numPerm; rows++) {
      const p = (s: number): number => 1 - (1 - s ** rows) ** bands;
      const fp = integrate(p, 0, threshold);
      const fn = integrate((s) => 1 - p(s), threshold, 1);
      const error = fpWeight * fp + fnWeight * fn;
      if (error < best.error) best = { bands, rows, error };
    }
  }
  return { bands: best.bands, rows: best.rows };
}

/**
 * The LSH index of the documents kept so far. `check(sig)` says whether a document is a
 * near-duplicate of one of them (and of which); otherwise it is added.
 */
export class NearDuplicateIndex {
  readonly threshold: number;
  readonly bands: number;
  readonly rows: number;
  readonly #numPerm: number;
  readonly #buckets: Map<number, number | number[]>[];
  /** Low 16 bits of the kept signatures, numPerm per document. */
  #store: Uint16Array;
  #count = 0;
  /** Caller's ids of the kept documents, by index. */
  #ids: number[] = [];
  // Scratch space reused by every check.
  readonly #keys: Int32Array;
  readonly #low: Uint16Array;
  readonly #seen: number[] = [];

  constructor(threshold: number, numPerm: number) {
    if (!(threshold > 0 && threshold <= 1))
      throw new Error(`near-duplicate threshold must be in (0, 1], not ${threshold}`);
    this.threshold = threshold;
    this.#numPerm = numPerm;
    const { bands, rows } = optimalBands(threshold, numPerm);
    this.bands = bands;
    this.rows = rows;
    this.#buckets = Array.from({ length: bands }, () => new Map());
    this.#store = new Uint16Array(numPerm * 1024);
    this.#keys = new Int32Array(bands);
    this.#low = new Uint16Array(numPerm);
  }

  /** Returns the id of a kept document this one nearly duplicates (similarity ≥ threshold), or null after adding it. */
  check(sig: Uint32Array, id: number): { duplicateOf: number; similarity: number } | null {
    const n = this.#numPerm;
    const keys = this.#keys;
    for (let band = 0; band < this.bands; band++) keys[band] = this.#bandKey(sig, band);
    const low = this.#low;
    for (let i = 0; i < n; i++) low[i] = sig[i]! & 0xffff;
    const store = this.#store;
    const seen = this.#seen;
    seen.length = 0;
    let bestDoc = -1;
    let bestSim = -1;
    for (let band = 0; band < this.bands; band++) {
      const entry = this.#buckets[band]!.get(keys[band]!);
      if (entry === undefined) continue;
      const docs = typeof entry === 'number' ? [entry] : entry;
      for (const doc of docs) {
        if (seen.includes(doc)) continue;
        seen.push(doc);
        let same = 0;
        const base = doc * n;
        for (let i = 0; i < n; i++) if (store[base + i] === low[i]) same++;
        const sim = same / n;
        if (sim >= this.threshold && sim > bestSim) {
          bestSim = sim;
          bestDoc = doc;
        }
      }
    }
    if (bestDoc >= 0) return { duplicateOf: this.#ids[bestDoc]!, similarity: bestSim };
    const doc = this.#count++;
    if ((doc + 1) * n > this.#store.length) {
      const bigger = new Uint16Array(this.#store.length * 2);
      bigger.set(this.#store);
      this.#store = bigger;
    }
    this.#store.set(low, doc * n);
    this.#ids.push(id);
    for (let band = 0; band < this.bands; band++) {
      const map = this.#buckets[band]!;
      const key = keys[band]!;
      const entry = map.get(key);
      if (entry === undefined) map.set(key, doc);
      else if (typeof entry === 'number') map.set(key, [entry, doc]);
      else entry.push(doc);
    }
    return null;
  }

  /**
   * 30-bit hash of a band: a small integer, the fastest kind of Map key. Unrelated bands share a key
   * with probability 2⁻³⁰; such a false candidate costs one signature comparison, nothing more.
   */
  #bandKey(sig: Uint32Array, band: number): number {
    let h = 0x7f4a7c15 ^ band;
    const start = band * this.rows;
    for (let i = start; i < start + this.rows; i++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[i]!);
    return h >>> 2;
  }
}
