import { KernelUnsupported, numelOf, type Epilogue, type KernelPass } from '../kernel.ts';
import { batchOffset, f32Literal, type GemmProblem } from './gemmProblem.ts';

/**
 * The product pass on the GPU's matrix units (tensor cores on NVIDIA, WMMA on AMD, XMX on Intel, simdgroup
 * matrices on Apple), through Dawn's `chromium-experimental-subgroup-matrix`: each subgroup multiplies
 * f16 fragments of the shape the adapter offers (16×16×16 on NVIDIA, 8×8×8 on Mesa's lavapipe) and
 * accumulates in f32. This is `--precision f16`: tensors stay fp32 everywhere; only the operands of a product
 * are rounded to f16 (11 significant bits, as TF32, which PyTorch's fp32 nanoGPT uses for its products)
 * as they are staged.
 *
 * f16's range is the catch: a GPT's gradients (1e-6 for the logits' at batch 64 × 256) sit below f16's
 * smallest normal number (6e-5), where they would keep a few bits or none. Instead of loss scaling (a global
 * factor, overflow checks and skipped steps), every BK-deep chunk of an operand tile is scaled by the power of
 * two that puts its largest magnitude in [2^14, 2^15) before it is rounded (block floating point). The
 * accumulators then hold the sum at the scale of the latest chunk: when the next chunk's scale differs, they
 * are multiplied by the power of two between the two scales first. Powers of two are exact in f32, so the only
 * rounding is f16's own, relative to the block's largest value, whatever the tensor's magnitude.
 *
 * A workgroup of WM×WN subgroups owns a BM×BN output tile, each subgroup FM×FN fragments of it. Per chunk:
 * every invocation reads its share of both tiles (fp32) into registers and takes their largest magnitude;
 * a workgroup max (atomicMax on the bits: non-negative floats order as their bits do) gives the two scales;
 * the scaled tiles go to workgroup memory as f16; each subgroup multiplies its fragments. The next chunk's
 * global reads are issued before the multiplies, so they are in flight meanwhile. Results leave through a
 * per-subgroup staging fragment in workgroup memory, from which the subgroup's invocations apply α, the bias
 * and the fused epilogue with bounds checks, as the f32 kernel does.
 */

/** The adapter's f16 × f16 → f32 fragment shape and its (fixed) subgroup size. */
export interface SubgroupMatrixShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly subgroupSize: number;
}

/** Subgroups per workgroup along M and N. */
const WM = 2;
const WN = 2;

/**
 * Fragments each subgroup owns along M and N: 2×2 by default (64×64 tiles with 16×16 fragments); 4×4 (128×128) reuses
 * each staged value twice as often for twice the registers. `npm run bench:kernels -- --precision f16 --fragments 4x4`
 * and the device check compare them on a GPU.
 */
export interface SubgroupFragments {
  readonly fm: number;
  readonly fn: number;
}
export const DEFAULT_FRAGMENTS: SubgroupFragments = { fm: 2, fn: 2 };
/** Fragments along K per chunk. */
const KF = 2;
/** Largest per-operand scale exponent, either way (operands up to ~2^115 and down to f32's subnormals). */
const MAX_SHIFT = 100;
/**
 * How far a chunk's scale may exceed the largest-valued chunk's so far (log2). A chunk 2^40 smaller than the sum
 * cannot change it in f32, so its operands are scaled no further; this keeps the accumulators below ~2^84.
 */
const MAX_RISE = 40;

export const subgroupTile = (s: SubgroupMatrixShape, { fm, fn }: SubgroupFragments = DEFAULT_FRAGMENTS) => ({
  bm: WM * fm * s.m,
  bn: WN * fn * s.n,
  bk: KF * s.k,
});

