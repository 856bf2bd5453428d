/**
 * Fast non-cryptographic hashing for deduplication (pure JS, runs anywhere). Not for integrity:
 * the manifest's file checksums are SHA-256.
 */

/** MurmurHash3's 32-bit finaliser: a good avalanche mix of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a string's UTF-16 code units. */
export function hashString32(s: string, seed = 0): number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return fmix32(h ^ s.length);
}

/**
 * A 64-bit streaming hash of text (two independent 32-bit lanes), fed chunk by chunk, so a multi-GB
 * document is hashed without holding it. Two different documents collide with probability ~2⁻⁶⁴.
 */
export class TextHash64 {
  #h1 = 0x243f6a88;
  #h2 = 0x85a308d3;
  #length = 0;

  update(s: string): this {
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 ^ c, 0x85ebca77);
      h2 = (h2 << 17) | (h2 >>> 15);
      h2 = (h2 + h1) | 0;
    }
    this.#h1 = h1;
    this.#h2 = h2;
    this.#length += s.length;
    return this;
  }

  /** 16 hex digits. */
  digest(): string {
    const len = this.#length;
    const a = fmix32(this.#h1 ^ Math.imul(len, 0x27d4eb2f) ^ fmix32(this.#h2));
    const b = fmix32(this.#h2 ^ (len / 0x100000000) ^ a);
    return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  }
}
