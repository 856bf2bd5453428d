import { KernelUnsupported, type Kernel, type KernelPass, type KernelRequest } from '../kernel.ts';
import { f32Literal } from './gemmProblem.ts';

/**
 * Causal self-attention as one kernel forward and one backward (FlashAttention's arithmetic, Dao et al. 2022):
 * the [B, H, T, T] scores, probabilities and dropout mask are never stored.
 *
 *   forward   sᵢⱼ = scale·qᵢ·kⱼ (j ≤ i),  Pᵢⱼ = exp(sᵢⱼ − Lᵢ),  Lᵢ = log Σⱼ exp(sᵢⱼ)   (kept: L, [B, H, T])
 *             yᵢ = Σⱼ Pᵢⱼ·wᵢⱼ·vⱼ,   wᵢⱼ = 0 or 1/(1 − p), the dropout mask of ops.ts hashDropoutMask
 *   backward  dvⱼ = Σᵢ Pᵢⱼ·wᵢⱼ·dyᵢ
 *             dSᵢⱼ = Pᵢⱼ·(wᵢⱼ·(dyᵢ·vⱼ) − Dᵢ),  Dᵢ = dyᵢ·yᵢ  (= Σⱼ Pᵢⱼ·wᵢⱼ·(dyᵢ·vⱼ), softmax's Σ dy·y)
 *             dqᵢ = scale·Σⱼ dSᵢⱼ·kⱼ,   dkⱼ = scale·Σᵢ dSᵢⱼ·qᵢ
 *
 * The forward keeps a running maximum and sum per row (online softmax) as it walks the key tiles, so the row's
 * probabilities are made once. Each thread owns one row (a query row, or in the dk/dv passes a key row) and
 * holds its D-vectors in registers (the code is unrolled over D, so they stay registers); tiles of the other
 * side's rows are staged in workgroup memory and read by every thread of the workgroup at the same address (a
 * broadcast). Causality skips the tiles above the diagonal: half the products of the unfused graph.
 * The backward is three passes, each writing its own rows, so no atomics and the same bits every run:
 * dq and D by query rows, then dv, then dk by key rows (dk needs k and v, dv only k: one pass for both would
 * hold four D-vectors per thread). The dropout mask is recomputed from the element's index in [B, H, T, T] with
 * the graph's hash, so it is the mask the unfused graph (and so the CPU) applies.
 *
 * Layout: q, k and v are read where a Linear wrote them, side by side in qkv [B·T, 3C] (head h of q is columns
 * h·D … h·D + D − 1, of k C more, of v 2C more), and y is written with its heads side by side, [B·T, C]: the
 * transposes and the split of the unfused graph are not run either.
 * CausalAttention: qkv [, the dropout step key (u32 scalar)] → y [B·T, C], L [B, H, T]. CausalAttentionGrad: qkv,
 * y, L, dy [, key] → dqkv [B·T, 3C], with D in a scratch buffer. Attributes: heads, seq (T), scale, p, seed. D must
 * be a multiple of 4, at most 128.
 */

/** Rows (threads) per workgroup. */
const ROWS = 64;
/** Workgroup memory every WebGPU adapter offers (the limit's guaranteed minimum). */
const WORKGROUP_BYTES = 16384;

interface AttentionShape {
  readonly b: number;
  readonly h: number;
  readonly t: number;
  /** D/4 and C/4: the head's and a row's vec4s. */
  readonly d4: number;
  readonly c4: number;
  /** Rows of the other side staged per tile (two [BC, D] tiles fit the workgroup memory). */
  readonly bc: number;
  readonly scale: string;
  readonly dropout: { readonly threshold: number; readonly keep: string; readonly seed: number } | null;
}

/** The largest head size the kernels take: each thread holds three D-vectors in registers. */
export const MAX_HEAD_SIZE = 128;

