/**
 * PyTorch's CPU default generator, draw for draw: after `new TorchGenerator(seed)` (= `torch.manual_seed(seed)`)
 * the same calls give the same numbers as PyTorch (ATen 1.13–2.x, CPUGeneratorImpl):
 *
 * - `random()`: one 32-bit output of MT19937 (at::mt19937, seeded with init_genrand(seed & 0xffffffff));
 *   `random64()` = (random() << 32) | random().
 * - `randint(high)`: one element of `torch.randint(high, (n,))` (int64): `random() % high` while
 *   high < 2^32, `random64() % high` above.
 * - `uniform_(out, from, to)`: a float tensor's `uniform_`: `(random() & (2^24 − 1)) · 2^-24 · (to − from) + from`.
 * - `normal_(out, mean, std)`: a float tensor's `normal_`. At least 16 contiguous elements (ATen's
 *   normal_fill): every element first gets a uniform, then Box–Muller runs on 16-element chunks
 *   (u1 = 1 − data[j], u2 = data[j + 8] for j < 8) and, when the size is not a multiple of 16, the
 *   last 16 elements are drawn again and recomputed. With the AVX2 kernel (PyTorch's x86-64 builds on
 *   any AVX2 CPU) log, sin and cos are avx_mathfun.h's Cephes polynomials, which `kernel: 'avx2'`
 *   reproduces operation by operation in float32, with the fused multiply-adds the compiler forms;
 *   `kernel: 'default'` is the portable kernel (libm logf/cosf/sinf, here correctly rounded). Below 16
 *   elements ATen draws each value with the double-precision scalar Box–Muller, caching the second value
 *   of each pair in the generator, as this class does.
 *
 * The state (624 words, the position and the cached normal) round-trips through getState/setState, so a
 * checkpoint resumes the exact stream.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

const f = Math.fround;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1);
const U64 = new Uint32Array(F64.buffer); // little-endian: [low, high]

function floatBits(x: number): number {
  F32[0] = x;
  return U32[0]!;
}

function bitsFloat(b: number): number {
  U32[0] = b >>> 0;
  return F32[0]!;
}

/**
 * fmaf(a, b, c) for float32 a, b, c: a·b + c rounded once to float32. a·b is exact in a double; the sum is
 * rounded to odd at 53 bits (two-sum error term), which makes the final rounding to 24 bits correct.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  // exact, or not finite (err is NaN)
  if (err === 0 || err !== err) return f(s);
  F64[0] = s;
  if ((U64[0]! & 1) === 0) {
    // s is even: round to odd moves one ulp towards the exact value
    const up = err > 0 === s > 0;
    if (up) {
      U64[0] = (U64[0]! + 1) >>> 0;
      if (U64[0] === 0) U64[1] = (U64[1]! + 1) >>> 0;
    } else {
      if (U64[0] === 0) U64[1] = (U64[1]! - 1) >>> 0;
      U64[0] = (U64[0]! - 1) >>> 0;
    }
  }
  return f(F64[0]!);
}

// avx_mathfun.h's constants, as float32
const C = {
  minNormPos: bitsFloat(0x00800000),
  SQRTHF: f(0.7071067811865476),
  logP: [
    7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
    2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
  ].map(f),
  logQ1: f(-2.1219444e-4),
  logQ2: f(0.693359375),
  DP1: f(-0.78515625),
  DP2: f(-2.4187564849853515625e-4),
  DP3: f(-3.774894977445941e-8),
  sincof: [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f),
  coscof: [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f),
  FOPI: f(1.27323954473516),
  twoPi: f(2 * Math.PI),
};

/** avx_mathfun.h log256_ps for one lane (x > 0), with the multiply-adds GCC fuses (-mfma, -ffp-contract=fast). */
export function cephesLogf(x: number): number {
  if (!(x > 0)) return NaN;
  x = Math.max(x, C.minNormPos);
  const bits = floatBits(x);
  let e = f(((bits >>> 23) - 0x7f) | 0);
  x = bitsFloat((bits & ~0x7f800000) | floatBits(0.5));
  e = f(e + 1);
  const small = x < C.SQRTHF;
  const tmp = small ? x : 0;
  x = f(x - 1);
  e = f(e - (small ? 1 : 0));
  x = f(x + tmp);
  const z = f(x * x);
  const p = C.logP;
  let y = fmaf(p[0]!, x, p[1]!);
  for (let i = 2; i <= 8; i++) y = fmaf(y, x, p[i]!);
  y = f(y * x);
  y = fmaf(y, z, f(e * C.logQ1));
  y = fmaf(-z, 0.5, y);
  return fmaf(e, C.logQ2, f(x + y));
}

