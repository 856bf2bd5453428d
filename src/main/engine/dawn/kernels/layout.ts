import {
  KernelUnsupported,
  numelOf,
  spread,
  type KernelGenerator,
  type Kernel,
  type KernelPass,
  type KernelRequest,
  type KernelTensor,
} from '../kernel.ts';
import { mapKernel } from './elementwise.ts';
import {
  axisOf,
  chunks,
  coordinates,
  lanes,
  literal,
  MAX_STORAGE_BUFFERS,
  offsetOf,
  perThreadPass,
  productOf,
  storage,
  stridesOf,
  u32,
  type Width,
} from './perElement.ts';

/**
 * Layout operators: each output element is one input element, found by index arithmetic on static shapes
 * (Transpose, Concat, Split, Slice, Expand, Gather, GatherElements), or made from scalars (Range, ConstantOfShape), plus
 * ScatterElements. Where the innermost run of contiguous elements is a multiple of 4 long, a thread moves a vec4.
 */

function input(req: KernelRequest, k: number): KernelTensor {
  const t = req.inputs[k];
  if (!t) throw new KernelUnsupported(req, `an absent input ${k}`);
  return t;
}

function axisAttribute(req: KernelRequest, rank: number, fallback = 0): number {
  const raw = req.attributes.axis ?? fallback;
  const axis = typeof raw === 'number' ? axisOf(raw, rank) : null;
  if (axis === null) throw new KernelUnsupported(req, `axis ${String(raw)} of rank ${rank}`);
  return axis;
}

const widthFor = (inner: number): Width => (inner % 4 === 0 ? 4 : 1);

/**
 * Transpose: out[c] = x[c permuted back]. Axes of length 1 are dropped and input axes that stay neighbours are
 * merged first ([0,2,1,3] of [B,T,H,D] is a 3-D transpose of [B,T,H·D] blocks). When the innermost axis stays
 * innermost, a thread moves an element, or a vec4 when that axis is a multiple of 4 long; when it moves, tiles go
 * through workgroup memory (tiledTranspose) so that both the reads and the writes are contiguous.
 */
const transpose: KernelGenerator = (req) => {
  const x = input(req, 0);
  const out = req.outputs[0]!;
  const rank = x.shape.length;
  const perm = (req.attributes.perm as number[] | undefined) ?? x.shape.map((_, d) => rank - 1 - d);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((a, d) => a !== d))
    throw new KernelUnsupported(req, `perm [${perm}] of rank ${rank}`);
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  // Runs of input axes, in output order, that are consecutive in the input too.
  const runs: number[][] = [];
  for (const a of perm.filter((a) => x.shape[a] !== 1)) {
    const last = runs.at(-1);
    if (last && last.at(-1) === a - 1) last.push(a);
    else runs.push([a]);
  }
  const sizes = runs.map((r) => productOf(r.map((a) => x.shape[a]!)));
  const inputOrder = runs.map((_, k) => k).sort((p, q) => runs[p]![0]! - runs[q]![0]!);
  const inStrides = new Array<number>(runs.length);
  let stride = 1;
  for (const k of [...inputOrder].reverse()) {
    inStrides[k] = stride;
    stride *= sizes[k]!;
  }
  const innermostStays = runs.length > 0 && inputOrder.at(-1) === runs.length - 1;
  const p = inputOrder.at(-1)!;
  if (!innermostStays && sizes[p]! >= 8 && sizes.at(-1)! >= 8)
    return tiledTranspose(x.type, sizes, inStrides, p);
  const width: Width = innermostStays ? widthFor(sizes.at(-1)!) : 1;
  if (width === 4) {
    sizes[sizes.length - 1]! /= 4;
    for (let k = 0; k < inStrides.length; k++) inStrides[k] = k === runs.length - 1 ? 1 : inStrides[k]! / 4;
  }
  const { lines, coords } = coordinates(sizes, 'i', 'c');
  const element = lanes(x.type, width);
  return {
    passes: [
      perThreadPass({
        bindings: [0, 1],
        declarations: [storage(0, 'x', element, 'read'), storage(1, 'out', element, 'read_write')],
        threads: n / width,
        body: [...lines, `out[i] = x[${offsetOf(coords, inStrides)}];`],
      }),
    ],
  };
};

const TILE = 32;