/** The tensor-core product pass; with `splits` > 1 it writes raw slices of the K sum to scratch instead. */
export function subgroupProductPass(
  p: GemmProblem,
  s: SubgroupMatrixShape,
  fragments: SubgroupFragments,
  splits: number,
  post?: Epilogue,
): KernelPass {
  const { fm: FM, fn: FN } = fragments;
  const { bm, bn, bk } = subgroupTile(s, fragments);
  const sgs = WM * WN;
  const wg = sgs * s.subgroupSize;
  const batch = numelOf(p.batch);
  const kChunk = splits > 1 ? Math.ceil(p.k / splits / bk) * bk : p.k;
  const steps = Math.ceil(kChunk / bk);
  const lastSteps = Math.ceil((p.k - kChunk * (splits - 1)) / bk);
  // Workgroup rows are padded by 8 halves so that fragment loads down a column do not all hit one bank.
  const aStride = bk + 8;
  const bStride = bn + 8;

  // Each invocation stages `per` elements of each tile; the axis that is contiguous in memory runs fastest
  // across invocations, so a subgroup's reads are coalesced.
  const loader = (op: 'a' | 'b') => {
    const outer = op === 'a' ? bm : bn;
    const outerSize = op === 'a' ? p.m : p.n;
    // A stored [M, K] unless transA; B stored [K, N] unless transB.
    const kContiguous = op === 'a' ? !p.transA : p.transB;
    const items = outer * bk;
    const rounds = Math.ceil(items / wg);
    const origin = op === 'a' ? 'm0' : 'n0';
    const base = op === 'a' ? 'aBase' : 'bBase';
    const load: string[] = [];
    const put: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const reg = `${op}r${r}`;
      const guard = (r + 1) * wg > items ? `lid + ${r * wg}u < ${items}u` : '';
      const coords = kContiguous
        ? `let q = lid + ${r * wg}u; let o = q / ${bk}u; let kk = q % ${bk}u;`
        : `let q = lid + ${r * wg}u; let kk = q / ${outer}u; let o = q % ${outer}u;`;
      const index = kContiguous
        ? `${base} + (${origin} + o) * ${p.k}u + k0 + kk`
        : `${base} + (k0 + kk) * ${outerSize}u + ${origin} + o`;
      const inside = [guard, `${origin} + o < ${outerSize}u`, `k0 + kk < kEnd`].filter(Boolean).join(' && ');
      load.push(`{ ${coords} ${reg} = 0.0; if (${inside}) { ${reg} = ${op}[${index}]; } }`);
      const at = op === 'a' ? `o * ${aStride}u + kk` : `kk * ${bStride}u + o`;
      const tile = op === 'a' ? 'As' : 'Bs';
      put.push(`${guard ? `if (${guard}) ` : ''}{ ${coords} ${tile}[${at}] = f16(${reg} * scale); }`);
    }
    const regs = Array.from({ length: rounds }, (_, r) => `${op}r${r}`);
    return {
      decl: regs.map((r) => `var ${r} = 0.0;`).join(' '),
      load: (k0: string) => `{ let k0 = ${k0};\n    ${load.join('\n    ')} }`,
      magnitude: regs.map((r) => `abs(${r})`).reduce((x, y) => `max(${x}, ${y})`),
      put: `{ let scale = pow2(${op}Shift);\n    ${put.join('\n    ')} }`,
    };
  };
  const a = loader('a');
  const b = loader('b');

  const left = `subgroup_matrix_left<f16, ${s.k}, ${s.m}>`;
  const right = `subgroup_matrix_right<f16, ${s.n}, ${s.k}>`;
  const result = `subgroup_matrix_result<f32, ${s.n}, ${s.m}>`;
  const acc = (i: number, j: number) => `acc${i}_${j}`;
  const frags: [number, number][] = [];
  for (let i = 0; i < FM; i++) for (let j = 0; j < FN; j++) frags.push([i, j]);
  const multiply: string[] = [];
  for (let kf = 0; kf < KF; kf++) {
    const step: string[] = [];
    for (let i = 0; i < FM; i++)
      step.push(
        `let l${i} = subgroupMatrixLoad<${left}, row_major>(&As, (rowFrag + ${i}u) * ${s.m * aStride}u + ${kf * s.k}u, ${aStride}u);`,
      );
    for (let j = 0; j < FN; j++)
      step.push(
        `let r${j} = subgroupMatrixLoad<${right}, row_major>(&Bs, ${kf * s.k * bStride}u + (colFrag + ${j}u) * ${s.n}u, ${bStride}u);`,
      );
    for (const [i, j] of frags)
      step.push(`${acc(i, j)} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, ${acc(i, j)});`);
    multiply.push(`{\n        ${step.join('\n        ')}\n      }`);
  }

  // Out: α·C + β·C₀ through the epilogue, or the raw sum into this split's scratch slice.
  const split = splits > 1;
  let value = 'Cs[stage + e] * unscaleHi * unscaleLo';
  if (!split) {
    if (p.alpha !== 1) value = `${f32Literal(p.alpha)} * ${value}`;
    if (p.bias && p.beta !== 0)
      value = `${value} + ${f32Literal(p.beta)} * c[row * ${p.bias.rowStride}u + col * ${p.bias.colStride}u]`;
  }
  const at = `oBase + row * ${p.n}u + col`;
  const store = `${split ? 'scratch' : 'out'}[${at}] = ${!split && post ? `epilogue1(${at}, ${value})` : value};`;
  const writes = frags.map(
    ([i, j]) => `subgroupMatrixStore<row_major>(&Cs, stage, ${acc(i, j)}, ${s.n}u);
  workgroupBarrier();
  for (var e = sgLane; e < ${s.m * s.n}u; e += ${s.subgroupSize}u) {
    let row = m0 + (rowFrag + ${i}u) * ${s.m}u + e / ${s.n}u;
    let col = n0 + (colFrag + ${j}u) * ${s.n}u + e % ${s.n}u;
    if (row < ${p.m}u && col < ${p.n}u) { ${store} }
  }
  workgroupBarrier();`,
  );

  const { a: ab, b: bb, out: ob, scratch: sb } = p.bindings;
  const decls = [
    `@group(0) @binding(${ab}) var<storage, read> a: array<f32>;`,
    `@group(0) @binding(${bb}) var<storage, read> b: array<f32>;`,
  ];
  const bindings = [ab, bb];
  if (!split && p.bias && p.beta !== 0) {
    decls.push(`@group(0) @binding(${p.bias.binding}) var<storage, read> c: array<f32>;`);
    bindings.push(p.bias.binding);
  }
  const target = split ? sb : ob;
  decls.push(
    `@group(0) @binding(${target}) var<storage, read_write> ${split ? 'scratch' : 'out'}: array<f32>;`,
  );
  bindings.push(target);
  if (!split && post) {
    const code = post.code(1);
    decls.push(...code.declarations);
    bindings.push(...code.bindings);
  }
  const kRange = split
    ? `let part = wid.z / ${batch}u; let z = wid.z % ${batch}u; let kBegin = part * ${kChunk}u;
  let steps = select(${steps}u, ${lastSteps}u, part == ${splits - 1}u); let kEnd = min(kBegin + ${kChunk}u, ${p.k}u);`
    : `let z = wid.z; let kBegin = 0u; let steps = ${steps}u; let kEnd = ${p.k}u;`;

  const code = /* wgsl */ `
// C[m, n] = α·Σ_k op(A)[m, k]·op(B)[k, n] + β·C₀[m, n] on ${s.m}×${s.n}×${s.k} f16 subgroup matrices, f32 sums,
// tile ${bm}×${bn}×${bk}, operands scaled by a power of two per chunk${split ? `, K in ${splits} slices` : ''}
enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium.subgroup_matrix_uniformity);
${decls.join('\n')}
var<workgroup> As: array<f16, ${bm * aStride}>;
var<workgroup> Bs: array<f16, ${bk * bStride}>;
var<workgroup> Cs: array<f32, ${sgs * s.m * s.n}>;
// Largest magnitude of each operand's chunk, as bits, for even and odd chunks (one is reset while the other is read).
var<workgroup> peak: array<atomic<u32>, 4>;

// 2^e, exactly (exp2 has no exactness guarantee), for e clamped to f32's normal exponents.
fn pow2(e: i32) -> f32 { return bitcast<f32>(u32(clamp(e, -126, 127) + 127) << 23u); }
// The shift that brings a chunk whose largest magnitude has these bits into [2^14, 2^15); 0 for zero, Inf, NaN.
fn shiftOf(bits: u32) -> i32 {
  let biased = i32((bits >> 23u) & 0xffu);
  if (bits == 0u || biased == 255) { return 0; }
  return clamp(141 - biased, -${MAX_SHIFT}, ${MAX_SHIFT});
}

@compute @workgroup_size(${wg}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_id) sg: u32, @builtin(subgroup_invocation_id) sgLane: u32) {
  let m0 = wid.y * ${bm}u;
  let n0 = wid.x * ${bn}u;
  ${kRange}
  ${batchOffset('aBase', p.batch, p.aBatchStrides)}
  ${batchOffset('bBase', p.batch, p.bBatchStrides)}
  let oBase = ${split ? `wid.z * ${p.m * p.n}u` : `z * ${p.m * p.n}u`};
  let rowFrag = (sg / ${WN}u) * ${FM}u;
  let colFrag = (sg % ${WN}u) * ${FN}u;
  let stage = sg * ${s.m * s.n}u;
  ${frags.map(([i, j]) => `var ${acc(i, j)} = ${result}();`).join('\n  ')}
  var shift = 0;
  // the smallest product scale so far: that of the chunk with the largest values
  var lowest = ${2 * MAX_SHIFT};
  ${a.decl}
  ${b.decl}
  if (lid < 4u) { atomicStore(&peak[lid], 0u); }
  ${a.load('kBegin')}
  ${b.load('kBegin')}
  // every lane raises the first chunk's maxima only once they are cleared (the global reads above are in flight)
  workgroupBarrier();
  for (var kt = 0u; kt < steps; kt++) {
    let even = (kt % 2u) * 2u;
    atomicMax(&peak[even], bitcast<u32>(${a.magnitude}));
    atomicMax(&peak[even + 1u], bitcast<u32>(${b.magnitude}));
    if (lid == 0u) { atomicStore(&peak[2u - even], 0u); atomicStore(&peak[3u - even], 0u); }
    workgroupBarrier();
    let bShift = shiftOf(atomicLoad(&peak[even + 1u]));
    let aShift = max(min(shiftOf(atomicLoad(&peak[even])), lowest + ${MAX_RISE} - bShift), -${MAX_SHIFT});
    ${a.put}
    ${b.put}
    workgroupBarrier();
    if (kt + 1u < steps) {
      ${a.load(`kBegin + (kt + 1u) * ${bk}u`)}
      ${b.load(`kBegin + (kt + 1u) * ${bk}u`)}
    }
    // The sums so far were at scale 2^shift; this chunk's products are at 2^(aShift + bShift).
    let next = aShift + bShift;
    if (next != shift && kt > 0u) {
      let factor = pow2(next - shift);
      ${frags.map(([i, j]) => `${acc(i, j)} = subgroupMatrixScalarMultiply(${acc(i, j)}, factor);`).join('\n      ')}
    }
    shift = next;
    lowest = min(lowest, next);
    {
      ${multiply.join('\n      ')}
    }
  }
  // 2^-shift in two factors: |shift| may exceed f32's exponent range when both operands are tiny or huge
  let unscaleHi = pow2(-shift / 2);
  let unscaleLo = pow2(-shift - (-shift / 2));
  ${writes.join('\n  ')}
}
`;
  const groupsM = Math.ceil(p.m / bm);
  const groupsN = Math.ceil(p.n / bn);
  const groupsZ = batch * splits;
  if (groupsM > 65535 || groupsN > 65535 || groupsZ > 65535)
    throw new KernelUnsupported({ opType: 'MatMul' }, `a ${groupsM}×${groupsN}×${groupsZ} grid of tiles`);
  return { code, workgroups: [groupsN, groupsM, groupsZ], bindings };
}
