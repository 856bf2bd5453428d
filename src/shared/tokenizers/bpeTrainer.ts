import { utf8Encoder } from './text.ts';

/**
 * Trains byte-level BPE merges from word counts (the pieces of the GPT-2 pre-tokenizer and how often
 * each occurs), the way GPT-2's vocabulary was built, but fast:
 *
 * - every distinct word is stored once with its count, as a linked list of symbols;
 * - pair counts are kept up to date incrementally: a merge only touches the occurrences of the merged
 *   pair (found through a per-pair list of positions, checked lazily) and their two neighbours;
 * - the most frequent pair comes from a max-heap with lazy invalidation (ties: smaller left id, then
 *   smaller right id), so each merge costs about O(occurrences · log pairs) instead of a full recount.
 *
 * Deterministic: the same word counts (in the same insertion order) give the same merges.
 * Runs in slices (`run(budgetMs)`) so the caller can report progress, yield and cancel between them.
 */
export interface BpeMerge {
  left: number;
  right: number;
  id: number;
  count: number;
}

export class BpeTrainer {
  readonly targetMerges: number;
  readonly merges: BpeMerge[] = [];
  #keyBase: number;
  #sym: Int32Array;
  #next: Int32Array;
  #prev: Int32Array;
  #weight: Float64Array;
  readonly #counts = new Map<number, number>();
  readonly #positions = new Map<number, number[]>();
  readonly #heap = new PairHeap();
  #nextId: number;
  #done = false;

  /**
   * @param wordCounts distinct pre-tokenized pieces and their counts
   * @param merges how many merges to learn (vocab size − 256 byte tokens − special tokens)
   * @param firstId id of the first merged token (256 for our layout: ids 0..255 are the bytes)
   */
  constructor(wordCounts: Iterable<readonly [string, number]>, merges: number, firstId = 256) {
    this.targetMerges = Math.max(0, merges);
    this.#nextId = firstId;
    this.#keyBase = firstId + this.targetMerges + 1;
    const words: Uint8Array[] = [];
    const counts: number[] = [];
    let total = 0;
    for (const [word, count] of wordCounts) {
      const bytes = utf8Encoder.encode(word);
      if (bytes.length === 0 || count <= 0) continue;
      words.push(bytes);
      counts.push(count);
      total += bytes.length;
    }
    this.#sym = new Int32Array(total);
    this.#next = new Int32Array(total);
    this.#prev = new Int32Array(total);
    this.#weight = new Float64Array(total);
    let at = 0;
    for (let w = 0; w < words.length; w++) {
      const bytes = words[w]!;
      const count = counts[w]!;
      for (let i = 0; i < bytes.length; i++) {
        const pos = at + i;
        this.#sym[pos] = bytes[i]!;
        this.#weight[pos] = count;
        this.#prev[pos] = i === 0 ? -1 : pos - 1;
        this.#next[pos] = i === bytes.length - 1 ? -1 : pos + 1;
        if (i > 0) this.#add(this.#key(bytes[i - 1]!, bytes[i]!), count, pos - 1);
      }
      at += bytes.length;
    }
    for (const [key, count] of this.#counts) this.#heap.push(count, key);
  }

  get done(): boolean {
    return this.#done || this.merges.length >= this.targetMerges;
  }

  #key(a: number, b: number): number {
    return a * this.#keyBase + b;
  }

  #add(key: number, w: number, pos: number): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + w);
    const list = this.#positions.get(key);
    if (list) list.push(pos);
    else this.#positions.set(key, [pos]);
  }

  #sub(key: number, w: number): void {
    const c = this.#counts.get(key);
    if (c === undefined) return;
    if (c - w <= 0) {
      this.#counts.delete(key);
      this.#positions.delete(key);
    } else this.#counts.set(key, c - w);
  }

  /** Learns merges until done or until `budgetMs` has passed; returns how many merges exist now. */
  run(budgetMs = Infinity): number {
    const until = budgetMs === Infinity ? Infinity : Date.now() + budgetMs;
    while (!this.done) {
      if (!this.#step()) {
        this.#done = true;
        break;
      }
      if ((this.merges.length & 15) === 0 && Date.now() >= until) break;
    }
    return this.merges.length;
  }

  #step(): boolean {
    // Most frequent live pair; stale heap entries (count changed since pushed) are dropped.
    let key = -1;
    let count = 0;
    while (this.#heap.size > 0) {
      const [c, k] = this.#heap.pop();
      if (this.#counts.get(k) === c) {
        key = k;
        count = c;
        break;
      }
    }
    if (key < 0) return false;
    const a = Math.floor(key / this.#keyBase);
    const b = key - a * this.#keyBase;
    const c = this.#nextId++;
    const list = this.#positions.get(key) ?? [];
    this.#positions.delete(key);
    this.#counts.delete(key);
    // Left to right, so "a a a" merges as (a a) a, as encoding will do.
    if (a === b) list.sort((x, y) => x - y);
    const sym = this.#sym;
    const next = this.#next;
    const prev = this.#prev;
    const changed = new Set<number>();
    for (const pos of list) {
      if (sym[pos] !== a) continue;
      const n = next[pos]!;
      if (n < 0 || sym[n] !== b) continue;
      const w = this.#weight[pos]!;
      const p = prev[pos]!;
      const nn = next[n]!;
      if (p >= 0) {
        const left = sym[p]!;
        const oldKey = this.#key(left, a);
        if (oldKey !== key) {
          this.#sub(oldKey, w);
          changed.add(oldKey);
        }
        const newKey = this.#key(left, c);
        this.#add(newKey, w, p);
        changed.add(newKey);
      }
      if (nn >= 0) {
        const right = sym[nn]!;
        const oldKey = this.#key(b, right);
        if (oldKey !== key) {
          this.#sub(oldKey, w);
          changed.add(oldKey);
        }
        const newKey = this.#key(c, right);
        this.#add(newKey, w, pos);
        changed.add(newKey);
      }
      sym[pos] = c;
      sym[n] = -1;
      next[pos] = nn;
      if (nn >= 0) prev[nn] = pos;
    }
    for (const k of changed) {
      const cnt = this.#counts.get(k);
      if (cnt !== undefined) this.#heap.push(cnt, k);
    }
    this.merges.push({ left: a, right: b, id: c, count });
    return true;
  }
}

/** Max-heap on count; ties: smaller key (smaller left id, then right id) first. */
class PairHeap {
  #count: number[] = [];
  #key: number[] = [];

  get size(): number {
    return this.#count.length;
  }

  #before(i: number, j: number): boolean {
    const ci = this.#count[i]!;
    const cj = this.#count[j]!;
    return ci > cj || (ci === cj && this.#key[i]! < this.#key[j]!);
  }

  #swap(i: number, j: number): void {
    const c = this.#count[i]!;
    this.#count[i] = this.#count[j]!;
    this.#count[j] = c;
    const k = this.#key[i]!;
    this.#key[i] = this.#key[j]!;
    this.#key[j] = k;
  }

  push(count: number, key: number): void {
    this.#count.push(count);
    this.#key.push(key);
    let i = this.#count.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.#count[0]!, this.#key[0]!];
    const last = this.#count.length - 1;
    this.#swap(0, last);
    this.#count.pop();
    this.#key.pop();
    const n = this.#count.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#before(l, m)) m = l;
      if (r < n && this.#before(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }
}