/**
 * A transpose whose input-contiguous axis p is not the output's last axis q: one workgroup per 32×32 tile of
 * (p, q) and per coordinate of the other axes. It reads the tile along p (contiguous in x) into workgroup memory,
 * then writes it along q (contiguous in out); each of its 256 threads moves 4 elements each way. The tile's rows
 * are 33 long so that a column of it spans all memory banks.
 */
function tiledTranspose(type: string, sizes: number[], inStrides: number[], p: number): Kernel {
  const q = sizes.length - 1;
  const outStrides = stridesOf(sizes);
  const batchAxes = sizes.map((_, d) => d).filter((d) => d !== p && d !== q);
  const batchSizes = batchAxes.map((d) => sizes[d]!);
  const [tilesP, tilesQ] = [Math.ceil(sizes[p]! / TILE), Math.ceil(sizes[q]! / TILE)];
  const groups = productOf(batchSizes) * tilesP * tilesQ;
  const workgroups = spread(groups);
  const { lines, coords } = coordinates(batchSizes, 'b', 'c');
  const rows = 256 / TILE;
  const code = `${storage(0, 'x', type, 'read')}
${storage(1, 'out', type, 'read_write')}
var<workgroup> tile: array<array<${type}, ${TILE + 1}>, ${TILE}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * ${u32(workgroups[0])} + wid.x;
  if (g >= ${u32(groups)}) { return; }
  let b = g / ${u32(tilesP * tilesQ)};
  let t = g % ${u32(tilesP * tilesQ)};
  let p0 = (t / ${u32(tilesQ)}) * ${u32(TILE)};
  let q0 = (t % ${u32(tilesQ)}) * ${u32(TILE)};
  ${lines.join('\n  ')}
  let inBase = ${offsetOf(
    coords,
    batchAxes.map((d) => inStrides[d]!),
  )};
  let outBase = ${offsetOf(
    coords,
    batchAxes.map((d) => outStrides[d]!),
  )};
  let lx = lid % ${u32(TILE)};
  let ly = lid / ${u32(TILE)};
  for (var r = 0u; r < ${u32(TILE)}; r += ${u32(rows)}) {
    let pp = p0 + lx;
    let qq = q0 + ly + r;
    if (pp < ${u32(sizes[p]!)} && qq < ${u32(sizes[q]!)}) {
      tile[ly + r][lx] = x[inBase + pp + qq * ${u32(inStrides[q]!)}];
    }
  }
  workgroupBarrier();
  for (var r = 0u; r < ${u32(TILE)}; r += ${u32(rows)}) {
    let qq = q0 + lx;
    let pp = p0 + ly + r;
    if (pp < ${u32(sizes[p]!)} && qq < ${u32(sizes[q]!)}) {
      out[outBase + pp * ${u32(outStrides[p]!)} + qq] = tile[lx][ly + r];
    }
  }
}
`;
  return { passes: [{ code, workgroups, bindings: [0, 1] }] };
}

/** One part of a Concat or Split: its binding, and its block of each row (in elements). */
interface Part {
  readonly binding: number;
  readonly type: KernelTensor['type'];
  readonly start: number;
  readonly size: number;
}

/**
 * Concat and Split copy blocks: with o over the axes before `axis`, row o of part k is a contiguous block of
 * len_k · inner elements, at offset start_k · inner of the whole's row of total · inner. A thread copies one
 * element, or a vec4 when every block's length is a multiple of 4 (flat parameter vectors are). A pass binds at
 * most 7 parts besides the whole (WebGPU's default of 8 storage buffers): more parts take several passes.
 */
