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

/**
 * Reductions (ReduceSum, ReduceMean, ReduceMax, ReduceSumSquare) and the row-wise kernels built from
 * one (Softmax, LayerNormalization). All deterministic: every sum is taken in a fixed order (each thread a
 * fixed stride of the row, then a fixed tree over the workgroup), with no atomics.
 *
 * A reduction over trailing axes is a reduction of rows: one workgroup per row, or, when there are few long
 * rows (a gradient norm over every parameter: one row of 10⁷–10⁸ elements), several passes through scratch
 * buffers, each workgroup reducing a chunk of a row to one partial. Over any other axes one thread per output
 * element walks its elements.
 */

type ReduceKind = 'sum' | 'mean' | 'max' | 'sumSquare';

/** −FLT_MAX: WGSL has no infinite literals, so a row of −∞ reduces to −FLT_MAX under ReduceMax. */
const LOWEST = '-0x1.fffffep+127f';

const identityOf = (kind: ReduceKind) => (kind === 'max' ? LOWEST : '0.0');
const combineOf = (kind: ReduceKind) => (a: string, b: string) =>
  kind === 'max' ? `max(${a}, ${b})` : `${a} + ${b}`;

/** Threads per workgroup for rows of this length: enough for a few elements each, at most 256. */
const workgroupFor = (len: number) => (len >= 2048 ? 256 : len >= 512 ? 128 : 64);

/** WGSL of a workgroup reduction `fn name(v, lid) -> f32` over `size` threads (a fixed tree: deterministic). */
function workgroupReduce(name: string, size: number, combine: (a: string, b: string) => string): string {
  return /* wgsl */ `
var<workgroup> ${name}_shared: array<f32, ${size}>;
fn ${name}(v: f32, lid: u32) -> f32 {
  ${name}_shared[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_shared[lid] = ${combine(`${name}_shared[lid]`, `${name}_shared[lid + s]`)}; }
    workgroupBarrier();
  }
  let r = ${name}_shared[0];
  workgroupBarrier();
  return r;
}`;
}

/** The flat index of this workgroup under a `spread` dispatch. */
const groupIndex = (gx: number) => `(wid.y * ${gx}u + wid.x)`;

/** Minimum chunk a workgroup reduces when rows are split across workgroups. */
const CHUNK = 256 * 32;

interface RowPass {
  readonly src: number;
  readonly dst: number;
  readonly rows: number;
  readonly len: number;
  /** Partials per row this pass leaves (1: the final value). */
  readonly parts: number;
  /** Maps each element before it is combined (x² for ReduceSumSquare's first pass). */
  readonly map: (x: string) => string;
  /** Applied to the row's result before it is written (÷n for ReduceMean's last pass). */
  readonly finish: (x: string) => string;
}

function rowReducePass(kind: ReduceKind, p: RowPass): KernelPass {
  const chunk = Math.ceil(p.len / p.parts);
  const wg = workgroupFor(chunk);
  const groups = p.rows * p.parts;
  const [gx, gy] = spread(groups);
  const combine = combineOf(kind);
  const code = /* wgsl */ `
// out[row, part] = ${kind === 'max' ? 'max' : 'Σ'}_i f(x[row, part·${chunk} + i]), i < ${chunk}
@group(0) @binding(${p.src}) var<storage, read> x: array<f32>;
@group(0) @binding(${p.dst}) var<storage, read_write> y: array<f32>;
${workgroupReduce('reduce', wg, combine)}

@compute @workgroup_size(${wg}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = ${groupIndex(gx)};
  if (g >= ${groups}u) { return; }
  let row = g / ${p.parts}u;
  let begin = (g % ${p.parts}u) * ${chunk}u;
  let end = min(begin + ${chunk}u, ${p.len}u);
  var acc = ${identityOf(kind)};
  for (var i = begin + lid; i < end; i += ${wg}u) {
    let v = x[row * ${p.len}u + i];
    acc = ${combine('acc', p.map('v'))};
  }
  let r = reduce(acc, lid);
  if (lid == 0u) { y[g] = ${p.finish('r')}; }
}
`;
  return { code, workgroups: [gx, gy, 1], bindings: [p.src, p.dst] };
}

/**
 * Rows of `len` reduced to one value each: one pass when each row's workgroup has enough to do, else a
 * tree of passes through two scratch buffers used in turn (each level cuts a row to ⌈len / CHUNK⌉ partials).
 */
