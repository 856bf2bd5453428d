import { describe, expect, it } from 'vitest';
import { cephesLogf, cephesSincosf, fmaf, TorchGenerator } from './torchRng.ts';

/**
 * Expected values from PyTorch 1.13 (Debian python3-torch, x86-64, AVX2 kernels; `ATEN_CPU_CAPABILITY=default`
 * for the portable kernel), printed as float32 bit patterns: see scripts/bench/parity.ts for the same
 * comparison at full scale (nanoGPT's initialisation and batches).
 */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('TorchGenerator (PyTorch CPU generator after torch.manual_seed)', () => {
  it('draws what torch draws: randint, normal_ (< 16, 16k + 1, 4096 elements, cached pair), uniform_', () => {
    const g = new TorchGenerator(1337);
    // torch.randint(1000003, (5,)), then torch.randint(2**40 + 12345, (3,)) (random64 above 2^32)
    expect(Array.from({ length: 5 }, () => g.randint(1000003))).toEqual([
      384040, 449736, 540449, 54261, 540713,
    ]);
    expect(Array.from({ length: 3 }, () => g.randint(2 ** 40 + 12345))).toEqual([
      821500655802, 380889772449, 305661319524,
    ]);
    // torch.empty(5).normal_(0, 1): the scalar double Box–Muller; its 6th value stays cached
    expect(bits(g.normal_(new Float32Array(5), 0, 1))).toEqual([
      0xbea5899f, 0xbedc764a, 0x3fb27e00, 0xbef73e22, 0xbcef37fc,
    ]);
    // torch.empty(17).normal_(0, 1): 17 uniforms, one chunk of 16, then the last 16 drawn again
    expect(bits(g.normal_(new Float32Array(17), 0, 1))).toEqual([
      0x3f174df0, 0x3f93126c, 0x3e399552, 0xbdbc6851, 0x3fca9813, 0x3e1c4d86, 0x3ec4bdf6, 0x3fa7904a,
      0x3eedd7a3, 0xbf3ac897, 0xbfc76c80, 0xbeca3d55, 0x3f1c749f, 0xbfdad617, 0xbda92153, 0xbd4aeda1,
      0xbfb958bb,
    ]);
    const big = g.normal_(new Float32Array(4096), 0, 0.02);
    expect(bits(big.subarray(0, 4))).toEqual([0x3c06a664, 0xbb9eb7f2, 0x3c09e443, 0x3bb5ecf4]);
    expect(bits(big.subarray(4094))).toEqual([0x3c0aae1c, 0xbb82b1b8]);
    expect(bits(g.uniform_(new Float32Array(6), -0.25, 0.75))).toEqual([
      0xbbd09900, 0xbe187030, 0xbe031bac, 0x3f1649e5, 0x3e7d4234, 0x3df60a48,
    ]);
    // torch.empty(3).normal_(2, 3): the first value is the one cached by normal_ on 5 elements
    expect(bits(g.normal_(new Float32Array(3), 2, 3))).toEqual([0x40ff46fc, 0x3e3f135b, 0xc0760c8c]);
    // torch.get_rng_state(): left 207, next 418, state[0], state[623]
    const [, left, next, words] = g.getState().split(':');
    expect([Number(left), Number(next), words!.slice(0, 8), words!.slice(-8)]).toEqual([
      207,
      418,
      '4fb519e6',
      'e3cf035b',
    ]);
  });

  it('the portable kernel: uniform_ exactly, normal_ within a few ulps of glibc’s logf/cosf/sinf', () => {
    const g = new TorchGenerator(1337, { kernel: 'default' });
    expect(bits(g.uniform_(new Float32Array(6), -0.25, 0.75))).toEqual([
      0xbe2fcda4, 0x3e7b82f4, 0x3ebf06b8, 0x3e3093a0, 0xbd4b3590, 0xbe62a89c,
    ]);
    const expected = [
      0x3f745b02, 0x3d83c929, 0xbf009d58, 0xbe4f6a75, 0xbfc89618, 0xbf8c89d4, 0x3e8512ef, 0xbf88ef43,
      0xbf6bce2c, 0x3fc58ac2, 0xbebc30d2, 0xbf3f8e5e, 0xbdcdfa50, 0x3f3b10d5, 0xbe6674bc, 0x3faa304e,
      0x3fbe55f9, 0x3f174df5, 0xbd42c636, 0xbf8cbf6c, 0xbfe05013, 0xbf8c6c70, 0xbf8dd77f, 0xbfe66c28,
      0x3fc305b2, 0x40208cb0, 0x3e2a2bad, 0x3f9a4c3f, 0x3e40d668, 0xc00a3e06, 0xbe2249fe, 0xbf214657,
    ];
    const got = bits(g.normal_(new Float32Array(32), 0, 1));
    got.forEach((b, i) => expect(Math.abs(b - expected[i]!)).toBeLessThanOrEqual(3));
  });

  it('state round-trips (position, words and cached normal); skip(n) equals n draws', () => {
    const a = new TorchGenerator(42);
    a.normal_(new Float32Array(3), 0, 1); // leaves a cached normal
    for (let i = 0; i < 700; i++) a.random();
    const b = new TorchGenerator(a.getState());
    expect(bits(b.normal_(new Float32Array(5), 0, 1))).toEqual(bits(a.normal_(new Float32Array(5), 0, 1)));
    expect(b.getState()).toBe(a.getState());
    for (const n of [0, 1, 623, 624, 625, 2000]) {
      const s = new TorchGenerator(9);
      const d = new TorchGenerator(9);
      s.skip(n);
      for (let i = 0; i < n; i++) d.random();
      expect(s.random()).toBe(d.random());
      expect(s.getState()).toBe(d.getState());
    }
    expect(() => new TorchGenerator('mt19937:1:0:abc:')).toThrow(/invalid PyTorch generator state/);
  });

  it('float32 helpers: fmaf rounds once; the Cephes log and sincos are close to the true functions', () => {
    // 24929 · 673 = 2^24 + 1, a float32 tie; + 2^-30 puts it above: rounding to double first would lose that
    expect(Math.fround(24929 * 673 + 2 ** -30)).toBe(2 ** 24);
    expect(fmaf(24929, 673, 2 ** -30)).toBe(2 ** 24 + 2);
    expect(fmaf(24929, -673, -(2 ** -30))).toBe(-(2 ** 24) - 2);
    expect(fmaf(3, 5, 7)).toBe(22);
    for (const x of [1e-7, 0.1, 0.5, 0.7071, 0.99, 1]) expect(cephesLogf(x)).toBeCloseTo(Math.log(x), 6);
    for (const x of [0, 0.3, 1.5, 3.1, 4.7, 6.28]) {
      const [s, c] = cephesSincosf(Math.fround(x));
      expect(s).toBeCloseTo(Math.sin(Math.fround(x)), 6);
      expect(c).toBeCloseTo(Math.cos(Math.fround(x)), 6);
    }
  });
});