function blockCopy(
  whole: { binding: number; type: KernelTensor['type'] },
  parts: readonly Part[],
  rows: number,
  rowSize: number,
  direction: 'concat' | 'split',
): KernelPass[] {
  const present = parts.filter((p) => p.size > 0);
  if (rows === 0 || present.length === 0) return [];
  const width: Width = present.every((p) => p.size % 4 === 0) ? 4 : 1;
  const row = rowSize / width;
  return chunks(present, MAX_STORAGE_BUFFERS - 1).map((group): KernelPass => {
    const first = group[0]!.start / width;
    const span = group.reduce((sum, p) => sum + p.size / width, 0);
    const body = [
      `let o = i / ${u32(span)};`,
      `let r = i % ${u32(span)};`,
      `let w = o * ${u32(row)} + ${u32(first)} + r;`,
    ];
    group.forEach((p, j) => {
      const size = p.size / width;
      const at = `part${p.binding}[o * ${u32(size)} + r - ${u32(p.start / width - first)}]`;
      const copy = direction === 'concat' ? `whole[w] = ${at};` : `${at} = whole[w];`;
      const end = p.start / width - first + size;
      if (j === group.length - 1) body.push(j === 0 ? copy : `else { ${copy} }`);
      else body.push(`${j === 0 ? '' : 'else '}if (r < ${u32(end)}) { ${copy} }`);
    });
    const [partAccess, wholeAccess] =
      direction === 'concat' ? ['read', 'read_write'] : ['read_write', 'read'];
    const declarations = [
      storage(whole.binding, 'whole', lanes(whole.type, width), wholeAccess as 'read' | 'read_write'),
      ...group.map((p) =>
        storage(p.binding, `part${p.binding}`, lanes(p.type, width), partAccess as 'read' | 'read_write'),
      ),
    ];
    return perThreadPass({
      bindings: [whole.binding, ...group.map((p) => p.binding)],
      declarations,
      threads: rows * span,
      body,
    });
  });
}

/** Consecutive blocks of the given lengths along an axis, each `inner` elements per step. */
function partsOf(
  lengths: readonly { binding: number; type: KernelTensor['type']; len: number }[],
  inner: number,
) {
  let start = 0;
  return lengths.map(({ binding, type, len }): Part => {
    const part = { binding, type, start: start * inner, size: len * inner };
    start += len;
    return part;
  });
}

/** Concat along `axis`: out[o, start_k + a, n] = in_k[o, a, n]. */
const concat: KernelGenerator = (req) => {
  const out = req.outputs[0]!;
  const axis = axisAttribute(req, out.shape.length);
  const inputs = req.inputs.map((_, k) => input(req, k));
  const total = out.shape[axis]!;
  if (inputs.reduce((sum, t) => sum + t.shape[axis]!, 0) !== total)
    throw new KernelUnsupported(req, `inputs along axis ${axis} that do not add up to ${total}`);
  const inner = productOf(out.shape.slice(axis + 1));
  const parts = partsOf(
    inputs.map((t, k) => ({ binding: k, type: t.type, len: t.shape[axis]! })),
    inner,
  );
  const whole = { binding: req.inputs.length, type: out.type };
  return { passes: blockCopy(whole, parts, productOf(out.shape.slice(0, axis)), total * inner, 'concat') };
};

/**
 * Split along `axis`: out_k[o, a, n] = x[o, start_k + a, n]. The sizes are the outputs' static lengths on the axis
 * (the `split` input or attribute says the same, or `num_outputs` equal parts), so the sizes input is never bound.
 */
const split: KernelGenerator = (req) => {
  const x = input(req, 0);
  const axis = axisAttribute(req, x.shape.length);
  const total = x.shape[axis]!;
  const sizes = req.outputs.map((o) => o.shape[axis] ?? -1);
  const given = req.constants[1] ?? (req.attributes.split as number[] | undefined);
  if (sizes.reduce((a, b) => a + b, 0) !== total || (given && given.some((s, j) => s !== sizes[j])))
    throw new KernelUnsupported(req, `split sizes [${sizes}] of an axis of ${total}`);
  const inner = productOf(x.shape.slice(axis + 1));
  const parts = partsOf(
    req.outputs.map((o, j) => ({ binding: req.inputs.length + j, type: o.type, len: sizes[j]! })),
    inner,
  );
  const whole = { binding: 0, type: x.type };
  return { passes: blockCopy(whole, parts, productOf(x.shape.slice(0, axis)), total * inner, 'split') };
};

/**
 * Slice with starts, axes and steps known when the graph is compiled (ONNX's clamping of starts; the output's
 * static shape gives the count): out[c] = x[start + c·step] per axis. Activation checkpointing slices one element
 * of a gradient to order the recomputation (graph/autodiff.ts).
 */
