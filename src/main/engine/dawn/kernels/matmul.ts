import {
  KernelUnsupported,
  numelOf,
  spread,
  type Epilogue,
  type Kernel,
  type KernelGenerator,
  type KernelPass,
  type KernelRequest,
} from '../kernel.ts';
import { batchOffset, f32Literal, type GemmProblem } from './gemmProblem.ts';
import {
  DEFAULT_FRAGMENTS,
  subgroupProductPass,
  subgroupTile,
  type SubgroupFragments,
  type SubgroupMatrixShape,
} from './matmulSubgroup.ts';

/**
 * MatMul and Gemm: C = α·op(A)·op(B) + β·C₀, batched over broadcast leading axes (MatMul) or with a
 * bias C₀ broadcast to [M, N] (Gemm).
 *
 * One register-blocked, shared-memory-tiled GEMM (sgemm in the style of CUTLASS's SIMT kernels): a
 * workgroup of 16×16 threads owns a BM×BN output tile, each thread an RM×RN block of it held in vec4
 * accumulators. K advances BK at a time through two workgroup buffers: while the tile in one is
 * multiplied, the next is read from global memory into registers and then stored into the other, so one
 * barrier per K step suffices. Transposes are strides in the loaders (no transpose pass); loads and stores
 * are vec4 wherever the contiguous axis is a multiple of 4; bounds checks are generated only for the axes
 * that the tile does not divide. When the output has too few tiles to fill the GPU (weight gradients:
 * [C, C] outputs over K = B·T rows), K is split across workgroups into a scratch buffer and a second pass
 * adds the slices in order (deterministic, no atomics).
 */

/** Threads per workgroup along each output axis (16×16 = 256). */
const THREADS = 16;
const WG = THREADS * THREADS;

export interface Tiling {
  /** Rows and columns of the output each thread computes (4 or 8). */
  readonly rm: number;
  readonly rn: number;
  /** K step staged through workgroup memory. */
  readonly bk: number;
}
const tileRows = (t: Tiling) => THREADS * t.rm;
const tileCols = (t: Tiling) => THREADS * t.rn;

const f = f32Literal;

/**
 * The tilings a product may run with (productTuning.ts times them on the user's GPU). They give the same bits:
 * every thread sums its outputs' K in order, a long sum is split into blocks of SUM_BLOCK whatever the tile's K
 * step, and where K is split across workgroups the slices are the problem's (chooseSplitK on the default tile,
 * in multiples of SLICE_QUANTUM), not the tile's. So the tile is a matter of speed only. The first four fit
 * WebGPU's default 16 KiB of workgroup memory (two K steps of both operands' tiles), and the generator picks among
 * them; the large tiles' 16-deep K steps (half the barriers) need 24 and 32 KiB, which desktop GPUs have (a device
 * without them cannot compile them, and the tuner passes them over).
 */
export const PRODUCT_TILINGS: readonly Tiling[] = [
  { rm: 8, rn: 8, bk: 8 },
  { rm: 8, rn: 4, bk: 8 },
  { rm: 4, rn: 8, bk: 8 },
  { rm: 4, rn: 4, bk: 16 },
  { rm: 8, rn: 8, bk: 16 },
  { rm: 8, rn: 4, bk: 16 },
];
/** Terms of K summed apart before they join an output's running sum (see `blocked` in productPass). */
const SUM_BLOCK = 8;
/** K slices of a split product are multiples of every tiling's K step. */
const SLICE_QUANTUM = 16;

/** "8x8x8": rows × columns per thread × K step. */
export const tilingName = (t: Tiling): string => `${t.rm}x${t.rn}x${t.bk}`;

/** PRODUCT_TILINGS by name (tilingName). */
export const tilingByName: ReadonlyMap<string, Tiling> = new Map(
  PRODUCT_TILINGS.map((t) => [tilingName(t), t]),
);