function rowReduceKernel(
  kind: ReduceKind,
  rows: number,
  len: number,
  src: number,
  dst: number,
  scratch: number,
): Kernel {
  const map = kind === 'sumSquare' ? (v: string) => `${v} * ${v}` : (v: string) => v;
  const finish = kind === 'mean' ? (v: string) => `${v} * ${1 / len}` : (v: string) => v;
  const passes: KernelPass[] = [];
  const scratchBytes = [0, 0];
  let from = src;
  let curLen = len;
  let first = true;
  // Few long rows: split them until one workgroup per row is enough (by then rows·len is small).
  while (curLen > CHUNK && rows < 4096) {
    const parts = Math.ceil(curLen / CHUNK);
    const slot = passes.length % 2;
    const to = scratch + slot;
    scratchBytes[slot] = Math.max(scratchBytes[slot]!, rows * parts * 4);
    passes.push(
      rowReducePass(kind, {
        src: from,
        dst: to,
        rows,
        len: curLen,
        parts,
        map: first ? map : (v) => v,
        finish: (v) => v,
      }),
    );
    first = false;
    from = to;
    curLen = parts;
  }
  passes.push(
    rowReducePass(kind, {
      src: from,
      dst,
      rows,
      len: curLen,
      parts: 1,
      map: first ? map : (v) => v,
      finish,
    }),
  );
  const used = scratchBytes.filter((b) => b > 0);
  return used.length ? { passes, scratchBytes: used } : { passes };
}

/** Shape merged into runs of adjacent axes that are all reduced or all kept. */
function mergeAxes(shape: readonly number[], reduced: ReadonlySet<number>) {
  const runs: { size: number; reduced: boolean }[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const r = reduced.has(d);
    const last = runs[runs.length - 1];
    if (last && last.reduced === r) last.size *= size;
    else runs.push({ size, reduced: r });
  });
  let stride = 1;
  const withStrides = runs.reverse().map((run) => {
    const s = { ...run, stride };
    stride *= run.size;
    return s;
  });
  return withStrides.reverse();
}

/**
 * Any reduction: one thread per output element walks its elements. When there are few outputs over long
 * walks (a column sum over B·T rows: C threads, far too few for a GPU) the walk is cut into parts, each
 * part's result goes to scratch, and a second pass combines the parts of each output in order.
 */
function stridedReduceKernel(
  kind: ReduceKind,
  runs: ReturnType<typeof mergeAxes>,
  inputNumel: number,
  src: number,
  dst: number,
  scratch: number,
): Kernel {
  const kept = runs.filter((r) => !r.reduced);
  const reduced = runs.filter((r) => r.reduced);
  const outputs = numelOf(kept.map((r) => r.size));
  const count = numelOf(reduced.map((r) => r.size));
  const combine = combineOf(kind);
  const wanted =
    outputs < 32768 && count >= 1024 ? Math.min(Math.ceil(count / 256), Math.ceil(65536 / outputs)) : 1;
  const chunk = Math.ceil(count / wanted);
  const parts = Math.ceil(count / chunk);
  const decompose = (index: string, dims: typeof runs, into: string, from: string) => {
    const lines = [`var ${into} = ${from};`, `{ var q = ${index};`];
    for (let d = dims.length - 1; d >= 0; d--) {
      lines.push(`${into} += (q % ${dims[d]!.size}u) * ${dims[d]!.stride}u; q = q / ${dims[d]!.size}u;`);
    }
    lines.push('}');
    return lines.join(' ');
  };
  const offset =
    reduced.length === 1
      ? `let at = base + r * ${reduced[0]!.stride}u;`
      : decompose('r', reduced, 'at', 'base');
  const value = kind === 'sumSquare' ? 'v * v' : 'v';
  const finish = (v: string) => (kind === 'mean' ? `${v} * ${1 / count}` : v);
  const threads = outputs * parts;
  const [gx, gy] = spread(Math.ceil(threads / 64));
  const split = parts > 1;
  const target = split ? scratch : dst;
  const walk = /* wgsl */ `
// ${split ? `part p of` : ''} y[o] = ${kind === 'max' ? 'max' : 'Σ'}_r f(x[o, r]) over ${count} elements${split ? ` (${parts} parts of ${chunk})` : ''}, x of ${inputNumel}
@group(0) @binding(${src}) var<storage, read> x: array<f32>;
@group(0) @binding(${target}) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = ${groupIndex(gx)} * 64u + lid;
  if (g >= ${threads}u) { return; }
  let o = g % ${outputs}u;
  let begin = (g / ${outputs}u) * ${chunk}u;
  let end = min(begin + ${chunk}u, ${count}u);
  ${kept.length ? decompose('o', kept, 'base', '0u') : 'let base = 0u;'}
  var acc = ${identityOf(kind)};
  for (var r = begin; r < end; r++) {
    ${offset}
    let v = x[at];
    acc = ${combine('acc', value)};
  }
  y[g] = ${split ? 'acc' : finish('acc')};
}
`;
  const first: KernelPass = { code: walk, workgroups: [gx, gy, 1], bindings: [src, target] };
  if (!split) return { passes: [first] };
  const [hx, hy] = spread(Math.ceil(outputs / 64));
  const gather = /* wgsl */ `
// y[o] = ${kind === 'max' ? 'max' : 'Σ'}_p part[p, o], p in order
@group(0) @binding(${scratch}) var<storage, read_write> part: array<f32>;
@group(0) @binding(${dst}) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = ${groupIndex(hx)} * 64u + lid;
  if (o >= ${outputs}u) { return; }
  var acc = ${identityOf(kind)};
  for (var p = 0u; p < ${parts}u; p++) { acc = ${combine('acc', `part[p * ${outputs}u + o]`)}; }
  y[o] = ${finish('acc')};
}
`;
  return {
    passes: [first, { code: gather, workgroups: [hx, hy, 1], bindings: [scratch, dst] }],
    scratchBytes: [threads * 4],
  };
}