/** avx_mathfun.h sincos256_ps for one lane, with GCC's fused multiply-adds. Returns [sin, cos]. */
export function cephesSincosf(x: number): [number, number] {
  const neg = x < 0 || Object.is(x, -0);
  x = Math.abs(x);
  let j = Math.trunc(f(x * C.FOPI)) | 0;
  j = (j + 1) & ~1;
  const y = f(j);
  const swapSin = (j & 4) !== 0;
  const polyMask = (j & 2) === 0;
  x = fmaf(y, C.DP1, x);
  x = fmaf(y, C.DP2, x);
  x = fmaf(y, C.DP3, x);
  const signCos = ((j - 2) & 4) === 0;
  const signSin = neg !== swapSin;
  const z = f(x * x);
  let yc = fmaf(C.coscof[0]!, z, C.coscof[1]!);
  yc = fmaf(yc, z, C.coscof[2]!);
  yc = f(yc * z);
  yc = fmaf(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fmaf(C.sincof[0]!, z, C.sincof[1]!);
  ys = fmaf(ys, z, C.sincof[2]!);
  ys = f(ys * z);
  ys = fmaf(ys, x, x);
  // poly_mask picks the sine polynomial for sin and the cosine polynomial for cos, or the other way round
  const s = polyMask ? ys : yc;
  const c = polyMask ? yc : ys;
  return [signSin ? -s : s, signCos ? -c : c];
}

/** Which ATen normal_fill kernel to reproduce (see the file comment). */
export type NormalKernel = 'avx2' | 'default';

export class TorchGenerator {
  readonly #mt = new Uint32Array(N);
  /** at::mt19937's left_ and next_: draws left before the next twist = left − 1. */
  #left = 1;
  #next = 0;
  #nextDoubleNormal: number | null = null;
  readonly kernel: NormalKernel;

  constructor(seed: number | string = 67280421310721, opts: { kernel?: NormalKernel } = {}) {
    this.kernel = opts.kernel ?? 'avx2';
    if (typeof seed === 'string') this.setState(seed);
    else this.manualSeed(seed);
  }

  /** torch.manual_seed(seed): MT19937 init_genrand with the low 32 bits, no cached normal. */
  manualSeed(seed: number): void {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const mt = this.#mt;
    mt[0] = Number(BigInt.asUintN(32, BigInt(seed)));
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
    this.#left = 1;
    this.#next = 0;
    this.#nextDoubleNormal = null;
  }

  #twist(): void {
    const mt = this.#mt;
    let k = 0;
    for (; k < N - M; k++) {
      const y = (mt[k]! & UPPER) | (mt[k + 1]! & LOWER);
      mt[k] = mt[k + M]! ^ (y >>> 1) ^ (mt[k + 1]! & 1 ? MATRIX_A : 0);
    }
    for (; k < N - 1; k++) {
      const y = (mt[k]! & UPPER) | (mt[k + 1]! & LOWER);
      mt[k] = mt[k + M - N]! ^ (y >>> 1) ^ (mt[k + 1]! & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1]! & UPPER) | (mt[0]! & LOWER);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (mt[0]! & 1 ? MATRIX_A : 0);
    this.#left = N;
    this.#next = 0;
  }

  /** The next 32-bit output (CPUGeneratorImpl::random). */
  random(): number {
    if (--this.#left === 0) this.#twist();
    let y = this.#mt[this.#next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** CPUGeneratorImpl::random64: the first draw is the high word. */
  random64(): bigint {
    const hi = this.random();
    const lo = this.random();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Advances by `n` 32-bit draws without computing them. */
  skip(n: number): void {
    while (n > 0) {
      if (this.#left === 1) {
        this.#twist();
        this.#left = N + 1;
      }
      const k = Math.min(n, this.#left - 1);
      this.#left -= k;
      this.#next += k;
      n -= k;
    }
  }

  /** One element of torch.randint(high, (n,)) (int64), i.e. uniform in [0, high). */
  randint(high: number): number {
    if (!Number.isSafeInteger(high) || high <= 0) throw new RangeError(`randint: bad high ${high}`);
    if (high < 2 ** 32) return this.random() % high;
    return Number(this.random64() % BigInt(high));
  }

  /** A float32 uniform in [0, 1): 24 random bits (uniform_real_distribution<float>). */
  #uniformFloat(): number {
    return (this.random() & 0xffffff) * 2 ** -24;
  }

  /** A double uniform in [0, 1): 53 random bits of random64 (uniform_real_distribution<double>). */
  #uniformDouble(): number {
    const hi = this.random();
    const lo = this.random();
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * 2 ** -53;
  }

  /** tensor.uniform_(from, to) on a float32 tensor. */
  uniform_(out: Float32Array, from: number, to: number): Float32Array {
    const lo = f(from);
    const range = f(f(to) - lo);
    if (this.kernel === 'avx2')
      for (let i = 0; i < out.length; i++) out[i] = fmaf(this.#uniformFloat(), range, lo);
    else for (let i = 0; i < out.length; i++) out[i] = f(f(this.#uniformFloat() * range) + lo);
    return out;
  }

  /** tensor.normal_(mean, std) on a contiguous float32 tensor. */
  normal_(out: Float32Array, mean: number, std: number): Float32Array {
    const n = out.length;
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.#normalDouble() * std + mean;
      return out;
    }
    const m = f(mean);
    const s = f(std);
    for (let i = 0; i < n; i++) out[i] = this.#uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) this.#fill16(out, i, m, s);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) out[i] = this.#uniformFloat();
      this.#fill16(out, n - 16, m, s);
    }
    return out;
  }

  /** Consumes exactly what normal_ on `n` float32 elements consumes, without computing the values. */
  skipNormal(n: number): void {
    if (n < 16) this.normal_(new Float32Array(n), 0, 1);
    else this.skip(n + (n % 16 === 0 ? 0 : 16));
  }

  /** Consumes exactly what uniform_ on `n` float32 elements consumes. */
  skipUniform(n: number): void {
    this.skip(n);
  }

  #fill16(d: Float32Array, o: number, mean: number, std: number): void {
    for (let j = 0; j < 8; j++) {
      const u1 = f(1 - d[o + j]!);
      const u2 = d[o + j + 8]!;
      let c: number, s: number, radius: number;
      if (this.kernel === 'avx2') {
        radius = f(Math.sqrt(f(-2 * cephesLogf(u1))));
        [s, c] = cephesSincosf(f(C.twoPi * u2));
        d[o + j] = fmaf(f(radius * c), std, mean);
        d[o + j + 8] = fmaf(f(radius * s), std, mean);
      } else {
        radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
        const theta = f(2 * Math.PI * u2);
        d[o + j] = f(f(f(radius * f(Math.cos(theta))) * std) + mean);
        d[o + j + 8] = f(f(f(radius * f(Math.sin(theta))) * std) + mean);
      }
    }
  }

  /** at::normal_distribution<double> (the < 16 elements path): Box–Muller in doubles, one value cached. */
  #normalDouble(): number {
    if (this.#nextDoubleNormal !== null) {
      const v = this.#nextDoubleNormal;
      this.#nextDoubleNormal = null;
      return v;
    }
    const u1 = this.#uniformDouble();
    const u2 = this.#uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.#nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `mt19937:<left>:<next>:<624 words in hex>:<cached normal or empty>`. */
  getState(): string {
    const words = Array.from(this.#mt, (v) => v.toString(16).padStart(8, '0')).join('');
    const cached = this.#nextDoubleNormal === null ? '' : String(this.#nextDoubleNormal);
    return `mt19937:${this.#left}:${this.#next}:${words}:${cached}`;
  }

  setState(state: string): void {
    const m = /^mt19937:(\d+):(\d+):([0-9a-f]{4992}):(.*)$/.exec(state);
    const left = Number(m?.[1]);
    const next = Number(m?.[2]);
    if (!m || left < 1 || left > N + 1 || next > N || (left !== 1 && left + next !== N + 1))
      throw new Error(`invalid PyTorch generator state "${state.slice(0, 40)}…"`);
    for (let i = 0; i < N; i++) this.#mt[i] = parseInt(m[3]!.slice(i * 8, i * 8 + 8), 16);
    this.#left = left;
    this.#next = next;
    this.#nextDoubleNormal = m[4] === '' ? null : Number(m[4]);
  }

  static isState(state: string): boolean {
    return state.startsWith('mt19937:');
  }

  clone(): TorchGenerator {
    return new TorchGenerator(this.getState(), { kernel: this.kernel });
  }
}
