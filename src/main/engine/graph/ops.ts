import {
  GraphShapeError,
  normAxis,
  numel,
  sameShape,
  shapeToString,
  type Dim,
  type Graph,
  type Shape,
  type Tensor,
} from './graph.ts';
import type { OnnxAttributeValue } from '../../../shared/onnx/onnxModel.ts';

/**
 * The differentiable op set, llm.c style: each op's forward (the ONNX nodes it emits) and its backward
 * (the nodes that compute the input gradients from the output gradients) sit side by side, with the
 * math in a comment. Shapes are checked here, at build time.
 *
 * Convention: `dy` is ∂L/∂y for an op's output y; a backward closure returns ∂L/∂x for each input x
 * (null when the input needs no gradient). The closures run with tape recording off, so they may call
 * the ops below freely.
 */

function fail(op: string, message: string): never {
  throw new GraphShapeError(`${op}: ${message}`);
}

function requireFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') fail(op, `${t.name} is ${t.dtype}, expected float32`);
}

// ---- broadcasting ---------------------------------------------------------------------------------

/** NumPy broadcasting of two shapes; symbolic dimensions broadcast only against 1 or themselves. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else
      fail(
        op,
        `shapes ${shapeToString(a)} and ${shapeToString(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`,
      );
  }
  return out;
}

/**
 * The gradient of a broadcast: ∂L/∂x for x broadcast from `shape` to dy's shape is dy summed over
 * every broadcast axis (the leading axes x lacks, and the axes where x has size 1).
 */
export function sumToShape(g: Graph, dy: Tensor, shape: Shape): Tensor {
  if (sameShape(dy.shape, shape)) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length === 0 ? dy : reduceSum(g, dy, axes, true);
  return sameShape(summed.shape, shape) ? summed : reshape(g, summed, shape);
}

// ---- Add / Sub / Mul / Div ------------------------------------------------------------------------

// y = a + b          ∂a = Σ_broadcast dy,  ∂b = Σ_broadcast dy
export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  requireFloat('add', a, b);
  const y = g.emit1('Add', [a, b], broadcastShapes('add', a.shape, b.shape), 'float32');
  g.record('add', [a, b], [y], ([dy]) => [
    a.requiresGrad ? sumToShape(g, dy!, a.shape) : null,
    b.requiresGrad ? sumToShape(g, dy!, b.shape) : null,
  ]);
  return y;
}

// y = a - b          ∂a = Σ dy,  ∂b = -Σ dy
export function sub(g: Graph, a: Tensor, b: Tensor): Tensor {
  requireFloat('sub', a, b);
  const y = g.emit1('Sub', [a, b], broadcastShapes('sub', a.shape, b.shape), 'float32');
  g.record('sub', [a, b], [y], ([dy]) => [
    a.requiresGrad ? sumToShape(g, dy!, a.shape) : null,
    b.requiresGrad ? sumToShape(g, neg(g, dy!), b.shape) : null,
  ]);
  return y;
}

// y = a ⊙ b          ∂a = Σ dy ⊙ b,  ∂b = Σ dy ⊙ a
export function mul(g: Graph, a: Tensor, b: Tensor): Tensor {
  requireFloat('mul', a, b);
  const y = g.emit1('Mul', [a, b], broadcastShapes('mul', a.shape, b.shape), 'float32');
  g.record('mul', [a, b], [y], ([dy]) => [
    a.requiresGrad ? sumToShape(g, mul(g, dy!, b), a.shape) : null,
    b.requiresGrad ? sumToShape(g, mul(g, dy!, a), b.shape) : null,
  ]);
  return y;
}

// y = a / b          ∂a = Σ dy / b,  ∂b = -Σ dy ⊙ a / b² = -Σ dy ⊙ y / b
export function div(g: Graph, a: Tensor, b: Tensor): Tensor {
  requireFloat('div', a, b);
  const y = g.emit1('Div', [a, b], broadcastShapes('div', a.shape, b.shape), 'float32');
  g.record('div', [a, b], [y], ([dy]) => {
    const da = div(g, dy!, b);
    return [
      a.requiresGrad ? sumToShape(g, da, a.shape) : null,
      b.requiresGrad ? sumToShape(g, neg(g, mul(g, da, y)), b.shape) : null,
    ];
  });
  return y;
}

// y = x · s (s a constant scalar)          ∂x = dy · s
export function scale(g: Graph, x: Tensor, s: number): Tensor {
  requireFloat('scale', x);
  const y = g.emit1('Mul', [x, g.scalar(s)], x.shape, 'float32');
  g.record('scale', [x], [y], ([dy]) => [scale(g, dy!, s)]);
  return y;
}

// y = -x             ∂x = -dy
export function neg(g: Graph, x: Tensor): Tensor {
  const y = g.emit1('Neg', [x], x.shape, x.dtype);
  g.record('neg', [x], [y], ([dy]) => [neg(g, dy!)]);
  return y;
}

// ---- MatMul ---------------------------------------------------------------------------------------

export interface MatMulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Scales the product (folded into the kernel). */
  alpha?: number;
}