const slice: KernelGenerator = (req) => {
  const x = input(req, 0);
  const out = req.outputs[0]!;
  const rank = x.shape.length;
  const known = (k: number) => (req.inputs[k] ? req.constants[k] : undefined);
  const starts = known(1);
  const axesGiven = known(3);
  const stepsGiven = known(4);
  if (!starts || axesGiven === null || stepsGiven === null)
    throw new KernelUnsupported(req, 'starts, axes or steps computed at run time');
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  starts.forEach((raw, j) => {
    const axis = axisOf(axesGiven?.[j] ?? j, rank);
    const by = stepsGiven?.[j] ?? 1;
    if (axis === null) throw new KernelUnsupported(req, `axis ${axesGiven?.[j]} of rank ${rank}`);
    if (by < 1) throw new KernelUnsupported(req, `step ${by}`);
    const dim = x.shape[axis]!;
    begin[axis] = Math.min(Math.max(raw < 0 ? raw + dim : raw, 0), dim);
    step[axis] = by;
  });
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  const strides = stridesOf(x.shape);
  const base = begin.reduce((sum, b, d) => sum + b * strides[d]!, 0);
  const { lines, coords } = coordinates(out.shape, 'i', 'c');
  const outBinding = req.inputs.length;
  return {
    passes: [
      perThreadPass({
        bindings: [0, outBinding],
        declarations: [storage(0, 'x', x.type, 'read'), storage(outBinding, 'out', out.type, 'read_write')],
        threads: n,
        body: [
          ...lines,
          `out[i] = x[${u32(base)} + ${offsetOf(
            coords,
            strides.map((s, d) => s * step[d]!),
          )}];`,
        ],
      }),
    ],
  };
};

/** Expand: out = x broadcast to the output's static shape (the shape input is never bound). */
const expand: KernelGenerator = (req) => {
  if (input(req, 0).type !== req.outputs[0]!.type) throw new KernelUnsupported(req, 'a change of type');
  return mapKernel(req, { operands: [0], expr: ([a]) => a! });
};

/**
 * Range: out[i] = start + i·delta, its length the output's static one. ONNX Runtime accumulates (v += delta),
 * which for floats can differ from the product by a few ulps over long ranges; integers agree exactly.
 */
const range: KernelGenerator = (req) => {
  const out = req.outputs[0]!;
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  const scalar = (k: number, name: string) => {
    const t = input(req, k);
    if (t.type !== out.type) throw new KernelUnsupported(req, `a ${t.type} ${name}`);
    const value = req.constants[k]?.[0];
    return value === undefined
      ? { binding: k, expr: `${name}[0]`, declaration: storage(k, name, t.type, 'read') }
      : { binding: null, expr: literal(value, out.type), declaration: null };
  };
  const [start, delta] = [scalar(0, 'start'), scalar(2, 'delta')];
  const bound = [start, delta].filter((s) => s.binding !== null);
  const outBinding = req.inputs.length;
  const width = widthFor(n);
  const v = lanes(out.type, width);
  const position = width === 4 ? `(${v}(${out.type}(4u * i)) + ${v}(0, 1, 2, 3))` : `${v}(i)`;
  return {
    passes: [
      perThreadPass({
        bindings: [...bound.map((s) => s.binding!), outBinding],
        declarations: [...bound.map((s) => s.declaration!), storage(outBinding, 'out', v, 'read_write')],
        threads: n / width,
        body: [`out[i] = ${v}(${start.expr}) + ${position} * ${v}(${delta.expr});`],
      }),
    ],
  };
};

/** The device's 32-bit pattern of `value` as an element of `type`. */
function bitsOf(value: number, type: KernelTensor['type']): number {
  if (type === 'f32') return new Uint32Array(Float32Array.of(value).buffer)[0]!;
  return (type === 'i32' ? value | 0 : value) >>> 0;
}

/**
 * ConstantOfShape: out[i] = value (the `value` attribute as a number, 0 when absent), written as its bit pattern
 * through a u32 view, which also covers ±∞ and NaN that WGSL has no literals for. The shape input is never bound.
 */
const constantOfShape: KernelGenerator = (req) => {
  const out = req.outputs[0]!;
  const value = req.attributes.value ?? 0;
  if (typeof value !== 'number') throw new KernelUnsupported(req, 'a value that is not one number');
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  const width = widthFor(n);
  const outBinding = req.inputs.length;
  return {
    passes: [
      perThreadPass({
        bindings: [outBinding],
        declarations: [storage(outBinding, 'out', lanes('u32', width), 'read_write')],
        threads: n / width,
        body: [`out[i] = ${lanes('u32', width)}(${u32(bitsOf(value, out.type))});`],
      }),
    ],
  };
};