/** Picks the tile: large tiles for large outputs (more reuse per load), small when large ones would idle SMs. */
export function chooseTiling(p: GemmProblem): Tiling {
  const batch = numelOf(p.batch);
  const tiles = (t: Tiling) => Math.ceil(p.m / tileRows(t)) * Math.ceil(p.n / tileCols(t)) * batch;
  const [big, tall, , small] = PRODUCT_TILINGS as [Tiling, Tiling, Tiling, Tiling];
  // A long K is split into enough slices to fill the GPU anyway (chooseSplitK), so it keeps the tile
  // that does the most arithmetic per value loaded (weight gradients: [C, 4C] outputs over K = B·T).
  const longK = p.k >= 1024;
  if (p.m >= 128 && p.n >= 128 && (tiles(big) >= 256 || longK)) return big;
  if (p.m >= 128 && p.n >= 48 && (tiles(tall) >= 256 || longK)) return tall;
  return small;
}

/** Splits K when the output tiles (bm × bn) alone are too few to keep a large GPU busy; 1 = no split. */
function chooseSplitK(p: GemmProblem, bm: number, bn: number): number {
  const tiles = Math.ceil(p.m / bm) * Math.ceil(p.n / bn) * numelOf(p.batch);
  if (tiles >= 256 || p.k < 512) return 1;
  // Each slice keeps at least 512 of K, so the extra pass stays small next to the product.
  return Math.max(1, Math.min(Math.ceil(512 / tiles), Math.floor(p.k / 512), 64));
}

interface LoaderSpec {
  /** Which operand ('a' or 'b'), its workgroup tile ('As' or 'Bs') and register prefix. */
  readonly buf: string;
  readonly tile: string;
  readonly reg: string;
  /** Tile extent along the operand's output axis (BM for A, BN for B) and along K. */
  readonly outer: number;
  readonly bk: number;
  /** The operand's full extent along its output axis (M or N) and K. */
  readonly outerSize: number;
  readonly k: number;
  /** Stored with the output axis contiguous ([K, M] for A, [K, N] for B), else K contiguous. */
  readonly outerContiguous: boolean;
  readonly vec4: boolean;
  readonly checkOuter: boolean;
  readonly checkK: boolean;
  /** WGSL expressions: the operand's batch offset and the tile's first index along its output axis. */
  readonly base: string;
  readonly origin: string;
}

/**
 * The code that moves one BK-deep tile of an operand into registers (`load`, given the WGSL expression of
 * its first k) and from registers into workgroup memory (`store`, given the buffer's offset in vec4s).
 * The tile is kept [BK][outer] in workgroup memory, so that the product reads vec4s along the output axes.
 */