/** Whether attention of this [B, H, T, D] can run fused (the executor keeps the unfused graph otherwise). */
export function attentionFits([b, h, t, d]: readonly [number, number, number, number]): boolean {
  return (
    [b, h, t, d].every((n) => Number.isInteger(n) && n > 0) &&
    d % 4 === 0 &&
    d <= MAX_HEAD_SIZE &&
    b * h <= 65535 &&
    Math.ceil(t / ROWS) <= 65535
  );
}

function shapeOf(req: KernelRequest): AttentionShape {
  const qkv = req.inputs[0];
  const h = Number(req.attributes.heads);
  const t = Number(req.attributes.seq);
  const [rows, width] = qkv?.shape ?? [];
  const b = rows !== undefined ? rows / t : NaN;
  const d = width !== undefined ? width / 3 / h : NaN;
  if (!qkv || qkv.shape.length !== 2 || !attentionFits([b, h, t, d]))
    throw new KernelUnsupported(req, `qkv of shape [${qkv?.shape.join(', ')}] with ${h} heads of ${t} rows`);
  const p = Number(req.attributes.p ?? 0);
  const scale = Number(req.attributes.scale);
  if (!Number.isFinite(scale)) throw new KernelUnsupported(req, 'a missing scale');
  return {
    b,
    h,
    t,
    d4: d / 4,
    c4: (h * d) / 4,
    bc: Math.min(ROWS, Math.floor(WORKGROUP_BYTES / (2 * d * 4))),
    scale: f32Literal(scale),
    dropout:
      p > 0
        ? {
            // ops.ts hashDropoutMask: dropped when the hash is below ⌈p·2³²⌉; kept elements scaled by 1/(1 − p)
            threshold: Math.min(2 ** 32 - 1, Math.ceil(p * 2 ** 32)),
            keep: f32Literal(1 / (1 - p)),
            seed: Number(req.attributes.seed) >>> 0,
          }
        : null,
  };
}

/**
 * WGSL of the first vec4 of row `r` (sequence position) of the preamble's head: in qkv, of part 0 (q), 1 (k) or
 * 2 (v); or in a [B·T, C] tensor (y, dy) for 'row'.
 */
const rowOf = (c: AttentionShape, part: 0 | 1 | 2 | 'row', r: string): string =>
  part === 'row'
    ? `(bIdx * ${c.t}u + ${r}) * ${c.c4}u + hIdx * ${c.d4}u`
    : `(bIdx * ${c.t}u + ${r}) * ${3 * c.c4}u + ${part * c.c4}u + hIdx * ${c.d4}u`;

const each = (n: number, line: (d: number) => string, sep = '\n  '): string =>
  Array.from({ length: n }, (_, d) => line(d)).join(sep);

/** Σ over the D-vector of dot(a_d, tile[at + d]): the unrolled dot product of a register row with a staged row. */
const dotRow = (c: AttentionShape, reg: string, tile: string, at: string): string =>
  each(c.d4, (d) => `dot(${reg}${d}, ${tile}[${at} + ${d}u])`, ' + ');

/** The dropout weight wᵢⱼ of element `index` of [B, H, T, T]: ops.ts hashDropoutMask, step for step. */
function maskCode(c: AttentionShape, keyBinding: number): { declarations: string; init: string } {
  if (!c.dropout) return { declarations: '', init: '' };
  return {
    declarations: `@group(0) @binding(${keyBinding}) var<storage, read> stepKey: array<u32>;
var<private> hashBase: u32;
fn maskWeight(index: u32) -> f32 {
  var h = index + hashBase;
  h = h + (h >> 16u);
  h = h * 0x85ebca6bu;
  h = h + (h >> 13u);
  h = h * (h + h + 1u);
  return select(${c.dropout.keep}, 0.0, h < ${c.dropout.threshold}u);
}`,
    init: `hashBase = stepKey[0] * 0x9e3779b1u + ${c.dropout.seed}u;`,
  };
}