/** An index into an axis of `size`, negative ones counted from its end (WGSL). */
const wrapped = (index: string, size: number): string =>
  `u32(select(${index}, ${index} + ${size}i, ${index} < 0i))`;

/**
 * Gather along `axis`: out[o, j, n] = x[o, idx[j], n], with o over the data's axes before `axis`, j over the
 * indices and n over the data's axes after it. A thread moves a vec4 when that inner block is a multiple of 4.
 */
const gather: KernelGenerator = (req) => {
  const [x, indices] = [input(req, 0), input(req, 1)];
  const out = req.outputs[0]!;
  const axis = axisAttribute(req, x.shape.length);
  if (indices.type !== 'i32') throw new KernelUnsupported(req, `${indices.type} indices`);
  const outer = productOf(x.shape.slice(0, axis));
  const inner = productOf(x.shape.slice(axis + 1));
  const count = numelOf(indices.shape);
  const size = x.shape[axis]!;
  const width = widthFor(inner);
  const innerW = inner / width;
  const n = numelOf(out.shape);
  if (n !== outer * count * inner) throw new KernelUnsupported(req, `output shape [${out.shape}]`);
  if (n === 0) return { passes: [] };
  return {
    passes: [
      perThreadPass({
        bindings: [0, 1, 2],
        declarations: [
          storage(0, 'x', lanes(x.type, width), 'read'),
          storage(1, 'idx', 'i32', 'read'),
          storage(2, 'out', lanes(out.type, width), 'read_write'),
        ],
        threads: n / width,
        body: [
          `let o = i / ${u32(count * innerW)};`,
          `let r = i % ${u32(count * innerW)};`,
          `let j = idx[r / ${u32(innerW)}];`,
          `out[i] = x[(o * ${u32(size)} + ${wrapped('j', size)}) * ${u32(innerW)} + r % ${u32(innerW)}];`,
        ],
      }),
    ],
  };
};

/**
 * WGSL lines that place element `i` of an indices tensor into the data: its coordinates, with the one on `axis`
 * replaced by the (wrapped) index read at `i`; leaves the data offset in `dst`.
 */
function elementOffset(indices: KernelTensor, data: KernelTensor, axis: number): string[] {
  const { lines, coords } = coordinates(indices.shape, 'i', 'c');
  const strides = stridesOf(data.shape);
  const others = offsetOf(
    coords.map((c, d) => (d === axis ? null : c)),
    strides,
  );
  const onAxis = `${wrapped('idx[i]', data.shape[axis]!)} * ${u32(strides[axis]!)}`;
  return [...lines, `let dst = ${others} + ${onAxis};`];
}

/** GatherElements along `axis`: out[c] = x[c with c[axis] = idx[c]]. */
const gatherElements: KernelGenerator = (req) => {
  const [x, indices] = [input(req, 0), input(req, 1)];
  const out = req.outputs[0]!;
  const axis = axisAttribute(req, x.shape.length);
  if (indices.type !== 'i32' || indices.shape.length !== x.shape.length)
    throw new KernelUnsupported(req, `${indices.type} indices of rank ${indices.shape.length}`);
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  return {
    passes: [
      perThreadPass({
        bindings: [0, 1, 2],
        declarations: [
          storage(0, 'x', x.type, 'read'),
          storage(1, 'idx', 'i32', 'read'),
          storage(2, 'out', out.type, 'read_write'),
        ],
        threads: n,
        body: [...elementOffset(indices, x, axis), 'out[i] = x[dst];'],
      }),
    ],
  };
};