function tileLoader(s: LoaderSpec): {
  decl: string;
  load: (k0: string) => string;
  store: (at: string) => string;
} {
  const per = s.vec4 ? 4 : 1;
  const items = (s.outer * s.bk) / per;
  const rounds = Math.ceil(items / WG);
  const type = s.vec4 ? 'vec4<f32>' : 'f32';
  const rowVecs = s.outer / 4;
  const decl: string[] = [];
  const load: string[] = [];
  const store: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const reg = `${s.reg}${r}`;
    const guard = (r + 1) * WG > items ? `if (lid + ${r * WG}u < ${items}u) ` : '';
    decl.push(`var ${reg}: ${type};`);
    // Coordinates within the tile: `kk` along K, `o` along the output axis (the first of four when vec4).
    const coords = s.outerContiguous
      ? `let q = lid + ${r * WG}u; let kk = q / ${s.outer / per}u; let o = (q % ${s.outer / per}u) * ${per}u;`
      : `let q = lid + ${r * WG}u; let o = q / ${s.bk / per}u; let kk = (q % ${s.bk / per}u) * ${per}u;`;
    const conds: string[] = [];
    if (s.checkOuter) conds.push(`${s.origin} + o < ${s.outerSize}u`);
    if (s.checkK) conds.push(`k0 + kk < ${s.k}u`);
    const index = s.outerContiguous
      ? `${s.base} + (k0 + kk) * ${s.outerSize}u + ${s.origin} + o`
      : `${s.base} + (${s.origin} + o) * ${s.k}u + k0 + kk`;
    const read = s.vec4 ? `${s.buf}[(${index}) / 4u]` : `${s.buf}[${index}]`;
    const body = conds.length
      ? `${reg} = ${type}(0.0); if (${conds.join(' && ')}) { ${reg} = ${read}; }`
      : `${reg} = ${read};`;
    load.push(`${guard}{ ${coords} ${body} }`);
    let put: string;
    if (s.outerContiguous && s.vec4) put = `${s.tile}[at + kk * ${rowVecs}u + o / 4u] = ${reg};`;
    else if (s.outerContiguous) put = `${s.tile}[at + kk * ${rowVecs}u + o / 4u][o % 4u] = ${reg};`;
    else if (s.vec4)
      put = [0, 1, 2, 3]
        .map((j) => `${s.tile}[at + (kk + ${j}u) * ${rowVecs}u + o / 4u][o % 4u] = ${reg}[${j}];`)
        .join(' ');
    else put = `${s.tile}[at + kk * ${rowVecs}u + o / 4u][o % 4u] = ${reg};`;
    store.push(`${guard}{ ${coords} ${put} }`);
  }
  return {
    decl: decl.join('\n  '),
    load: (k0) => `{ let k0 = ${k0};\n    ${load.join('\n    ')} }`,
    store: (at) => `{ let at = ${at};\n    ${store.join('\n    ')} }`,
  };
}