/** Code staging rows [t0, t0 + BC) of the head from one or two tensors into workgroup tiles (zeros past T). */
function stageTiles(
  c: AttentionShape,
  tiles: readonly { readonly tile: string; readonly src: string; readonly part: 0 | 1 | 2 | 'row' }[],
): string {
  const loads = tiles.map(({ tile }) => `var ${tile}x = vec4<f32>(0.0);`).join(' ');
  const reads = tiles
    .map(({ tile, src, part }) => `${tile}x = ${src}[${rowOf(c, part, 'r')} + e % ${c.d4}u];`)
    .join(' ');
  const stores = tiles.map(({ tile }) => `${tile}[e] = ${tile}x;`).join(' ');
  return `for (var e = lid; e < ${c.bc * c.d4}u; e += ${ROWS}u) {
      let r = t0 + e / ${c.d4}u;
      ${loads}
      if (r < ${c.t}u) { ${reads} }
      ${stores}
    }`;
}

const tileDeclarations = (c: AttentionShape, names: readonly string[]): string =>
  names.map((n) => `var<workgroup> ${n}: array<vec4<f32>, ${c.bc * c.d4}>;`).join('\n');

const binding = (n: number, name: string, type: string, access: 'read' | 'read_write' = 'read') =>
  `@group(0) @binding(${n}) var<storage, ${access}> ${name}: array<${type}>;`;

const entry = `@compute @workgroup_size(${ROWS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;

/** Preamble of a pass whose thread owns row `row0 + lid` (its copy clamped into range: `ownRow`) of head `wg.y`. */
const ownRow = (c: AttentionShape, mask: { init: string }) => `${mask.init}
  let bh = wg.y;
  let bIdx = bh / ${c.h}u;
  let hIdx = bh % ${c.h}u;
  let row0 = wg.x * ${ROWS}u;
  let own = row0 + lid;
  let live = own < ${c.t}u;
  let ownRow = min(own, ${c.t - 1}u);`;

/**
 * The walk of a query-row pass over the key tiles: keys up to the workgroup's last row (the tiles above the diagonal
 * are skipped), staged with their values; `body` runs for each key jj ≤ own of the tile (its row at `at`).
 */
const keyTileWalk = (c: AttentionShape, body: string): string => `let end = min(${c.t}u, row0 + ${ROWS}u);
  for (var t0 = 0u; t0 < end; t0 += ${c.bc}u) {
    ${stageTiles(c, [
      { tile: 'ks', src: 'qkv', part: 1 },
      { tile: 'vs', src: 'qkv', part: 2 },
    ])}
    workgroupBarrier();
    if (live && own >= t0) {
      let n = min(${c.bc}u, own - t0 + 1u);
      for (var jj = 0u; jj < n; jj++) {
        let at = jj * ${c.d4}u;
        ${body}
      }
    }
    workgroupBarrier();
  }`;

const workgroups = (c: AttentionShape): [number, number, number] => [Math.ceil(c.t / ROWS), c.b * c.h, 1];

/** Registers `${reg}0 …` holding the D-vector of the own row of a tensor (a part of qkv, or 'row' of y/dy). */
const loadOwn = (c: AttentionShape, reg: string, src: string, part: 0 | 1 | 2 | 'row'): string =>
  `let ${reg}At = ${rowOf(c, part, 'ownRow')};
  ${each(c.d4, (d) => `let ${reg}${d} = ${src}[${reg}At + ${d}u];`)}`;

/** Forward: bindings qkv 0, [key 1], then y, L. */
function forwardPass(c: AttentionShape): KernelPass {
  const key = c.dropout ? 1 : -1;
  const y = c.dropout ? 2 : 1;
  const mask = maskCode(c, key);
  const weight = c.dropout ? `e * maskWeight((bh * ${c.t}u + own) * ${c.t}u + t0 + jj)` : 'e';
  const code = `${binding(0, 'qkv', 'vec4<f32>')}