/** out = f(x) elementwise: ReduceX with noop_with_empty_axes and no axes. */
function mapKernel(numel: number, expr: string, src: number, dst: number): Kernel {
  const [gx, gy] = spread(Math.ceil(numel / 256));
  const code = /* wgsl */ `
@group(0) @binding(${src}) var<storage, read> x: array<f32>;
@group(0) @binding(${dst}) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = ${groupIndex(gx)} * 256u + lid;
  if (i >= ${numel}u) { return; }
  let v = x[i];
  y[i] = ${expr};
}
`;
  return { passes: [{ code, workgroups: [gx, gy, 1], bindings: [src, dst] }] };
}

const numberAttr = (req: KernelRequest, name: string, fallback: number): number => {
  const v = req.attributes[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new KernelUnsupported(req, `attribute ${name}=${JSON.stringify(v)}`);
  return v;
};

const normalizeAxis = (req: KernelRequest, axis: number, rank: number) => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1))
    throw new KernelUnsupported(req, `axis ${axis} of a rank-${rank} tensor`);
  return a;
};

const requireFloat = (req: KernelRequest) => {
  if (req.inputs[0]?.type !== 'f32' || req.outputs.some((o) => o.type !== 'f32'))
    throw new KernelUnsupported(req, 'a non-float32 tensor');
};

/** The axes of a Reduce node: the second input (opset 18) or the `axes` attribute (older opsets). */
function reduceAxes(req: KernelRequest): number[] | null {
  if (req.inputs[1]) {
    const c = req.constants[1];
    if (!c) throw new KernelUnsupported(req, 'axes computed at run time');
    return [...c];
  }
  const attr = req.attributes.axes;
  if (attr === undefined) return null;
  return typeof attr === 'number' ? [attr] : Array.isArray(attr) ? attr : null;
}

const reduce =
  (kind: ReduceKind): KernelGenerator =>
  (req) => {
    requireFloat(req);
    const x = req.inputs[0]!;
    const rank = x.shape.length;
    const numel = numelOf(x.shape);
    const src = 0;
    const dst = req.inputs.length;
    const axes = reduceAxes(req);
    if (!axes || axes.length === 0) {
      if (numberAttr(req, 'noop_with_empty_axes', 0) !== 0)
        return mapKernel(numel, kind === 'sumSquare' ? 'v * v' : 'v', src, dst);
    }
    const reduced = new Set(
      !axes || axes.length === 0 ? x.shape.map((_, d) => d) : axes.map((a) => normalizeAxis(req, a, rank)),
    );
    if (numelOf(req.outputs[0]!.shape) !== numelOf(x.shape.filter((_, d) => !reduced.has(d))))
      throw new KernelUnsupported(req, `an output of shape [${req.outputs[0]!.shape.join(', ')}]`);
    if (numel === 0) throw new KernelUnsupported(req, 'an empty input');
    const runs = mergeAxes(x.shape, reduced);
    const last = runs[runs.length - 1];
    // Trailing axes reduced, rows long enough for a workgroup: rows of a matrix.
    if (!last) return mapKernel(numel, kind === 'sumSquare' ? 'v * v' : 'v', src, dst);
    const rowsOnly = last.reduced && runs.slice(0, -1).every((r) => !r.reduced);
    if (rowsOnly && last.size >= 32)
      return rowReduceKernel(kind, numel / last.size, last.size, src, dst, dst + 1);
    return stridedReduceKernel(kind, runs, numel, src, dst, dst + 1);
  };