/** The tiled product pass; with `splits` > 1 it writes raw slices of the K sum to scratch instead. */
function productPass(
  p: GemmProblem,
  t: Tiling,
  splits: number,
  blockedChoice?: boolean,
  post?: Epilogue,
): KernelPass {
  const bm = tileRows(t);
  const bn = tileCols(t);
  const { bk } = t;
  const batch = numelOf(p.batch);
  const kChunk = splits > 1 ? Math.ceil(p.k / splits / SLICE_QUANTUM) * SLICE_QUANTUM : p.k;
  const lastChunk = p.k - kChunk * (splits - 1);
  const steps = Math.ceil(kChunk / bk);
  const lastSteps = Math.ceil(lastChunk / bk);
  const checkM = p.m % bm !== 0;
  const checkN = p.n % bn !== 0;
  const checkK = p.k % bk !== 0;
  const aVec4 = (p.transA ? p.m : p.k) % 4 === 0;
  const bVec4 = (p.transB ? p.k : p.n) % 4 === 0;
  const outVec4 = p.n % 4 === 0;
  const a = tileLoader({
    buf: 'a',
    tile: 'As',
    reg: 'la',
    outer: bm,
    bk,
    outerSize: p.m,
    k: p.k,
    outerContiguous: p.transA,
    vec4: aVec4,
    checkOuter: checkM,
    checkK,
    base: 'aBase',
    origin: 'm0',
  });
  const b = tileLoader({
    buf: 'b',
    tile: 'Bs',
    reg: 'lb',
    outer: bn,
    bk,
    outerSize: p.n,
    k: p.k,
    outerContiguous: !p.transB,
    vec4: bVec4,
    checkOuter: checkN,
    checkK,
    base: 'bBase',
    origin: 'n0',
  });
  const aVecs = (bk * bm) / 4;
  const bVecs = (bk * bn) / 4;

  // Thread (tx, ty) owns rows s·64 + 4·ty + i and columns u·64 + 4·tx + j (s < RM/4, u < RN/4, i, j < 4):
  // the two halves of an 8-wide block sit 64 apart, so that a warp's vec4 reads of a tile row do not collide.
  const rowsOf = Array.from({ length: t.rm }, (_, r) => ({ s: Math.floor(r / 4), i: r % 4 }));
  const colGroups = t.rn / 4;
  const acc = (r: number, u: number) => `acc${r}_${u}`;
  const accDecl: string[] = [];
  for (let r = 0; r < t.rm; r++)
    for (let u = 0; u < colGroups; u++) accDecl.push(`var ${acc(r, u)} = vec4<f32>(0.0);`);
  // Precision: one running sum over a long K loses ~√K·ε of it (at K = 1536, 3× the RMS error of ONNX
  // Runtime's CPU GEMM against the exact sum, 5× in the worst output). Over long ranges each SUM_BLOCK terms are
  // summed apart and then added to the running sum (~√(K/SUM_BLOCK)·ε), at the cost of a second set of
  // accumulators. The blocks do not follow the tile's K step, so that every tiling gives the same bits.
  const blocked = blockedChoice ?? kChunk >= 512;
  const sum = blocked ? (r: number, u: number) => `part${r}_${u}` : acc;
  const inner: string[] = [];
  for (let block = 0; block < bk; block += SUM_BLOCK) {
    const lines: string[] = [];
    if (blocked)
      for (let r = 0; r < t.rm; r++)
        for (let u = 0; u < colGroups; u++) lines.push(`var ${sum(r, u)} = vec4<f32>(0.0);`);
    for (let kk = block; kk < block + SUM_BLOCK; kk++) {
      for (let s = 0; s < t.rm / 4; s++)
        lines.push(`let a${s}_${kk} = As[cur + ${kk * (bm / 4) + s * 16}u + ty];`);
      for (let u = 0; u < colGroups; u++)
        lines.push(`let b${u}_${kk} = Bs[curB + ${kk * (bn / 4) + u * 16}u + tx];`);
      for (const [r, { s, i }] of rowsOf.entries())
        for (let u = 0; u < colGroups; u++)
          lines.push(`${sum(r, u)} = fma(vec4<f32>(a${s}_${kk}[${i}]), b${u}_${kk}, ${sum(r, u)});`);
    }
    if (blocked)
      for (let r = 0; r < t.rm; r++)
        for (let u = 0; u < colGroups; u++) lines.push(`${acc(r, u)} += ${sum(r, u)};`);
    inner.push(`{ ${lines.join(' ')} }`);
  }

  // Epilogue: α·acc + β·C₀ into the output, or the raw sum into this split's scratch slice.
  const split = splits > 1;
  const outBuf = split ? 'scratch' : 'out';
  const epilogue: string[] = [];
  for (const [r, { s, i }] of rowsOf.entries()) {
    for (let u = 0; u < colGroups; u++) {
      const row = `m0 + ${s * 64 + i}u + 4u * ty`;
      const col = `n0 + ${u * 64}u + 4u * tx`;
      let value = acc(r, u);
      if (!split) {
        if (p.alpha !== 1) value = `${f(p.alpha)} * ${value}`;
        if (p.bias && p.beta !== 0) {
          const { rowStride, colStride } = p.bias;
          const cAt = (j: number) =>
            `c[min(row, ${p.m - 1}u) * ${rowStride}u + min(col + ${j}u, ${p.n - 1}u) * ${colStride}u]`;
          value = `${value} + ${f(p.beta)} * vec4<f32>(${[0, 1, 2, 3].map(cAt).join(', ')})`;
        }
      }
      const rowCheck = checkM ? `row < ${p.m}u` : '';
      // an epilogue (not on split slices: the sum pass applies it) runs only where the element exists
      const after = !split && post;
      let write: string;
      if (outVec4) {
        const cond = [rowCheck, checkN ? `col < ${p.n}u` : ''].filter(Boolean).join(' && ');
        const at = `(oBase + row * ${p.n}u + col) / 4u`;
        const stmt = `${outBuf}[${at}] = ${after ? `epilogue4(${at}, v)` : 'v'};`;
        write = cond ? `if (${cond}) { ${stmt} }` : stmt;
      } else {
        const parts = [0, 1, 2, 3].map((j) => {
          const at = `oBase + row * ${p.n}u + col + ${j}u`;
          const stmt = `${outBuf}[${at}] = ${after ? `epilogue1(${at}, v[${j}])` : `v[${j}]`};`;
          return checkN ? `if (col + ${j}u < ${p.n}u) { ${stmt} }` : stmt;
        });
        write = rowCheck ? `if (${rowCheck}) { ${parts.join(' ')} }` : parts.join(' ');
      }
      epilogue.push(`{ let row = ${row}; let col = ${col}; let v = ${value}; ${write} }`);
    }
  }

  const { a: ab, b: bb, out: ob, scratch: sb } = p.bindings;
  const decls = [
    `@group(0) @binding(${ab}) var<storage, read> a: array<${aVec4 ? 'vec4<f32>' : 'f32'}>;`,
    `@group(0) @binding(${bb}) var<storage, read> b: array<${bVec4 ? 'vec4<f32>' : 'f32'}>;`,
  ];
  const bindings = [ab, bb];
  if (!split && p.bias && p.beta !== 0) {
    decls.push(`@group(0) @binding(${p.bias.binding}) var<storage, read> c: array<f32>;`);
    bindings.push(p.bias.binding);
  }
  const target = split ? sb : ob;
  decls.push(
    `@group(0) @binding(${target}) var<storage, read_write> ${outBuf}: array<${outVec4 ? 'vec4<f32>' : 'f32'}>;`,
  );
  bindings.push(target);
  if (!split && post) {
    const code = post.code(outVec4 ? 4 : 1);
    decls.push(...code.declarations);
    bindings.push(...code.bindings);
  }

  const kRange = split
    ? `let part = wid.z / ${batch}u; let z = wid.z % ${batch}u; let kBegin = part * ${kChunk}u;
  let steps = select(${steps}u, ${lastSteps}u, part == ${splits - 1}u);`
    : `let z = wid.z; let kBegin = 0u; let steps = ${steps}u;`;
  const code = /* wgsl */ `
// C[m, n] = α·Σ_k op(A)[m, k]·op(B)[k, n] + β·C₀[m, n]; tile ${bm}×${bn}×${bk}, ${t.rm}×${t.rn} per thread${split ? `, K in ${splits} slices` : ''}
${decls.join('\n')}
var<workgroup> As: array<vec4<f32>, ${2 * aVecs}>;
var<workgroup> Bs: array<vec4<f32>, ${2 * bVecs}>;

@compute @workgroup_size(${THREADS}, ${THREADS}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let tx = lid3.x;
  let ty = lid3.y;
  let lid = ty * ${THREADS}u + tx;
  let m0 = wid.y * ${bm}u;
  let n0 = wid.x * ${bn}u;
  ${kRange}
  ${batchOffset('aBase', p.batch, p.aBatchStrides)}
  ${batchOffset('bBase', p.batch, p.bBatchStrides)}
  let oBase = ${split ? `wid.z * ${p.m * p.n}u` : `z * ${p.m * p.n}u`};
  ${a.decl}
  ${b.decl}
  ${accDecl.join('\n  ')}
  ${a.load('kBegin')}
  ${b.load('kBegin')}
  ${a.store('0u')}
  ${b.store('0u')}
  workgroupBarrier();
  for (var kt = 0u; kt < steps; kt++) {
    let next = kt + 1u < steps;
    if (next) {
      ${a.load(`kBegin + (kt + 1u) * ${bk}u`)}
      ${b.load(`kBegin + (kt + 1u) * ${bk}u`)}
    }
    {
      let cur = (kt % 2u) * ${aVecs}u;
      let curB = (kt % 2u) * ${bVecs}u;
      ${inner.join('\n      ')}
    }
    if (next) {
      ${a.store(`((kt + 1u) % 2u) * ${aVecs}u`)}
      ${b.store(`((kt + 1u) % 2u) * ${bVecs}u`)}
    }
    workgroupBarrier();
  }
  ${epilogue.join('\n  ')}
}
`;
  const groupsM = Math.ceil(p.m / bm);
  const groupsN = Math.ceil(p.n / bn);
  const groupsZ = batch * splits;
  if (groupsM > 65535 || groupsN > 65535 || groupsZ > 65535)
    throw new KernelUnsupported({ opType: 'MatMul' }, `a ${groupsM}×${groupsN}×${groupsZ} grid of tiles`);
  return { code, workgroups: [groupsN, groupsM, groupsZ], bindings };
}