/**
 * Batched matrix product C = α·op(A)·op(B), op = optional transpose of the last two axes, batch axes
 * broadcast. Plain products use MatMul; transposes and α use com.microsoft FusedMatMul, which folds
 * them into the GEMM instead of materialising a transposed copy.
 *
 * With X = op(A), Y = op(B):  ∂X = α·dC·Yᵀ,  ∂Y = α·Xᵀ·dC; mapped back through the transposes:
 *   ∂A = α·dC·op(B)ᵀ          (transA = 0)     ∂A = α·op(B)·dCᵀ     (transA = 1)
 *   ∂B = α·op(A)ᵀ·dC          (transB = 0)     ∂B = α·dCᵀ·op(A)     (transB = 1)
 */
export function matmul(g: Graph, a: Tensor, b: Tensor, opts: MatMulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const alpha = opts.alpha ?? 1;
  requireFloat('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) fail('matmul', `both operands need rank ≥ 2, got ${a} and ${b}`);
  const [m, ka] = transA
    ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!]
    : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [kb, n] = transB
    ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!]
    : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (ka !== kb) {
    fail(
      'matmul',
      `inner dimensions differ: ${a}${transA ? 'ᵀ' : ''} × ${b}${transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  }
  const batch = broadcastShapes('matmul (batch axes)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...batch, m, n];
  let y: Tensor;
  if (!transA && !transB && alpha === 1) y = g.emit1('MatMul', [a, b], outShape, 'float32');
  else if (g.portable) {
    // Portable graphs: the transposes are materialised and α is a separate Mul (WebGPU runs all
    // three; it has no FusedMatMul). Not recorded: this node's own backward is the one below.
    const lastTwo = (t: Tensor) => {
      const perm = Array.from({ length: t.rank }, (_, i) => i);
      [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1]!, perm[t.rank - 2]!];
      return g.emit1(
        'Transpose',
        [t],
        perm.map((p) => t.shape[p]!),
        'float32',
        { perm: { ints: perm } },
      );
    };
    // α scales whichever of A, B and C has the fewest elements (q·kᵀ/√d: q, not the [T, T] scores)
    let left = transA ? lastTwo(a) : a;
    let right = transB ? lastTwo(b) : b;
    let scaleOut = false;
    if (alpha !== 1) {
      const size = (s: Shape) => numel(s) ?? Infinity;
      const smallest = Math.min(size(left.shape), size(right.shape), size(outShape));
      if (size(left.shape) === smallest)
        left = g.emit1('Mul', [left, g.scalar(alpha)], left.shape, 'float32');
      else if (size(right.shape) === smallest)
        right = g.emit1('Mul', [right, g.scalar(alpha)], right.shape, 'float32');
      else scaleOut = true;
    }
    const product = g.emit1('MatMul', [left, right], outShape, 'float32');
    y = scaleOut ? g.emit1('Mul', [product, g.scalar(alpha)], outShape, 'float32') : product;
  } else
    y = g.emit1(
      'FusedMatMul',
      [a, b],
      outShape,
      'float32',
      { alpha, transA: { int: transA ? 1 : 0 }, transB: { int: transB ? 1 : 0 } },
      'com.microsoft',
    );
  g.record('matmul', [a, b], [y], ([dy]) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = transA
        ? matmul(g, b, dy!, { transA: transB, transB: true, alpha })
        : matmul(g, dy!, b, { transB: !transB, alpha });
      da = sumToShape(g, da, a.shape);
    }
    if (b.requiresGrad) {
      db = transB
        ? matmul(g, dy!, a, { transA: true, transB: transA, alpha })
        : matmul(g, a, dy!, { transA: !transA, alpha });
      db = sumToShape(g, db, b.shape);
    }
    return [da, db];
  });
  return y;
}

/**
 * A PyTorch Linear on rows: y = x·Wᵀ + b, x [M, K], W [N, K] (PyTorch's [out, in] layout), b [N].
 * One Gemm with transB folded.
 *   ∂x = dy·W          (Gemm, no transposes)
 *   ∂W = dyᵀ·x         (Gemm, transA)
 *   ∂b = Σ_rows dy
 */
export function linear(g: Graph, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  requireFloat('linear', x, w);
  if (x.rank !== 2 || w.rank !== 2) fail('linear', `expects x [M,K] and W [N,K], got ${x} and ${w}`);
  const [m, k] = x.shape as [Dim, Dim];
  const [n, kw] = w.shape as [Dim, Dim];
  if (k !== kw) fail('linear', `x ${x} has ${k} features but weight ${w} expects ${kw}`);
  if (b && (b.rank !== 1 || b.shape[0] !== n)) fail('linear', `bias ${b} must be [${n}]`);
  const inputs = b ? [x, w, b] : [x, w];
  const y = g.emit1('Gemm', inputs, [m, n], 'float32', { transB: { int: 1 } });
  g.record('linear', inputs, [y], ([dy]) => [
    x.requiresGrad ? g.emit1('Gemm', [dy!, w], [m, k], 'float32') : null,
    w.requiresGrad ? g.emit1('Gemm', [dy!, x], [n, k], 'float32', { transA: { int: 1 } }) : null,
    b?.requiresGrad ? reduceSum(g, dy!, [0], false) : null,
  ]);
  return y;
}

// ---- Reshape / Transpose / Split / Concat / Slice -------------------------------------------------

/**
 * y = x viewed with a new shape. One -1 is allowed: computed at build time when x's size is known,
 * otherwise left to ONNX Runtime and labelled symbolically (an inference graph's "batch·seq" rows).
 * ∂x = dy viewed as x.
 */
export function reshape(g: Graph, x: Tensor, dims: Shape): Tensor {
  const shape: Dim[] = [...dims];
  const onnxDims: Dim[] = [...dims];
  const inferred = shape.indexOf(-1);
  const total = numel(x.shape);
  if (inferred >= 0) {
    const rest = shape.filter((_, i) => i !== inferred);
    const known = numel(rest);
    if (total !== null && known !== null) {
      if (known === 0 || total % known !== 0)
        fail('reshape', `cannot infer -1 reshaping ${x} to ${shapeToString(dims)}`);
      shape[inferred] = total / known;
      onnxDims[inferred] = total / known;
    } else {
      shape[inferred] = divideDims(x.shape, rest) ?? `(${x.shape.join('*')})/(${rest.join('*')})`;
    }
  }
  const target = numel(shape);
  if (total !== null && target !== null && total !== target) {
    fail('reshape', `${x} has ${total} elements, ${shapeToString(shape)} has ${target}`);
  }
  if (sameShape(shape, x.shape)) return x;
  const y = g.emit1('Reshape', [x, g.shapeTensor(onnxDims)], shape, x.dtype);
  g.record('reshape', [x], [y], ([dy]) => [reshape(g, dy!, x.shape)]);
  return y;
}

/** A product of dimensions as a numeric factor and a sorted list of symbols ("batch*seq" → 1, [batch, seq]). */
function factorDims(dims: Shape): { coef: number; syms: string[] } {
  let coef = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') coef *= d;
    else
      for (const part of d.split('*')) {
        if (/^\d+$/.test(part)) coef *= Number(part);
        else syms.push(part);
      }
  }
  return { coef, syms: syms.sort() };
}

/** ∏num / ∏den as a canonical symbolic dimension ("batch*seq"), or null when it does not divide evenly. */
function divideDims(num: Shape, den: Shape): Dim | null {
  const a = factorDims(num);
  const b = factorDims(den);
  if (b.coef === 0 || a.coef % b.coef !== 0) return null;
  const syms = [...a.syms];
  for (const s of b.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return null;
    syms.splice(i, 1);
  }
  const coef = a.coef / b.coef;
  if (syms.length === 0) return coef;
  return coef === 1 ? syms.join('*') : `${coef}*${syms.join('*')}`;
}

/** y = x with axes permuted: y.shape[i] = x.shape[perm[i]].  ∂x = dy permuted back by perm⁻¹. */
export function transpose(g: Graph, x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    fail('transpose', `perm [${perm.join(',')}] is not a permutation of ${x.rank} axes of ${x}`);
  }
  const shape = perm.map((p) => x.shape[p]!);
  const y = g.emit1('Transpose', [x], shape, x.dtype, { perm: { ints: [...perm] } });
  g.record('transpose', [x], [y], ([dy]) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(g, dy!, inv)];
  });
  return y;
}

/**
 * The most parts one Split or Concat node gets. WebGPU binds each input and output of a kernel as a
 * storage buffer and allows 16 per shader stage, so a Split of the whole parameter vector into ~30
 * tensors fails there ("Too many storage buffers in shader"). Wider ones are built as a tree of
 * nodes of at most this fan: the same values, one extra copy per level.
 */
export const MAX_NODE_FAN = 8;

/** Cuts `n` consecutive items into at most MAX_NODE_FAN groups of near-equal count. */
function groupRanges(n: number): [number, number][] {
  const groups = Math.min(MAX_NODE_FAN, Math.ceil(n / MAX_NODE_FAN));
  const per = Math.ceil(n / groups);
  const out: [number, number][] = [];
  for (let start = 0; start < n; start += per) out.push([start, Math.min(n, start + per)]);
  return out;
}

/** Splits x along `axis` into parts of the given sizes.  ∂x = concat of the part gradients (zeros where none). */
export function split(g: Graph, x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const ax = normAxis(axis, x.rank, 'split');
  const total = sizes.reduce((s, v) => s + v, 0);
  if (x.shape[ax] !== total)
    fail('split', `sizes [${sizes.join(',')}] sum to ${total}, but ${x} has ${x.shape[ax]} along axis ${ax}`);
  if (sizes.length > MAX_NODE_FAN) {
    const ranges = groupRanges(sizes.length);
    const groups = split(
      g,
      x,
      ax,
      ranges.map(([a, b]) => sizes.slice(a, b).reduce((s, v) => s + v, 0)),
    );
    return ranges.flatMap(([a, b], i) =>
      b - a === 1 ? [groups[i]!] : split(g, groups[i]!, ax, sizes.slice(a, b)),
    );
  }
  const outs = g.emit(
    'Split',
    [x, g.vector([...sizes])],
    sizes.map((s) => ({ shape: x.shape.map((d, i) => (i === ax ? s : d)), dtype: x.dtype })),
    { axis: { int: ax } },
  );
  g.record('split', [x], outs, (dys) => [
    concat(
      g,
      dys.map((dy, i) => dy ?? zeros(g, outs[i]!.shape)),
      ax,
    ),
  ]);
  return outs;
}

/** Joins tensors along `axis`.  ∂xᵢ = the matching slice of dy. */
export function concat(g: Graph, xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) fail('concat', 'needs at least one tensor');
  const ax = normAxis(axis, first.rank, 'concat');
  let total = 0;
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      fail('concat', `${x} does not match ${first} outside axis ${ax}`);
    }
    const d = x.shape[ax];
    if (typeof d !== 'number') fail('concat', `axis ${ax} of ${x} must be static`);
    total += d;
  }
  if (xs.length === 1) return first;
  if (xs.length > MAX_NODE_FAN) {
    return concat(
      g,
      groupRanges(xs.length).map(([a, b]) => concat(g, xs.slice(a, b), ax)),
      ax,
    );
  }
  const y = g.emit1(
    'Concat',
    [...xs],
    first.shape.map((d, i) => (i === ax ? total : d)),
    first.dtype,
    { axis: { int: ax } },
  );
  g.record('concat', [...xs], [y], ([dy]) => {
    const parts = split(
      g,
      dy!,
      ax,
      xs.map((x) => x.shape[ax] as number),
    );
    return parts.map((p, i) => (xs[i]!.requiresGrad ? p : null));
  });
  return y;
}

/**
 * y = x[start:end] along `axis` (end may be a symbolic dimension, e.g. the sequence length).
 * ∂x = dy padded with zeros back to x's extent (static shapes only).
 */
export function slice(g: Graph, x: Tensor, axis: number, start: number, end: Dim): Tensor {
  const ax = normAxis(axis, x.rank, 'slice');
  const extent = x.shape[ax]!;
  if (typeof end === 'number' && typeof extent === 'number' && (start < 0 || end > extent || start >= end)) {
    fail('slice', `[${start}:${end}] is outside axis ${ax} of ${x}`);
  }
  const shape = x.shape.map((d, i) => (i === ax ? (typeof end === 'number' ? end - start : end) : d));
  if (start === 0 && end === extent) return x;
  const y = g.emit1('Slice', [x, g.vector([start]), g.dimTensor(end), g.vector([ax])], shape, x.dtype);
  g.record('slice', [x], [y], ([dy]) => {
    if (typeof end !== 'number' || typeof extent !== 'number') fail('slice', 'gradient needs static bounds');
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[ax] = start;
    pads[x.rank + ax] = extent - end;
    return [g.emit1('Pad', [dy!, g.vector(pads)], x.shape, 'float32')];
  });
  return y;
}

/** A tensor of zeros made at run time (ConstantOfShape), so large zero tensors never sit in the model file. */
export function zeros(g: Graph, shape: Shape): Tensor {
  return g.emit1('ConstantOfShape', [g.shapeTensor(shape)], shape, 'float32', {
    value: { name: 'value', dataType: 1, dims: [1], raw: new Uint8Array(4) },
  });
}

// ---- Gather (embedding lookup) --------------------------------------------------------------------

/**
 * Embedding lookup y[i, :] = table[idx[i], :] for table [V, C] and integer ids of any shape.
 * Backward is a scatter-add: ∂table[v, :] = Σ_{i: idx[i] = v} dy[i, :] (ScatterND, reduction "add",
 * into zeros), since one row may be looked up many times in a batch.
 */
export function gather(g: Graph, table: Tensor, idx: Tensor): Tensor {
  requireFloat('gather', table);
  if (table.rank !== 2) fail('gather', `table ${table} must be [V, C]`);
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32') fail('gather', `ids ${idx} must be int32 or int64`);
  const y = g.emit1('Gather', [table, idx], [...idx.shape, table.shape[1]!], 'float32', { axis: { int: 0 } });
  g.record('gather', [table], [y], ([dy]) => {
    if (g.portable) {
      // ScatterElements takes int32 indices (ScatterND needs int64, which GPU providers lack): each
      // id is repeated across its row's C columns.
      const [, c] = table.shape as [Dim, Dim];
      const rows = numel(idx.shape);
      if (rows === null || typeof c !== 'number') fail('gather', 'gradient needs static shapes');
      const ids = g.emit1('Reshape', [idx, g.vector([rows, 1])], [rows, 1], idx.dtype);
      const wide = g.emit1('Expand', [ids, g.vector([rows, c])], [rows, c], idx.dtype);
      const rowsDy = reshape(g, dy!, [rows, c]);
      return [
        g.emit1('ScatterElements', [zeros(g, table.shape), wide, rowsDy], table.shape, 'float32', {
          axis: { int: 0 },
          reduction: 'add',
        }),
      ];
    }
    const ids64 =
      idx.dtype === 'int64' ? idx : g.emit1('Cast', [idx], idx.shape, 'int64', { to: { int: 7 } });
    const ids = g.emit1('Unsqueeze', [ids64, g.vector([-1])], [...idx.shape, 1], 'int64');
    return [
      g.emit1('ScatterND', [zeros(g, table.shape), ids, dy!], table.shape, 'float32', { reduction: 'add' }),
    ];
  });
  return y;
}

// ---- LayerNormalization ---------------------------------------------------------------------------

/**
 * LayerNorm over the last axis (ONNX LayerNormalization, one fused kernel, which also returns the
 * row mean μ and 1/σ = 1/√(var + ε)):
 *   x̂ = (x − μ)/σ,   y = x̂ ⊙ w + b
 * Backward, per row of C features, with g = dy ⊙ w:
 *   ∂w = Σ_rows dy ⊙ x̂,   ∂b = Σ_rows dy
 *   ∂x = (1/σ) · (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂))
 */
export function layerNorm(g: Graph, x: Tensor, w: Tensor, b: Tensor | null, eps = 1e-5): Tensor {
  requireFloat('layerNorm', x, w);
  const c = x.shape[x.rank - 1]!;
  if (w.rank !== 1 || w.shape[0] !== c) fail('layerNorm', `weight ${w} must be [${c}] for input ${x}`);
  if (b && (b.rank !== 1 || b.shape[0] !== c)) fail('layerNorm', `bias ${b} must be [${c}] for input ${x}`);
  const statShape = [...x.shape.slice(0, -1), 1];
  const [y, mean, invStd] = g.emit(
    'LayerNormalization',
    b ? [x, w, b] : [x, w],
    [
      { shape: x.shape, dtype: 'float32' },
      { shape: statShape, dtype: 'float32' },
      { shape: statShape, dtype: 'float32' },
    ],
    { axis: { int: -1 }, epsilon: eps },
  ) as [Tensor, Tensor, Tensor];
  const inputs = b ? [x, w, b] : [x, w];
  g.record('layerNorm', inputs, [y], ([dy]) => {
    const rows = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const xhat = mul(g, sub(g, x, mean), invStd);
    const dw = w.requiresGrad ? reduceSum(g, mul(g, dy!, xhat), rows, false) : null;
    const db = b?.requiresGrad ? reduceSum(g, dy!, rows, false) : null;
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const gw = mul(g, dy!, w);
      const meanG = reduceMean(g, gw, [-1], true);
      const meanGX = reduceMean(g, mul(g, gw, xhat), [-1], true);
      dx = mul(g, sub(g, sub(g, gw, meanG), mul(g, xhat, meanGX)), invStd);
      if (g.portable) g.layerNormGradSites.push({ x, w, mean, invStd, dy: dy!, dx });
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
  return y;
}

// ---- GELU -----------------------------------------------------------------------------------------

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU, as PyTorch's nn.GELU() (nanoGPT's MLP):
 *   Φ(x) = ½(1 + erf(x/√2)),   y = x·Φ(x)
 * Backward:  ∂x = dy · (Φ(x) + x·φ(x)),   φ(x) = exp(−x²/2)/√(2π)
 * Φ(x) from the forward pass is kept for the backward pass (one Erf per element, not two).
 */
export function gelu(g: Graph, x: Tensor): Tensor {
  requireFloat('gelu', x);
  const f = (op: string, a: Tensor, b: Tensor) => g.emit1(op, [a, b], x.shape, 'float32');
  const erf = g.emit1('Erf', [f('Mul', x, g.scalar(SQRT1_2))], x.shape, 'float32');
  const cdf = f('Add', f('Mul', erf, g.scalar(0.5)), g.scalar(0.5));
  const y = f('Mul', x, cdf);
  g.record('gelu', [x], [y], ([dy]) => {
    // Φ(x) + x·φ(x) = Φ(x) + x·exp(−x²/2)/√(2π)
    const e = g.emit1('Exp', [f('Mul', f('Mul', x, g.scalar(-0.5)), x)], x.shape, 'float32');
    const xpdf = f('Mul', f('Mul', x, g.scalar(INV_SQRT_2PI)), e);
    return [f('Mul', dy!, f('Add', cdf, xpdf))];
  });
  return y;
}

// ---- Softmax --------------------------------------------------------------------------------------

/**
 * y = softmax(x) along `axis`: yᵢ = exp(xᵢ)/Σⱼexp(xⱼ). A causal mask is an added constant of 0 / −∞
 * before it (its gradient passes through unchanged).
 * Backward (Jacobian diag(y) − yyᵀ applied to dy):  ∂x = y ⊙ (dy − Σⱼ dyⱼyⱼ)
 */
export function softmax(g: Graph, x: Tensor, axis = -1): Tensor {
  requireFloat('softmax', x);
  const ax = normAxis(axis, x.rank, 'softmax');
  const y = g.emit1('Softmax', [x], x.shape, 'float32', { axis: { int: ax } });
  g.record('softmax', [x], [y], ([dy]) => {
    const dot = reduceSum(g, mul(g, dy!, y), [ax], true);
    return [mul(g, sub(g, dy!, dot), y)];
  });
  return y;
}

// ---- Cross-entropy --------------------------------------------------------------------------------

/**
 * Mean cross-entropy of logits [N, V] against integer targets [N] (PyTorch F.cross_entropy):
 *   L = −(1/N) Σᵢ log softmax(zᵢ)[tᵢ]   (SoftmaxCrossEntropyLoss, which also returns log-probabilities)
 * Backward:  ∂zᵢ = (softmax(zᵢ) − onehot(tᵢ)) · dL / N
 */
export function crossEntropy(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  requireFloat('crossEntropy', logits);
  if (logits.rank !== 2) fail('crossEntropy', `logits ${logits} must be [N, V]`);
  if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0])
    fail('crossEntropy', `targets ${targets} must be [${logits.shape[0]}] for logits ${logits}`);
  if (targets.dtype !== 'int64' && targets.dtype !== 'int32')
    fail('crossEntropy', `targets ${targets} must be int32 or int64`);
  if (g.portable) return crossEntropyPortable(g, logits, targets);
  const [n, v] = logits.shape as [Dim, Dim];
  const [loss, logProb] = g.emit(
    'SoftmaxCrossEntropyLoss',
    [logits, targets],
    [
      { shape: [], dtype: 'float32' },
      { shape: [n, v], dtype: 'float32' },
    ],
    { reduction: 'mean' },
  ) as [Tensor, Tensor];
  g.record('crossEntropy', [logits], [loss], ([dL]) => {
    if (typeof n !== 'number' || typeof v !== 'number') fail('crossEntropy', 'gradient needs static shapes');
    const t64 =
      targets.dtype === 'int64'
        ? targets
        : g.emit1('Cast', [targets], targets.shape, 'int64', { to: { int: 7 } });
    const onehot = g.emit1('OneHot', [t64, g.vector([v]), g.vector([0, 1], 'float32')], [n, v], 'float32', {
      axis: { int: -1 },
    });
    const diff = g.emit1('Sub', [g.emit1('Exp', [logProb], [n, v], 'float32'), onehot], [n, v], 'float32');
    return [g.emit1('Mul', [diff, g.emit1('Mul', [dL!, g.scalar(1 / n)], [], 'float32')], [n, v], 'float32')];
  });
  return loss;
}

/**
 * The same loss from default-domain operators that GPU providers implement (ONNX Runtime expands
 * SoftmaxCrossEntropyLoss into a LogSoftmax, which its WebGPU provider runs on the CPU):
 *   s = z − max(z),   lse = log Σⱼ exp(sⱼ),   L = mean_i (lseᵢ − s[i, tᵢ])
 * Backward:  ∂z = (exp(s − lse) − onehot(t)) · dL / N, the one-hot subtracted by a scatter-add of −1
 * at each target (no OneHot kernel on the GPU either).
 */
function crossEntropyPortable(g: Graph, logits: Tensor, targets: Tensor): Tensor {
  const n = logits.shape[0]!;
  const t = g.emit1('Unsqueeze', [targets, g.vector([1])], [n, 1], targets.dtype);
  const { shifted, lse, loss } = crossEntropyRows(g, logits, t);
  g.record('crossEntropy', [logits], [loss], ([dL]) => {
    if (typeof n !== 'number') fail('crossEntropy', 'gradient needs static shapes');
    return [
      crossEntropyRowsGradient(g, shifted, lse, t, g.emit1('Mul', [dL!, g.scalar(1 / n)], [], 'float32')),
    ];
  });
  return loss;
}

/**
 * The forward half of crossEntropyPortable, unrecorded: shifted logits s, lse [N, 1] and the mean loss, for
 * targets t [N, 1]. headLoss.ts runs it on row chunks of the lm_head.
 */
export function crossEntropyRows(
  g: Graph,
  logits: Tensor,
  t: Tensor,
): { shifted: Tensor; lse: Tensor; loss: Tensor } {
  const [n, v] = logits.shape as [Dim, Dim];
  const rows = [n, 1];
  const f = (opType: string, ins: Tensor[], shape: Shape, attrs: Record<string, OnnxAttributeValue> = {}) =>
    g.emit1(opType, ins, shape, 'float32', attrs);
  const shifted = shiftedRows(g, logits);
  const lse = f(
    'Log',
    [f('ReduceSum', [f('Exp', [shifted], [n, v]), g.vector([1])], rows, { keepdims: { int: 1 } })],
    rows,
  );
  const picked = f('GatherElements', [shifted, t], rows, { axis: { int: 1 } });
  const loss = f('ReduceMean', [f('Sub', [lse, picked], rows), g.vector([0, 1])], [], {
    keepdims: { int: 0 },
  });
  return { shifted, lse, loss };
}

/**
 * s = z − max(z) by rows, unrecorded. A backward that rebuilds logits (headLoss.ts) shifts them with this too, so that
 * the s it rebuilds is the forward's to the bit and the forward's lse still applies.
 */
export function shiftedRows(g: Graph, logits: Tensor): Tensor {
  const [n, v] = logits.shape as [Dim, Dim];
  const max = g.emit1('ReduceMax', [logits, g.vector([1])], [n, 1], 'float32', { keepdims: { int: 1 } });
  return g.emit1('Sub', [logits, max], [n, v], 'float32');
}

/** ∂z = (exp(s − lse) − onehot(t)) · scale, from crossEntropyRows' s and lse (static shapes). */
export function crossEntropyRowsGradient(
  g: Graph,
  shifted: Tensor,
  lse: Tensor,
  t: Tensor,
  scale: Tensor,
): Tensor {
  const [n, v] = shifted.shape as [Dim, Dim];
  if (typeof n !== 'number' || typeof v !== 'number') fail('crossEntropy', 'gradient needs static shapes');
  const f = (opType: string, ins: Tensor[], attrs: Record<string, OnnxAttributeValue> = {}) =>
    g.emit1(opType, ins, [n, v], 'float32', attrs);
  const prob = f('Exp', [f('Sub', [shifted, lse])]);
  const minusOne = g.constant(new Float32Array(n).fill(-1), [n, 1], 'float32');
  const diff = f('ScatterElements', [prob, t, minusOne], { axis: { int: 1 }, reduction: 'add' });
  return f('Mul', [diff, scale]);
}

// ---- Reductions -----------------------------------------------------------------------------------

function reducedShape(
  op: string,
  x: Tensor,
  axes: readonly number[],
  keepdims: boolean,
): { axes: number[]; shape: Dim[] } {
  const norm = [...new Set(axes.map((a) => normAxis(a, x.rank, op)))].sort((p, q) => p - q);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return { axes: norm, shape };
}

/** Broadcasts a reduced gradient back over the reduced axes. */
function expandBack(g: Graph, dy: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const kept = keepdims
    ? dy
    : reshape(
        g,
        dy,
        x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      );
  return g.emit1('Expand', [kept, g.shapeTensor(x.shape)], x.shape, 'float32');
}

// y = Σ_axes x           ∂x = dy broadcast over the reduced axes
export function reduceSum(g: Graph, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  requireFloat('reduceSum', x);
  const r = reducedShape('reduceSum', x, axes, keepdims);
  const y = g.emit1('ReduceSum', [x, g.vector(r.axes)], r.shape, 'float32', {
    keepdims: { int: keepdims ? 1 : 0 },
  });
  g.record('reduceSum', [x], [y], ([dy]) => [expandBack(g, dy!, x, r.axes, keepdims)]);
  return y;
}

// y = mean_axes x        ∂x = dy / n broadcast over the reduced axes (n = number of reduced elements)
export function reduceMean(g: Graph, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  requireFloat('reduceMean', x);
  const r = reducedShape('reduceMean', x, axes, keepdims);
  // ReduceMean takes its axes as an input from opset 18, as an attribute before
  const y =
    g.opset >= 18
      ? g.emit1('ReduceMean', [x, g.vector(r.axes)], r.shape, 'float32', {
          keepdims: { int: keepdims ? 1 : 0 },
        })
      : g.emit1('ReduceMean', [x], r.shape, 'float32', {
          axes: { ints: r.axes },
          keepdims: { int: keepdims ? 1 : 0 },
        });
  g.record('reduceMean', [x], [y], ([dy]) => {
    const n = numel(r.axes.map((a) => x.shape[a]!));
    if (n === null) fail('reduceMean', 'gradient needs static reduced axes');
    return [expandBack(g, scale(g, dy!, 1 / n), x, r.axes, keepdims)];
  });
  return y;
}

// ---- Dropout --------------------------------------------------------------------------------------

/**
 * Inverted dropout (training mode): y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p) (ONNX Dropout, which
 * returns the mask). Backward: ∂x = dy ⊙ m / (1 − p).
 * The mask stream comes from ONNX Runtime's generator seeded by `seed`.
 */
export function dropout(g: Graph, x: Tensor, p: number, seed: number): Tensor {
  return dropoutWithMask(g, x, p, seed).y;
}

/** Dropout that also returns its mask (to replay it in a recomputed segment with `applyDropoutMask`). */
export function dropoutWithMask(
  g: Graph,
  x: Tensor,
  p: number,
  seed: number,
): { y: Tensor; mask: Tensor | null } {
  requireFloat('dropout', x);
  if (p <= 0) return { y: x, mask: null };
  if (p >= 1) fail('dropout', `probability ${p} must be below 1`);
  if (g.portable) {
    const mask = hashDropoutMask(g, x.shape, p, seed);
    return { y: applyDropoutMask(g, x, mask, p), mask };
  }
  const [y, mask] = g.emit(
    'Dropout',
    [x, g.scalar(p), g.vector([1], 'bool', true)],
    [
      { shape: x.shape, dtype: 'float32' },
      { shape: x.shape, dtype: 'bool' },
    ],
    { seed: { int: seed } },
  ) as [Tensor, Tensor];
  g.record('dropout', [x], [y], ([dy]) => [maskAndScale(g, dy!, mask, p, true)]);
  return { y, mask };
}

/**
 * x ⊙ m / (1 − p) as Cast + Mul (ONNX Runtime's Where takes temporary buffers of twice its output).
 * `viaUint8` casts through uint8: the backward's copy of the float mask then differs from the
 * forward's, so common-subexpression elimination cannot merge them into one float mask kept alive
 * from the forward pass to the backward pass (4 bytes per element instead of the mask's 1).
 */
function maskAndScale(g: Graph, x: Tensor, mask: Tensor, p: number, viaUint8 = false): Tensor {
  // a computed mask (portable graphs) already holds 0 or 1/(1 − p)
  if (mask.dtype === 'float32') return g.emit1('Mul', [x, mask], x.shape, 'float32');
  const src = viaUint8 ? g.emit1('Cast', [mask], mask.shape, 'int32', { to: { int: 6 } }) : mask;
  const m = g.emit1('Cast', [src], mask.shape, 'float32', { to: { int: 1 } });
  const kept = g.emit1('Mul', [x, m], x.shape, 'float32');
  return g.emit1('Mul', [kept, g.scalar(1 / (1 - p))], x.shape, 'float32');
}

/** y = x ⊙ m / (1 − p) for a given boolean mask m (a replayed dropout).  ∂x = dy ⊙ m / (1 − p). */
export function applyDropoutMask(g: Graph, x: Tensor, mask: Tensor, p: number): Tensor {
  if (!sameShape(mask.shape, x.shape)) fail('dropout', `mask ${mask} does not match ${x}`);
  const y = maskAndScale(g, x, mask, p);
  g.record('dropoutMask', [x], [y], ([dy]) => [maskAndScale(g, dy!, mask, p, true)]);
  return y;
}

/**
 * A dropout mask computed, not drawn: element i of a site is dropped when
 *   h = mix(i + key·K + seed)   (32-bit unsigned arithmetic, wrapping)
 * is below ⌈p·2³²⌉. `key` is a graph input the trainer sets per optimizer (micro-)step and `seed` is the
 * site's own, so every site, step and micro-batch gets its own mask, a resumed run recomputes exactly
 * the masks it would have drawn, and the CPU and any GPU compute the same bits.
 * mix uses only uint32 Add, Mul and Div, which GPU kernels include (they have no bitwise operators):
 * add-shifts h + h/2ᵏ (Div by 2ᵏ is a right shift) carry high bits down, an odd multiplier carries low
 * bits up, and x·(2x + 1), a permutation of the 32-bit integers, brings the non-linearity xor would
 * give; without it neighbouring indices keep a near-constant difference. Each op is a pass over the
 * tensor (attention scores are the largest), hence the fewest rounds that pass the independence checks
 * in ops.test.ts. The mask holds the kept elements' scale 1/(1 − p), or 0: applying it is one Mul.
 */
export function hashDropoutMask(g: Graph, shape: Shape, p: number, seed: number): Tensor {
  const n = numel(shape);
  if (n === null) fail('dropout', `a computed mask needs a static shape, got ${shapeToString(shape)}`);
  if (n >= 2 ** 31) fail('dropout', `${n} elements exceed a computed mask's int32 index range`);
  const u = (opType: string, ins: Tensor[]) => g.emit1(opType, ins, shape, 'uint32');
  const c = (v: number) => g.scalar(v >>> 0, 'uint32');
  const key = dropoutKey(g);
  const range = g.emit1(
    'Range',
    [g.scalar(0, 'int32'), g.scalar(n, 'int32'), g.scalar(1, 'int32')],
    [n],
    'int32',
  );
  const index = g.emit1(
    'Reshape',
    [g.emit1('Cast', [range], [n], 'uint32', { to: { int: 12 } }), g.shapeTensor(shape)],
    shape,
    'uint32',
  );
  const base = g.emit1('Add', [g.emit1('Mul', [key, c(0x9e3779b1)], [], 'uint32'), c(seed)], [], 'uint32');
  const shiftAdd = (t: Tensor, bits: number) => u('Add', [t, u('Div', [t, c(2 ** bits)])]);
  let h = u('Add', [index, base]);
  h = shiftAdd(h, 16);
  h = u('Mul', [h, c(0x85ebca6b)]);
  h = shiftAdd(h, 13);
  h = u('Mul', [h, u('Add', [u('Add', [h, h]), c(1)])]);
  const drop = g.emit1('Less', [h, c(Math.min(2 ** 32 - 1, Math.ceil(p * 2 ** 32)))], shape, 'bool');
  return g.emit1('Where', [drop, g.scalar(0), g.scalar(1 / (1 - p))], shape, 'float32');
}

/** The graph's dropout key input (uint32 scalar), created on first use. */
export function dropoutKey(g: Graph): Tensor {
  g.dropoutKey ??= g.input(DROPOUT_KEY_INPUT, 'uint32', []);
  return g.dropoutKey;
}

export const DROPOUT_KEY_INPUT = 'dropout_key';
