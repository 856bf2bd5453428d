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
 * Inputs: q, k, v [B, H, T, D] (D a multiple of 4, at most 128) and, with dropout, the step key (u32 scalar).
 * CausalAttention outputs y [B, H, T, D] and L [B, H, T]; CausalAttentionGrad reads q, k, v, y, L, dy (and the
 * key) and outputs dq, dk, dv, with D in a scratch buffer.
 */

/** Rows (threads) per workgroup. */
const ROWS = 64;
/** Workgroup memory every WebGPU adapter offers (the limit's guaranteed minimum). */
const WORKGROUP_BYTES = 16384;

interface AttentionShape {
  readonly bh: number;
  readonly t: number;
  readonly d4: number;
  /** Rows of the other side staged per tile (two [BC, D] tiles fit the workgroup memory). */
  readonly bc: number;
  readonly scale: string;
  readonly dropout: { readonly threshold: number; readonly keep: string; readonly seed: number } | null;
}

/** The largest head size the kernels take: each thread holds three D-vectors in registers. */
export const MAX_HEAD_SIZE = 128;

/** Whether q, k, v of this shape can run fused (the executor keeps the unfused graph otherwise). */
export function attentionFits(shape: readonly number[]): boolean {
  if (shape.length !== 4) return false;
  const [b, h, t, d] = shape as [number, number, number, number];
  return d % 4 === 0 && d <= MAX_HEAD_SIZE && b * h <= 65535 && Math.ceil(t / ROWS) <= 65535;
}