/** Second pass of a split-K product: out = α·Σ_slices scratch + β·C₀, slices added in order. */
function splitSumPass(p: GemmProblem, splits: number, post?: Epilogue): KernelPass {
  const total = p.m * p.n * numelOf(p.batch);
  const groups = Math.ceil(total / 256);
  const [gx, gy] = spread(groups);
  const { out: ob, scratch: sb } = p.bindings;
  const decls = [
    `@group(0) @binding(${sb}) var<storage, read_write> scratch: array<f32>;`,
    `@group(0) @binding(${ob}) var<storage, read_write> out: array<f32>;`,
  ];
  const bindings = [sb, ob];
  let value = 'sum';
  if (p.alpha !== 1) value = `${f(p.alpha)} * ${value}`;
  if (p.bias && p.beta !== 0) {
    decls.push(`@group(0) @binding(${p.bias.binding}) var<storage, read> c: array<f32>;`);
    bindings.push(p.bias.binding);
    value = `${value} + ${f(p.beta)} * c[((e / ${p.n}u) % ${p.m}u) * ${p.bias.rowStride}u + (e % ${p.n}u) * ${p.bias.colStride}u]`;
  }
  if (post) {
    const code = post.code(1);
    decls.push(...code.declarations);
    bindings.push(...code.bindings);
    value = `epilogue1(e, ${value})`;
  }
  const code = /* wgsl */ `
// out[e] = α·Σ_s scratch[s][e] + β·C₀, s in order
${decls.join('\n')}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * ${gx}u + wid.x) * 256u + lid;
  if (e >= ${total}u) { return; }
  var sum = 0.0;
  for (var s = 0u; s < ${splits}u; s++) { sum += scratch[s * ${total}u + e]; }
  out[e] = ${value};
}
`;
  return { code, workgroups: [gx, gy, 1], bindings };
}