const SCATTER_COMBINE: Readonly<Partial<Record<string, (old: string, update: string) => string>>> = {
  add: (a, b) => `${a} + ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
};

/** Longest run of updates along the axis that one thread applies in order (see ScatterElements). */
export const SERIAL_SCATTER_LIMIT = 16384;

/**
 * ScatterElements along `axis`: out = x, then out[c with c[axis] = idx[c]] (op)= updates[c] for each c of the
 * indices. Pass 1 copies x. Two updates can only meet when they differ in nothing but their coordinate on `axis`
 * (the others are the destination's), so pass 2 gives each line of the indices along `axis` one thread that applies
 * its updates in order: ONNX Runtime's order, so float sums agree with it to the bit and from run to run. The
 * embedding gradient's lines are batch·seq long; past `serialLimit` updates a line, pass 2 runs a thread per update
 * instead, and as WGSL has no float atomics it views the output as atomic<u32> and retries a compare-exchange of
 * the combined bit pattern until no other thread wrote in between (integer addition is a plain atomicAdd). Repeated
 * updates then land in the scheduler's order: float sums may differ in the last bits from run to run.
 */
export function scatterElementsKernel(req: KernelRequest, serialLimit = SERIAL_SCATTER_LIMIT): Kernel {
  const [x, indices, updates] = [input(req, 0), input(req, 1), input(req, 2)];
  const out = req.outputs[0]!;
  const axis = axisAttribute(req, x.shape.length);
  const reduction = (req.attributes.reduction as string | undefined) ?? 'none';
  const combine = SCATTER_COMBINE[reduction];
  if (reduction !== 'none' && !combine) throw new KernelUnsupported(req, `reduction '${reduction}'`);
  if (indices.type !== 'i32' || indices.shape.length !== x.shape.length || updates.type !== x.type)
    throw new KernelUnsupported(req, `${indices.type} indices of rank ${indices.shape.length}`);
  const n = numelOf(out.shape);
  if (n === 0) return { passes: [] };
  const width = widthFor(n);
  const copy = perThreadPass({
    bindings: [0, 3],
    declarations: [
      storage(0, 'x', lanes(x.type, width), 'read'),
      storage(3, 'out', lanes(out.type, width), 'read_write'),
    ],
    threads: n / width,
    body: ['out[i] = x[i];'],
  });
  const count = numelOf(indices.shape);
  if (count === 0) return { passes: [copy] };
  const t = out.type;
  const line = indices.shape[axis]!;
  if (line <= serialLimit) {
    // One thread per line: its coordinates are the indices' with the axis left out.
    const lineShape = indices.shape.map((d, a) => (a === axis ? 1 : d));
    const { lines, coords } = coordinates(lineShape, 'i', 'c');
    const [iStrides, dStrides] = [stridesOf(indices.shape), stridesOf(x.shape)];
    const body = [
      ...lines,
      `let base = ${offsetOf(coords, iStrides)};`,
      `let dbase = ${offsetOf(coords, dStrides)};`,
      `for (var k = 0u; k < ${u32(line)}; k++) {`,
      `  let j = base + k * ${u32(iStrides[axis]!)};`,
      `  let dst = dbase + ${wrapped('idx[j]', x.shape[axis]!)} * ${u32(dStrides[axis]!)};`,
      combine ? `  out[dst] = ${combine('out[dst]', 'upd[j]')};` : '  out[dst] = upd[j];',
      '}',
    ];
    const serial = perThreadPass({
      bindings: [1, 2, 3],
      declarations: [
        storage(1, 'idx', 'i32', 'read'),
        storage(2, 'upd', updates.type, 'read'),
        storage(3, 'out', t, 'read_write'),
      ],
      threads: count / line,
      body,
    });
    return { passes: [copy, serial] };
  }
  const write = !combine
    ? ['out[dst] = upd[i];']
    : reduction === 'add' && t !== 'f32'
      ? ['atomicAdd(&out[dst], bitcast<u32>(upd[i]));']
      : [
          'var old = atomicLoad(&out[dst]);',
          'loop {',
          `  let next = bitcast<u32>(${combine(`bitcast<${t}>(old)`, 'upd[i]')});`,
          '  let r = atomicCompareExchangeWeak(&out[dst], old, next);',
          '  if (r.exchanged) { break; }',
          '  old = r.old_value;',
          '}',
        ];
  const atomic = perThreadPass({
    bindings: [1, 2, 3],
    declarations: [
      storage(1, 'idx', 'i32', 'read'),
      storage(2, 'upd', updates.type, 'read'),
      storage(3, 'out', combine ? 'atomic<u32>' : t, 'read_write'),
    ],
    threads: count,
    body: [...elementOffset(indices, x, axis), ...write],
  });
  return { passes: [copy, atomic] };
}

export const layoutKernels: Record<string, KernelGenerator> = {
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Expand: expand,
  Range: range,
  ConstantOfShape: constantOfShape,
  Gather: gather,
  GatherElements: gatherElements,
  ScatterElements: (req) => scatterElementsKernel(req),
};