${binding(y, 'y', 'vec4<f32>', 'read_write')}
${binding(y + 1, 'lse', 'f32', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['ks', 'vs'])}
${entry} {
  ${ownRow(c, mask)}
  ${loadOwn(c, 'q', 'qkv', 0)}
  ${each(c.d4, (d) => `var o${d} = vec4<f32>(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;
  ${keyTileWalk(
    c,
    `let s = (${dotRow(c, 'q', 'ks', 'at')}) * ${c.scale};
    if (s > m) {
      // a new maximum: rescale what was summed under the old one
      let r = exp(m - s);
      l = l * r;
      ${each(c.d4, (d) => `o${d} = o${d} * r;`, '\n          ')}
      m = s;
    }
    let e = exp(s - m);
    l = l + e;
    let w = ${weight};
    ${each(c.d4, (d) => `o${d} = o${d} + w * vs[at + ${d}u];`, '\n        ')}`,
  )}
  if (live) {
    let inv = 1.0 / l;
    let yAt = ${rowOf(c, 'row', 'own')};
    ${each(c.d4, (d) => `y[yAt + ${d}u] = o${d} * inv;`, '\n    ')}
    lse[bh * ${c.t}u + own] = m + log(l);
  }
}`;
  const bindings = [0, ...(c.dropout ? [key] : []), y, y + 1];
  return { code, workgroups: workgroups(c), bindings };
}

/** Bindings of the backward: qkv 0, y 1, L 2, dy 3, [key 4], then dqkv, then the scratch D. */
function gradBindings(c: AttentionShape) {
  const key = c.dropout ? 4 : -1;
  const dqkv = c.dropout ? 5 : 4;
  return { key, dqkv, dScratch: dqkv + 1 };
}

/** dq and D, by query rows: the forward's walk over the key tiles, with P recomputed from L. */
function dqPass(c: AttentionShape): KernelPass {
  const b = gradBindings(c);
  const mask = maskCode(c, b.key);
  const weight = c.dropout ? `maskWeight((bh * ${c.t}u + own) * ${c.t}u + t0 + jj)` : '1.0';
  const code = `${binding(0, 'qkv', 'vec4<f32>')}
${binding(1, 'y', 'vec4<f32>')}
${binding(2, 'lse', 'f32')}
${binding(3, 'dy', 'vec4<f32>')}
${binding(b.dqkv, 'dqkv', 'vec4<f32>', 'read_write')}
${binding(b.dScratch, 'dsum', 'f32', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['ks', 'vs'])}
${entry} {
  ${ownRow(c, mask)}
  ${loadOwn(c, 'q', 'qkv', 0)}
  ${loadOwn(c, 'g', 'dy', 'row')}
  ${each(c.d4, (d) => `var a${d} = vec4<f32>(0.0);`)}
  let rowL = lse[bh * ${c.t}u + ownRow];
  let rowD = ${each(c.d4, (d) => `dot(g${d}, y[gAt + ${d}u])`, ' + ')};
  ${keyTileWalk(
    c,
    `let p = exp((${dotRow(c, 'q', 'ks', 'at')}) * ${c.scale} - rowL);
    let dp = (${dotRow(c, 'g', 'vs', 'at')}) * ${weight};
    let ds = p * (dp - rowD);
    ${each(c.d4, (d) => `a${d} = a${d} + ds * ks[at + ${d}u];`, '\n        ')}`,
  )}
  if (live) {
    ${each(c.d4, (d) => `dqkv[qAt + ${d}u] = a${d} * ${c.scale};`, '\n    ')}
    dsum[bh * ${c.t}u + own] = rowD;
  }
}`;
  const bindings = [0, 1, 2, 3, ...(c.dropout ? [b.key] : []), b.dqkv, b.dScratch];
  return { code, workgroups: workgroups(c), bindings };
}

/** dv (`which` 'dv') or dk ('dk'), by key rows: a walk over the query tiles at and below the diagonal. */
function keyRowPass(c: AttentionShape, which: 'dk' | 'dv'): KernelPass {
  const b = gradBindings(c);
  const mask = maskCode(c, b.key);
  const weight = c.dropout ? `maskWeight((bh * ${c.t}u + i) * ${c.t}u + own)` : '1.0';
  const probability = `let p = exp((${dotRow(c, 'k', 'qs', 'at')}) * ${c.scale} - lse[bh * ${c.t}u + i]);`;
  const body =
    which === 'dv'
      ? // dvⱼ += Pᵢⱼ·wᵢⱼ·dyᵢ
        `${probability}
        let pw = p * ${weight};
        ${each(c.d4, (d) => `a${d} = a${d} + pw * gs[at + ${d}u];`, '\n        ')}`
      : // dkⱼ += dSᵢⱼ·qᵢ,  dSᵢⱼ = Pᵢⱼ·(wᵢⱼ·(dyᵢ·vⱼ) − Dᵢ)
        `${probability}
        let dp = (${dotRow(c, 'v', 'gs', 'at')}) * ${weight};
        let ds = p * (dp - dsum[bh * ${c.t}u + i]);
        ${each(c.d4, (d) => `a${d} = a${d} + ds * qs[at + ${d}u];`, '\n        ')}`;
  const code = `${binding(0, 'qkv', 'vec4<f32>')}
${binding(2, 'lse', 'f32')}
${binding(3, 'dy', 'vec4<f32>')}
${which === 'dk' ? binding(b.dScratch, 'dsum', 'f32', 'read_write') : ''}
${binding(b.dqkv, 'dqkv', 'vec4<f32>', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['qs', 'gs'])}
${entry} {
  ${ownRow(c, mask)}
  ${loadOwn(c, 'k', 'qkv', 1)}
  ${which === 'dk' ? loadOwn(c, 'v', 'qkv', 2) : ''}
  ${each(c.d4, (d) => `var a${d} = vec4<f32>(0.0);`)}
  // queries from the workgroup's first key row on: the tiles above the diagonal are skipped
  for (var t0 = row0; t0 < ${c.t}u; t0 += ${c.bc}u) {
    ${stageTiles(c, [
      { tile: 'qs', src: 'qkv', part: 0 },
      { tile: 'gs', src: 'dy', part: 'row' },
    ])}
    workgroupBarrier();
    if (live) {
      let n = min(${c.bc}u, ${c.t}u - t0);
      for (var ii = select(0u, own - t0, own > t0); ii < n; ii++) {
        let i = t0 + ii;
        let at = ii * ${c.d4}u;
        ${body}
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let outAt = ${rowOf(c, which === 'dk' ? 1 : 2, 'own')};
    ${each(c.d4, (d) => `dqkv[outAt + ${d}u] = a${d}${which === 'dk' ? ` * ${c.scale}` : ''};`, '\n    ')}
  }
}`;
  const bindings = [0, 2, 3, ...(c.dropout ? [b.key] : []), ...(which === 'dk' ? [b.dScratch] : []), b.dqkv];
  return { code, workgroups: workgroups(c), bindings };
}

/**
 * FLOPs of `products` D-long products per (query, key) pair at or below the diagonal: 2·D each. The forward makes
 * two per pair (q·k, then P·v); the backward eight, as its passes run them: q·k, dy·v and dS·k for dq; k·q and
 * P·dy for dv; k·q, v·dy and dS·q for dk (five products of the math, the scores recomputed three times).
 */
const causalFlops = (c: AttentionShape, products: number): number =>
  ((c.b * c.h * c.t * (c.t + 1)) / 2) * products * 2 * c.d4 * 4;

/** CausalAttention: qkv [, key] → y, L. */
export function causalAttentionKernel(req: KernelRequest): Kernel {
  const c = shapeOf(req);
  return { passes: [forwardPass(c)], flops: causalFlops(c, 2) };
}

/** CausalAttentionGrad: qkv, y, L, dy [, key] → dqkv (its q, v and k thirds by the three passes). */
export function causalAttentionGradKernel(req: KernelRequest): Kernel {
  const c = shapeOf(req);
  return {
    passes: [dqPass(c), keyRowPass(c, 'dv'), keyRowPass(c, 'dk')],
    scratchBytes: [c.b * c.h * c.t * 4],
    flops: causalFlops(c, 8),
  };
}