/** Overrides of the generator's choices, for tests that must reach every variant on small shapes. */
export interface GemmChoice {
  readonly tiling?: Tiling;
  readonly splits?: number;
  /** Sum each K step apart before adding it to the running sum (default: over K ranges of 512 or more). */
  readonly blocked?: boolean;
  /**
   * Multiply on the adapter's matrix units with f16 operands (`--precision f16`, matmulSubgroup.ts): the f16 × f16
   * → f32 fragment shape it offers. Absent: the fp32 kernel above.
   */
  readonly subgroupMatrix?: SubgroupMatrixShape;
  /** Fragments per subgroup of the matrix-unit kernel (default 2×2). */
  readonly fragments?: SubgroupFragments;
  /** The tiling measured fastest for this problem on this GPU (productTuning.ts), when no `tiling` is forced. */
  readonly tilingFor?: (p: GemmProblem) => Tiling | undefined;
}

/** The passes (and scratch) of one GEMM problem. */
export function gemmKernel(p: GemmProblem, choice: GemmChoice, post?: Epilogue): Kernel {
  const sm = choice.subgroupMatrix;
  const defaultTile = chooseTiling(p);
  const tiling = choice.tiling ?? choice.tilingFor?.(p) ?? defaultTile;
  const fragments = choice.fragments ?? DEFAULT_FRAGMENTS;
  const tile = sm
    ? subgroupTile(sm, fragments)
    : { bm: tileRows(tiling), bn: tileCols(tiling), bk: tiling.bk };
  // The split is the problem's (from its default tile), not the tile's: see PRODUCT_TILINGS.
  const [splitBm, splitBn] = sm ? [tile.bm, tile.bn] : [tileRows(defaultTile), tileCols(defaultTile)];
  const wanted = Math.max(1, choice.splits ?? chooseSplitK(p, splitBm, splitBn));
  // Slices are whole K steps of every tiling (SLICE_QUANTUM); rounding them up can leave fewer than asked for.
  const quantum = sm ? tile.bk : SLICE_QUANTUM;
  const splits = Math.ceil(p.k / (Math.ceil(p.k / wanted / quantum) * quantum));
  const product = (slices: number, after?: Epilogue) =>
    sm
      ? subgroupProductPass(p, sm, fragments, slices, after)
      : productPass(p, tiling, slices, choice.blocked, after);
  const variant = `${sm ? `f16 ${fragments.fm}x${fragments.fn}` : tilingName(tiling)}${splits > 1 ? ` K/${splits}` : ''}`;
  const flops = 2 * p.m * p.n * p.k * numelOf(p.batch);
  if (splits === 1) return { passes: [product(1, post)], variant, flops };
  return {
    passes: [product(splits), splitSumPass(p, splits, post)],
    scratchBytes: [splits * p.m * p.n * numelOf(p.batch) * 4],
    variant,
    flops,
  };
}