/**
 * A kernel of one workgroup per row of `len` (`rows` of them), the row held in registers: `wg` threads, `per`
 * elements each (element `idx(j)` of the row is thread lid's j-th; `guard(j)` is the condition that it exists, or ''
 * where the workgroup divides the row), `perElement(body)` the unrolled code of body(j) for each of them, guarded;
 * `main` the entry point's opening (up to `row` and the row's first element `base`) and `workgroups` its grid.
 */
function rowThreads(
  len: number,
  rows: number,
): {
  wg: number;
  per: number;
  idx: (j: number) => string;
  guard: (j: number) => string;
  perElement: (body: (j: number) => string) => string;
  main: string;
  workgroups: [number, number, number];
} {
  const wg = workgroupFor(len);
  const per = Math.ceil(len / wg);
  const [gx, gy] = spread(rows);
  const idx = (j: number) => `lid + ${j * wg}u`;
  const guard = (j: number) => ((j + 1) * wg > len ? `${idx(j)} < ${len}u` : '');
  const perElement = (body: (j: number) => string) =>
    Array.from({ length: per }, (_, j) => {
      const g = guard(j);
      return g ? `if (${g}) { ${body(j)} }` : `{ ${body(j)} }`;
    }).join('\n  ');
  const main = `@compute @workgroup_size(${wg}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = ${groupIndex(gx)};
  if (row >= ${rows}u) { return; }
  let base = row * ${len}u;`;
  return { wg, per, idx, guard, perElement, main, workgroups: [gx, gy, 1] };
}

/** Softmax over one axis: y = exp(x − max) / Σ exp(x − max). */
const softmax: KernelGenerator = (req) => {
  requireFloat(req);
  const x = req.inputs[0]!;
  const rank = x.shape.length;
  const axis = normalizeAxis(req, numberAttr(req, 'axis', -1), rank);
  const len = x.shape[axis] ?? 1;
  const inner = numelOf(x.shape.slice(axis + 1));
  const rows = numelOf(x.shape) / len;
  const dst = req.inputs.length;
  if (inner === 1) {
    // The usual case, a contiguous last axis: one workgroup per row, the row held in registers.
    const { wg, per, idx, guard, main, workgroups } = rowThreads(len, rows);
    const load = Array.from({ length: per }, (_, j) => {
      const g = guard(j);
      const read = `x[base + ${idx(j)}]`;
      return g ? `v[${j}] = select(${LOWEST}, ${read}, ${g});` : `v[${j}] = ${read};`;
    });
    const code = /* wgsl */ `
// y[row, i] = exp(x[row, i] − max_j x[row, j]) / Σ_j exp(x[row, j] − max), rows of ${len}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(${dst}) var<storage, read_write> y: array<f32>;
${workgroupReduce('rowMax', wg, (a, b) => `max(${a}, ${b})`)}
${workgroupReduce('rowSum', wg, (a, b) => `${a} + ${b}`)}

${main}
  var v: array<f32, ${per}>;
  ${load.join('\n  ')}
  var m = v[0];
  for (var j = 1u; j < ${per}u; j++) { m = max(m, v[j]); }
  m = rowMax(m, lid);
  var s = 0.0;
  for (var j = 0u; j < ${per}u; j++) { v[j] = exp(v[j] - m); s += v[j]; }
  let inv = 1.0 / rowSum(s, lid);
  ${Array.from({ length: per }, (_, j) => {
    const g = guard(j);
    const w = `y[base + ${idx(j)}] = v[${j}] * inv;`;
    return g ? `if (${g}) { ${w} }` : w;
  }).join('\n  ')}
}
`;
    return { passes: [{ code, workgroups, bindings: [0, dst] }] };
  }
  // Another axis: one thread per (outer, inner) pair walks the axis three times.
  const [gx, gy] = spread(Math.ceil(rows / 64));
  const code = /* wgsl */ `
// y[o, i, n] = exp(x[o, i, n] − max_j x[o, j, n]) / Σ_j exp(x[o, j, n] − max), axis of ${len}, stride ${inner}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(${dst}) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = ${groupIndex(gx)} * 64u + lid;
  if (r >= ${rows}u) { return; }
  let base = (r / ${inner}u) * ${len * inner}u + r % ${inner}u;
  var m = ${LOWEST};
  for (var j = 0u; j < ${len}u; j++) { m = max(m, x[base + j * ${inner}u]); }
  var s = 0.0;
  for (var j = 0u; j < ${len}u; j++) { s += exp(x[base + j * ${inner}u] - m); }
  let inv = 1.0 / s;
  for (var j = 0u; j < ${len}u; j++) { y[base + j * ${inner}u] = exp(x[base + j * ${inner}u] - m) * inv; }
}
`;
  return { passes: [{ code, workgroups: [gx, gy, 1], bindings: [0, dst] }] };
};

