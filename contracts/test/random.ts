/** A small seeded PRNG for property tests: the same seed gives the same cases, so a failure can be replayed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const big = (bits: number): bigint => {
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(0, 0xffff));
    return v & ((1n << BigInt(bits)) - 1n);
  };
  const text = (maxLen: number): string => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567ÄéΩ漢🙂 ';
    const chars = [...alphabet];
    let s = '';
    const n = int(0, maxLen);
    for (let i = 0; i < n; i++) s += chars[int(0, chars.length - 1)];
    return s;
  };
  return { next, int, big, text, bool: () => next() < 0.5 };
}