function shapeOf(req: KernelRequest): AttentionShape {
  const q = req.inputs[0];
  if (!q || !attentionFits(q.shape)) throw new KernelUnsupported(req, `q of shape [${q?.shape.join(', ')}]`);
  const [b, h, t, d] = q.shape as [number, number, number, number];
  const p = Number(req.attributes.p ?? 0);
  const scale = Number(req.attributes.scale);
  if (!Number.isFinite(scale)) throw new KernelUnsupported(req, 'a missing scale');
  return {
    bh: b * h,
    t,
    d4: d / 4,
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

/** Code staging rows [t0, t0 + BC) of one or two [B, H, T, D] tensors into workgroup tiles (zeros past T). */
function stageTiles(c: AttentionShape, pairs: readonly (readonly [string, string])[]): string {
  const loads = pairs.map(([src]) => `var ${src}x = vec4<f32>(0.0);`).join(' ');
  const reads = pairs.map(([src]) => `${src}x = ${src}[tileBase + r * ${c.d4}u + e % ${c.d4}u];`).join(' ');
  const stores = pairs.map(([src, tile]) => `${tile}[e] = ${src}x;`).join(' ');
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

/** Preamble of a pass whose thread owns row `row0 + lid` of head `wg.y`. */
const ownRow = (c: AttentionShape, mask: { init: string }) => `${mask.init}
  let bh = wg.y;
  let row0 = wg.x * ${ROWS}u;
  let own = row0 + lid;
  let live = own < ${c.t}u;
  let ownAt = (bh * ${c.t}u + min(own, ${c.t - 1}u)) * ${c.d4}u;
  let tileBase = bh * ${c.t * c.d4}u;`;

/**
 * The walk of a query-row pass over the key tiles: keys up to the workgroup's last row (the tiles above the diagonal
 * are skipped), staged with their values; `body` runs for each key jj ≤ own of the tile (its row at `at`).
 */
const keyTileWalk = (c: AttentionShape, body: string): string => `let end = min(${c.t}u, row0 + ${ROWS}u);
  for (var t0 = 0u; t0 < end; t0 += ${c.bc}u) {
    ${stageTiles(c, [
      ['k', 'ks'],
      ['v', 'vs'],
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

const workgroups = (c: AttentionShape): [number, number, number] => [Math.ceil(c.t / ROWS), c.bh, 1];

/** Forward: bindings q 0, k 1, v 2, [key 3], then y, L. */
function forwardPass(c: AttentionShape): KernelPass {
  const key = c.dropout ? 3 : -1;
  const y = c.dropout ? 4 : 3;
  const mask = maskCode(c, key);
  const weight = c.dropout ? `e * maskWeight((bh * ${c.t}u + own) * ${c.t}u + t0 + jj)` : 'e';
  const code = `${binding(0, 'q', 'vec4<f32>')}
${binding(1, 'k', 'vec4<f32>')}
${binding(2, 'v', 'vec4<f32>')}
${binding(y, 'y', 'vec4<f32>', 'read_write')}
${binding(y + 1, 'lse', 'f32', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['ks', 'vs'])}
${entry} {
  ${ownRow(c, mask)}
  ${each(c.d4, (d) => `let q${d} = q[ownAt + ${d}u];`)}
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
    ${each(c.d4, (d) => `y[ownAt + ${d}u] = o${d} * inv;`, '\n    ')}
    lse[bh * ${c.t}u + own] = m + log(l);
  }
}`;
  const bindings = [0, 1, 2, ...(c.dropout ? [key] : []), y, y + 1];
  return { code, workgroups: workgroups(c), bindings };
}

/** Bindings of the backward: q 0, k 1, v 2, y 3, L 4, dy 5, [key 6], then dq, dk, dv, then the scratch D. */
function gradBindings(c: AttentionShape) {
  const key = c.dropout ? 6 : -1;
  const dq = c.dropout ? 7 : 6;
  return { key, dq, dk: dq + 1, dv: dq + 2, dScratch: dq + 3 };
}

/** dq and D, by query rows: the forward's walk over the key tiles, with P recomputed from L. */
function dqPass(c: AttentionShape): KernelPass {
  const b = gradBindings(c);
  const mask = maskCode(c, b.key);
  const weight = c.dropout ? `maskWeight((bh * ${c.t}u + own) * ${c.t}u + t0 + jj)` : '1.0';
  const code = `${binding(0, 'q', 'vec4<f32>')}
${binding(1, 'k', 'vec4<f32>')}
${binding(2, 'v', 'vec4<f32>')}
${binding(3, 'y', 'vec4<f32>')}
${binding(4, 'lse', 'f32')}
${binding(5, 'dy', 'vec4<f32>')}
${binding(b.dq, 'dq', 'vec4<f32>', 'read_write')}
${binding(b.dScratch, 'dsum', 'f32', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['ks', 'vs'])}
${entry} {
  ${ownRow(c, mask)}
  ${each(c.d4, (d) => `let q${d} = q[ownAt + ${d}u];`)}
  ${each(c.d4, (d) => `let g${d} = dy[ownAt + ${d}u];`)}
  ${each(c.d4, (d) => `var a${d} = vec4<f32>(0.0);`)}
  let rowL = lse[bh * ${c.t}u + min(own, ${c.t - 1}u)];
  let rowD = ${each(c.d4, (d) => `dot(g${d}, y[ownAt + ${d}u])`, ' + ')};
  ${keyTileWalk(
    c,
    `let p = exp((${dotRow(c, 'q', 'ks', 'at')}) * ${c.scale} - rowL);
    let dp = (${dotRow(c, 'g', 'vs', 'at')}) * ${weight};
    let ds = p * (dp - rowD);
    ${each(c.d4, (d) => `a${d} = a${d} + ds * ks[at + ${d}u];`, '\n        ')}`,
  )}
  if (live) {
    ${each(c.d4, (d) => `dq[ownAt + ${d}u] = a${d} * ${c.scale};`, '\n    ')}
    dsum[bh * ${c.t}u + own] = rowD;
  }
}`;
  const bindings = [0, 1, 2, 3, 4, 5, ...(c.dropout ? [b.key] : []), b.dq, b.dScratch];
  return { code, workgroups: workgroups(c), bindings };
}

/** dv (`which` 'dv') or dk ('dk'), by key rows: a walk over the query tiles at and below the diagonal. */
function keyRowPass(c: AttentionShape, which: 'dk' | 'dv'): KernelPass {
  const b = gradBindings(c);
  const mask = maskCode(c, b.key);
  const weight = c.dropout ? `maskWeight((bh * ${c.t}u + i) * ${c.t}u + own)` : '1.0';
  const out = which === 'dk' ? b.dk : b.dv;
  const body =
    which === 'dv'
      ? // dvⱼ += Pᵢⱼ·wᵢⱼ·dyᵢ
        `let p = exp((${dotRow(c, 'k', 'qs', 'at')}) * ${c.scale} - lse[bh * ${c.t}u + i]);
        let pw = p * ${weight};
        ${each(c.d4, (d) => `a${d} = a${d} + pw * gs[at + ${d}u];`, '\n        ')}`
      : // dkⱼ += dSᵢⱼ·qᵢ,  dSᵢⱼ = Pᵢⱼ·(wᵢⱼ·(dyᵢ·vⱼ) − Dᵢ)
        `let p = exp((${dotRow(c, 'k', 'qs', 'at')}) * ${c.scale} - lse[bh * ${c.t}u + i]);
        let dp = (${dotRow(c, 'v', 'gs', 'at')}) * ${weight};
        let ds = p * (dp - dsum[bh * ${c.t}u + i]);
        ${each(c.d4, (d) => `a${d} = a${d} + ds * qs[at + ${d}u];`, '\n        ')}`;
  const code = `${binding(0, 'q', 'vec4<f32>')}
${binding(4, 'lse', 'f32')}
${binding(5, 'dy', 'vec4<f32>')}
${binding(1, 'k', 'vec4<f32>')}
${which === 'dk' ? binding(2, 'v', 'vec4<f32>') : ''}
${which === 'dk' ? binding(b.dScratch, 'dsum', 'f32', 'read_write') : ''}
${binding(out, 'grad', 'vec4<f32>', 'read_write')}
${mask.declarations}
${tileDeclarations(c, ['qs', 'gs'])}
${entry} {
  ${ownRow(c, mask)}
  ${each(c.d4, (d) => `let k${d} = k[ownAt + ${d}u];`)}
  ${which === 'dk' ? each(c.d4, (d) => `let v${d} = v[ownAt + ${d}u];`) : ''}
  ${each(c.d4, (d) => `var a${d} = vec4<f32>(0.0);`)}
  // queries from the workgroup's first key row on: the tiles above the diagonal are skipped
  for (var t0 = row0; t0 < ${c.t}u; t0 += ${c.bc}u) {
    ${stageTiles(c, [
      ['q', 'qs'],
      ['dy', 'gs'],
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
    ${each(c.d4, (d) => `grad[ownAt + ${d}u] = a${d}${which === 'dk' ? ` * ${c.scale}` : ''};`, '\n    ')}
  }
}`;
  const bindings = [
    0,
    1,
    4,
    5,
    ...(which === 'dk' ? [2] : []),
    ...(c.dropout ? [b.key] : []),
    ...(which === 'dk' ? [b.dScratch] : []),
    out,
  ];
  return { code, workgroups: workgroups(c), bindings };
}

/** CausalAttention: q, k, v [, key] → y, L. */
export function causalAttentionKernel(req: KernelRequest): Kernel {
  return { passes: [forwardPass(shapeOf(req))] };
}

/** CausalAttentionGrad: q, k, v, y, L, dy [, key] → dq, dk, dv. */
export function causalAttentionGradKernel(req: KernelRequest): Kernel {
  const c = shapeOf(req);
  return {
    passes: [dqPass(c), keyRowPass(c, 'dv'), keyRowPass(c, 'dk')],
    scratchBytes: [c.bh * c.t * 4],
  };
}