/**
 * LayerNormalization over the axes from `axis` on (ONNX, stash_type float):
 *   mean = Σx/n,  invStd = 1/√(Σ(x − mean)²/n + ε),  y = (x − mean)·invStd·scale + bias
 * Mean and InvStdDev are the optional second and third outputs (the normalized axes kept as 1s). The row
 * stays in registers, so the variance is taken about the mean (two passes over registers, one over memory).
 */
const layerNormalization: KernelGenerator = (req) => {
  requireFloat(req);
  const [x, scale, bias] = req.inputs;
  if (!x || !scale) throw new KernelUnsupported(req, 'a missing input');
  const rank = x.shape.length;
  const axis = normalizeAxis(req, numberAttr(req, 'axis', -1), rank);
  const epsilon = numberAttr(req, 'epsilon', 1e-5);
  if (numberAttr(req, 'stash_type', 1) !== 1)
    throw new KernelUnsupported(req, 'a stash_type other than float');
  const len = numelOf(x.shape.slice(axis));
  const rows = numelOf(x.shape) / len;
  if (numelOf(scale.shape) !== len || (bias && numelOf(bias.shape) !== len))
    throw new KernelUnsupported(req, 'scale or bias broadcast over the normalized axes');
  const nIn = req.inputs.length;
  const [yBinding, meanBinding, invBinding] = [nIn, nIn + 1, nIn + 2];
  const withMean = req.outputs.length > 1;
  const withInv = req.outputs.length > 2;
  const { wg, per, idx, perElement, main, workgroups } = rowThreads(len, rows);
  const decls = [
    `@group(0) @binding(0) var<storage, read> x: array<f32>;`,
    `@group(0) @binding(1) var<storage, read> scale: array<f32>;`,
  ];
  const bindings = [0, 1];
  if (bias) {
    decls.push(`@group(0) @binding(2) var<storage, read> bias: array<f32>;`);
    bindings.push(2);
  }
  decls.push(`@group(0) @binding(${yBinding}) var<storage, read_write> y: array<f32>;`);
  bindings.push(yBinding);
  if (withMean) {
    decls.push(`@group(0) @binding(${meanBinding}) var<storage, read_write> meanOut: array<f32>;`);
    bindings.push(meanBinding);
  }
  if (withInv) {
    decls.push(`@group(0) @binding(${invBinding}) var<storage, read_write> invStdOut: array<f32>;`);
    bindings.push(invBinding);
  }
  const code = /* wgsl */ `
// mean = Σx/n, invStd = 1/√(Σ(x − mean)²/n + ε), y = (x − mean)·invStd·scale${bias ? ' + bias' : ''}; rows of ${len}
${decls.join('\n')}
${workgroupReduce('rowSum', wg, (a, b) => `${a} + ${b}`)}

${main}
  var v: array<f32, ${per}>;
  var s = 0.0;
  ${perElement((j) => `v[${j}] = x[base + ${idx(j)}]; s += v[${j}];`)}
  let mean = rowSum(s, lid) * ${1 / len};
  var q = 0.0;
  ${perElement((j) => `let d = v[${j}] - mean; q += d * d;`)}
  let invStd = inverseSqrt(rowSum(q, lid) * ${1 / len} + ${epsilon});
  ${perElement((j) => `let i = ${idx(j)}; y[base + i] = (v[${j}] - mean) * invStd * scale[i]${bias ? ' + bias[i]' : ''};`)}
  if (lid == 0u) {
    ${withMean ? 'meanOut[row] = mean;' : ''}
    ${withInv ? 'invStdOut[row] = invStd;' : ''}
  }
}
`;
  return { passes: [{ code, workgroups, bindings }] };
};