/** The operands (A, B and Gemm's C) must be float32; an epilogue's tensors after them may be of any type. */
const requireFloat = (req: KernelRequest, operands: number) => {
  if (req.inputs.slice(0, operands).some((i) => i && i.type !== 'f32') || req.outputs[0]?.type !== 'f32')
    throw new KernelUnsupported(req, 'a product of non-float32 tensors');
};

const numberAttr = (req: KernelRequest, name: string, fallback: number): number => {
  const v = req.attributes[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new KernelUnsupported(req, `attribute ${name}=${JSON.stringify(v)}`);
  return v;
};

/** Row-major element strides of a shape. */
const stridesOf = (shape: readonly number[]): number[] => {
  const out = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) out[d] = out[d + 1]! * shape[d + 1]!;
  return out;
};

/**
 * ONNX MatMul (numpy matmul): rank-1 operands gain a unit axis, batch axes broadcast. The executor may add
 * `transA` / `transB` = 1 (not ONNX attributes of MatMul): the operand is stored with its last two axes swapped,
 * as the Transpose it replaced would have read it (transposeFolding.ts); and `alpha`, a factor on the product
 * (scaleFolding.ts).
 */
export function matMulProblem(req: KernelRequest): GemmProblem {
  requireFloat(req, 2);
  const [ta, tb] = req.inputs;
  if (!ta || !tb) throw new KernelUnsupported(req, 'a missing operand');
  const transA = numberAttr(req, 'transA', 0) !== 0;
  const transB = numberAttr(req, 'transB', 0) !== 0;
  if ((transA && ta.shape.length < 2) || (transB && tb.shape.length < 2))
    throw new KernelUnsupported(req, 'a transposed operand of rank 1');
  const aShape = ta.shape.length === 1 ? [1, ta.shape[0]!] : [...ta.shape];
  const bShape = tb.shape.length === 1 ? [tb.shape[0]!, 1] : [...tb.shape];
  const last2 = (s: number[], swapped: boolean) =>
    swapped ? [s[s.length - 1]!, s[s.length - 2]!] : [s[s.length - 2]!, s[s.length - 1]!];
  const [rows, k] = last2(aShape, transA) as [number, number];
  let m = rows;
  const [kb, n] = last2(bShape, transB) as [number, number];
  if (kb !== k) throw new KernelUnsupported(req, `inner dimensions ${k} and ${kb}`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const aB = pad(aBatch);
  const bB = pad(bBatch);
  let batch = aB.map((x, d) => {
    const y = bB[d]!;
    if (x !== y && x !== 1 && y !== 1) throw new KernelUnsupported(req, `batch axes ${x} and ${y}`);
    return Math.max(x, y);
  });
  const outNumel = numelOf(batch) * m * n;
  if (numelOf(req.outputs[0]!.shape) !== outNumel)
    throw new KernelUnsupported(req, `an output of ${req.outputs[0]!.shape.join('×')} elements`);
  const aStrides = stridesOf(aB).map((s, d) => (aB[d] === 1 ? 0 : s * m * k));
  let bStrides = stridesOf(bB).map((s, d) => (bB[d] === 1 ? 0 : s * k * n));
  let aStridesB = aStrides;
  // A shared B under a batch of A: the batch is just more rows of A (one larger product, better tiles), when
  // those rows are contiguous (A not transposed).
  if (!transA && bStrides.every((s) => s === 0) && batch.every((x, d) => x === aB[d])) {
    m *= numelOf(batch);
    batch = [];
    aStridesB = [];
    bStrides = [];
  }
  const nIn = req.inputs.length;
  return {
    m,
    n,
    k,
    transA,
    transB,
    alpha: numberAttr(req, 'alpha', 1),
    beta: 0,
    batch,
    aBatchStrides: aStridesB,
    bBatchStrides: bStrides,
    bias: null,
    bindings: { a: 0, b: 1, out: nIn, scratch: nIn + 1 },
  };
}

export const matMulKernel = (req: KernelRequest, choice: GemmChoice = {}, post?: Epilogue): Kernel =>
  gemmKernel(matMulProblem(req), choice, post);

/** ONNX Gemm: Y = α·op(A)·op(B) + β·C, A and B of rank 2, C unidirectionally broadcast to [M, N]. */
export function gemmProblem(req: KernelRequest): GemmProblem {
  requireFloat(req, 3);
  const [ta, tb, tc] = req.inputs;
  if (!ta || !tb) throw new KernelUnsupported(req, 'a missing operand');
  if (ta.shape.length !== 2 || tb.shape.length !== 2)
    throw new KernelUnsupported(req, `operands of rank ${ta.shape.length} and ${tb.shape.length}`);
  const transA = numberAttr(req, 'transA', 0) !== 0;
  const transB = numberAttr(req, 'transB', 0) !== 0;
  const alpha = numberAttr(req, 'alpha', 1);
  const beta = numberAttr(req, 'beta', 1);
  const [m, k] = transA ? [ta.shape[1]!, ta.shape[0]!] : [ta.shape[0]!, ta.shape[1]!];
  const [kb, n] = transB ? [tb.shape[1]!, tb.shape[0]!] : [tb.shape[0]!, tb.shape[1]!];
  if (k !== kb) throw new KernelUnsupported(req, `inner dimensions ${k} and ${kb}`);
  let bias: GemmProblem['bias'] = null;
  if (tc) {
    const cs = [...tc.shape];
    if (cs.length > 2) throw new KernelUnsupported(req, `C of rank ${cs.length}`);
    const [rows, cols] = cs.length === 2 ? cs : cs.length === 1 ? [1, cs[0]!] : [1, 1];
    if ((rows !== 1 && rows !== m) || (cols !== 1 && cols !== n))
      throw new KernelUnsupported(req, `C of shape [${cs.join(', ')}] for a [${m}, ${n}] output`);
    bias = { binding: 2, rowStride: rows === 1 ? 0 : cols, colStride: cols === 1 ? 0 : 1 };
  }
  const nIn = req.inputs.length;
  return {
    m,
    n,
    k,
    transA,
    transB,
    alpha,
    beta,
    batch: [],
    aBatchStrides: [],
    bBatchStrides: [],
    bias,
    bindings: { a: 0, b: 1, out: nIn, scratch: nIn + 1 },
  };
}

export const gemmKernelOf = (req: KernelRequest, choice: GemmChoice = {}, post?: Epilogue): Kernel =>
  gemmKernel(gemmProblem(req), choice, post);

/** The GEMM problem of a MatMul or Gemm node. */
export const productProblem = (req: KernelRequest): GemmProblem =>
  req.opType === 'Gemm' ? gemmProblem(req) : matMulProblem(req);

export const matmulKernels: Record<string, KernelGenerator> = {
  MatMul: (req) => matMulKernel(req),
  Gemm: (req) => gemmKernelOf(req),
};
