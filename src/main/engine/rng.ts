/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) whose whole state is four 32-bit
 * words, so a checkpoint can store it and a resumed run draws exactly the batches it would have drawn.
 */
export class Rng {
  #s = new Uint32Array(4);

  constructor(seed: number | string = 0) {
    if (typeof seed === 'string') {
      this.setState(seed);
      return;
    }
    let x = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9 + (i === 1 ? hi : 0)) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling), n ≤ 2^53. */
  randint(n: number): number {
    if (!(n > 0)) throw new RangeError(`randint: n must be positive, got ${n}`);
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const v = this.nextU32();
        if (v < limit) return v % n;
      }
    }
    return Math.floor(this.random() * n);
  }

  /** A standard normal sample (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with N(0, std²) samples, using both Box–Muller outputs. */
  fillNormal(out: Float32Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      let u = 0;
      while (u === 0) u = this.random();
      const r = Math.sqrt(-2 * Math.log(u)) * std;
      const th = 2 * Math.PI * this.random();
      out[i] = r * Math.cos(th);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(th);
    }
  }

  getState(): string {
    return Array.from(this.#s, (v) => v.toString(16).padStart(8, '0')).join('');
  }

  setState(state: string): void {
    if (!/^[0-9a-f]{32}$/.test(state)) throw new Error(`invalid RNG state "${state}"`);
    for (let i = 0; i < 4; i++) this.#s[i] = parseInt(state.slice(i * 8, i * 8 + 8), 16);
  }

  clone(): Rng {
    return new Rng(this.getState());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Derives an independent 32-bit seed from a base seed and labels (for eval batches, dropout streams). */
export function deriveSeed(base: number, ...labels: (number | string)[]): number {
  let h = (base ^ 0x811c9dc5) >>> 0;
  for (const l of labels) {
    for (const ch of String(l)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0x2f, 0x01000193) >>> 0;
  }
  return new Rng(h).nextU32();
}