/**
 * LayerNorm's input gradient over the last axis, one workgroup per row (an executor-only node,
 * dawn/layerNormFusion.ts, in place of the seven passes the graph spells it in):
 *   g = dy ⊙ w,  x̂ = (x − μ)·(1/σ),  ∂x = (1/σ)·(g − Σg/n − x̂·Σ(g ⊙ x̂)/n)
 * Inputs x [R, n], μ and 1/σ [R, 1] (the forward's extra outputs), w [n], dy [R, n]; the output ∂x [R, n], with
 * `post` (a residual gradient added, epilogueFusion.ts) applied as it is stored. The row is read once into
 * registers, both sums are fixed trees over the workgroup (deterministic), and the same expressions as the
 * graph's nodes are evaluated in the same order per element.
 */
export function layerNormGradKernel(req: KernelRequest, post?: Epilogue): Kernel {
  const [x, mean, invStd, w, dy] = req.inputs;
  if (!x || !mean || !invStd || !w || !dy) throw new KernelUnsupported(req, 'a missing input');
  if ([x, mean, invStd, w, dy].some((t) => t.type !== 'f32') || req.outputs[0]?.type !== 'f32')
    throw new KernelUnsupported(req, 'a non-float32 tensor');
  const len = x.shape.at(-1) ?? 1;
  const rows = numelOf(x.shape) / len;
  if (numelOf(w.shape) !== len || numelOf(dy.shape) !== rows * len)
    throw new KernelUnsupported(req, `w [${w.shape.join(', ')}] or dy for rows of ${len}`);
  if (numelOf(mean.shape) !== rows || numelOf(invStd.shape) !== rows)
    throw new KernelUnsupported(req, 'row statistics of another shape');
  const out = req.inputs.length;
  const { wg, per, idx, perElement, main, workgroups } = rowThreads(len, rows);
  const epilogue = post?.code(1);
  const store = (v: string) => (epilogue ? `epilogue1(base + i, ${v})` : v);
  const code = /* wgsl */ `
// ∂x = (1/σ)·(g − Σg/n − x̂·Σ(g·x̂)/n), g = dy·w, x̂ = (x − μ)/σ; rows of ${len}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> invStd: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(${out}) var<storage, read_write> dx: array<f32>;
${epilogue ? epilogue.declarations.join('\n') : ''}
${workgroupReduce('rowSum', wg, (a, b) => `${a} + ${b}`)}

${main}
  let mu = mean[row];
  let inv = invStd[row];
  var gw: array<f32, ${per}>;
  var xh: array<f32, ${per}>;
  var sg = 0.0;
  var sgx = 0.0;
  ${perElement((j) => `let i = ${idx(j)}; gw[${j}] = dy[base + i] * w[i]; xh[${j}] = (x[base + i] - mu) * inv; sg += gw[${j}]; sgx += gw[${j}] * xh[${j}];`)}
  let meanG = rowSum(sg, lid) / ${len}.0;
  let meanGX = rowSum(sgx, lid) / ${len}.0;
  ${perElement((j) => `let i = ${idx(j)}; dx[base + i] = ${store(`((gw[${j}] - meanG) - xh[${j}] * meanGX) * inv`)};`)}
}
`;
  const bindings = [0, 1, 2, 3, 4, out, ...(epilogue?.bindings ?? [])];
  return { passes: [{ code, workgroups, bindings }] };
}

export const reduceKernels: Record<string, KernelGenerator> = {
  ReduceSum: reduce('sum'),
  ReduceMean: reduce('mean'),
  ReduceMax: reduce('max'),
  ReduceSumSquare: reduce('sumSquare'),
  Softmax: softmax,
  LayerNormalization: layerNormalization,
};
