import {
  KernelUnsupported,
  numelOf,
  type Kernel,
  type KernelGenerator,
  type KernelRequest,
} from '../kernel.ts';
import {
  coordinates,
  lanes,
  offsetOf,
  perThreadPass,
  storage,
  stridesOf,
  type ElementType,
  type Width,
} from './perElement.ts';

/**
 * Elementwise operators: out[i] = f(a[i'], b[i''], …) with numpy's multidirectional broadcasting, each operand's
 * index i' rebuilt from the output's coordinates (shapes are static, so the strides are literals). A thread
 * computes a vec4 when the size is a multiple of 4 and each operand is whole or a single element, or else the
 * output's last axis is a multiple of 4 long — most of a training step's ~700 elementwise nodes.
 */

/** How the output is computed from the operands' values (each of its operand's type, `width` lanes). */
export interface ElementMap {
  /** The request inputs that are operands, in order (Expand reads only its data input). */
  readonly operands: readonly number[];
  /** Module-scope WGSL functions the expression calls, for lanes of `width`. */
  readonly helpers?: (width: Width) => string;
  /** Statements before the store (a fused chain's intermediate values, as `let`s). */
  readonly lines?: (args: readonly string[], width: Width) => string[];
  readonly expr: (args: readonly string[], width: Width) => string;
}

/** Whether `shape` broadcasts to `to` (aligned on the right, each axis equal or 1). */
function broadcastsTo(shape: readonly number[], to: readonly number[]): boolean {
  if (shape.length > to.length) return false;
  const lead = to.length - shape.length;
  return shape.every((n, d) => n === 1 || n === to[lead + d]);
}

/** The operand's strides over the output's axes: 0 where it is broadcast. */
function broadcastStrides(shape: readonly number[], to: readonly number[]): number[] {
  const own = stridesOf(shape);
  const lead = to.length - shape.length;
  return to.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : own[d - lead]!));
}

/** An element map as WGSL that computes the output's lane group `i` (a u32 in scope), for a kernel to embed. */
export interface ElementCode {
  /** 4: `i` indexes vec4s of the output (4 neighbours along its last axis); 1: single elements. */
  readonly width: Width;
  /** Storage declarations of the operands it reads, and the helper functions the expression calls. */
  readonly declarations: readonly string[];
  /** The binding numbers of those operands. */
  readonly bindings: readonly number[];
  /** Statements, then the expression of the output's value (of the output's type, `width` lanes). */
  readonly body: readonly string[];
  readonly value: string;
}

/**
 * The code of an element map. `given` supplies operands the caller already holds (request input → a WGSL
 * expression of `width` lanes, e.g. a matrix product's result in its epilogue): they are neither declared nor
 * read, and must be whole (the output's shape). `width` forces the lane count (4 only where the output's size and
 * last axis allow it).
 */
export function elementCode(
  req: KernelRequest,
  map: ElementMap,
  opts: { width?: Width; given?: ReadonlyMap<number, string> } = {},
): ElementCode {
  const out = req.outputs[0]!;
  const n = numelOf(out.shape);
  const operands = map.operands.map((k) => {
    const t = req.inputs[k];
    if (!t) throw new KernelUnsupported(req, `an absent input ${k}`);
    if (!broadcastsTo(t.shape, out.shape))
      throw new KernelUnsupported(req, `input shape [${t.shape}] broadcast to [${out.shape}]`);
    if (opts.given?.has(k) && numelOf(t.shape) !== n)
      throw new KernelUnsupported(req, `a given operand of shape [${t.shape}] for an output [${out.shape}]`);
    return { k, t, numel: numelOf(t.shape) };
  });
  // A vec4 of the output is 4 neighbours along its last axis: an operand that is whole or has that axis reads a
  // vec4 too; one that is a single element or broadcast along that axis reads one element for all 4 lanes.
  const last = out.shape.at(-1) ?? 1;
  const whole = (o: (typeof operands)[number]) => o.numel === n || o.numel === 1;
  const vec4Possible = n % 4 === 0 && (operands.every(whole) || last % 4 === 0);
  if (opts.width === 4 && !vec4Possible)
    throw new KernelUnsupported(req, `vec4 lanes over an output [${out.shape}]`);
  const width: Width = opts.width ?? (vec4Possible ? 4 : 1);
  const vectorOperand = (o: (typeof operands)[number]) =>
    width === 4 && o.numel !== 1 && (o.numel === n || o.t.shape.at(-1) === last);
  const read = operands.filter((o) => !opts.given?.has(o.k));
  const declarations = read.map((o) =>
    storage(o.k, `in${o.k}`, vectorOperand(o) ? lanes(o.t.type, 4) : o.t.type, 'read'),
  );
  if (map.helpers) declarations.push(map.helpers(width));

  const body: string[] = [];
  const inLanes = (shape: readonly number[]) =>
    width === 4 ? [...shape.slice(0, -1), shape.at(-1)! / 4] : shape;
  const coords = read.every(whole) ? null : coordinates(inLanes(out.shape), 'i', 'c');
  if (coords) body.push(...coords.lines);
  const args = operands.map((o, j) => {
    const { k, t, numel } = o;
    const given = opts.given?.get(k);
    if (given !== undefined) return given;
    const index =
      numel === n
        ? 'i'
        : numel === 1
          ? '0'
          : vectorOperand(o)
            ? offsetOf(coords!.coords, broadcastStrides(inLanes(t.shape), inLanes(out.shape)))
            : offsetOf(coords!.coords, broadcastStrides(t.shape, out.shape));
    const value =
      vectorOperand(o) || width === 1 ? `in${k}[${index}]` : `${lanes(t.type, 4)}(in${k}[${index}])`;
    body.push(`let a${j} = ${value};`);
    return `a${j}`;
  });
  if (map.lines) body.push(...map.lines(args, width));
  return { width, declarations, bindings: read.map((o) => o.k), body, value: map.expr(args, width) };
}

/** The kernel of an element map; `maxGroupsX` is lowered only by the test of the index rebuild. */
export function mapKernel(req: KernelRequest, map: ElementMap, maxGroupsX?: number): Kernel {
  const out = req.outputs[0]!;
  const n = numelOf(out.shape);
  const code = elementCode(req, map);
  if (n === 0) return { passes: [] };
  const outBinding = req.inputs.length;
  return {
    passes: [
      perThreadPass(
        {
          bindings: [...code.bindings, outBinding],
          declarations: [
            ...code.declarations,
            storage(outBinding, 'out', lanes(out.type, code.width), 'read_write'),
          ],
          threads: n / code.width,
          body: [...code.body, `out[i] = ${code.value};`],
        },
        maxGroupsX,
      ),
    ],
  };
}

/** Checks that the listed inputs and the output share one element type; returns it. */
function sameType(
  req: KernelRequest,
  inputs: readonly number[],
  allowed: readonly ElementType[],
): ElementType {
  const types = inputs.map((k) => req.inputs[k]?.type);
  const type = req.outputs[0]!.type;
  if (types.some((t) => t !== type) || !allowed.includes(type))
    throw new KernelUnsupported(req, `types (${types.join(', ')}) -> ${type}`);
  return type;
}

const ALL_TYPES: readonly ElementType[] = ['f32', 'i32', 'u32'];

/** How an elementwise node's output is computed; throws KernelUnsupported for a form it does not handle. */
export type ElementMapOf = (req: KernelRequest) => ElementMap;

/** Add, Sub, Mul, Div: WGSL's integer arithmetic wraps and its division truncates, as ONNX's does. */
const arithmetic =
  (op: string): ElementMapOf =>
  (req) => {
    sameType(req, [0, 1], ALL_TYPES);
    return { operands: [0, 1], expr: ([a, b]) => `(${a} ${op} ${b})` };
  };

/** Min, Max of any number of operands. */
const extremum =
  (fn: 'min' | 'max'): ElementMapOf =>
  (req) => {
    const operands = req.inputs.map((_, k) => k);
    if (operands.length === 0) throw new KernelUnsupported(req, 'no inputs');
    sameType(req, operands, ALL_TYPES);
    return {
      operands,
      expr: (args) => args.slice(1).reduce((acc, a) => `${fn}(${acc}, ${a})`, args[0]!),
    };
  };

const unaryFloat =
  (fn: string, helpers?: (width: Width) => string): ElementMapOf =>
  (req) => {
    sameType(req, [0], ['f32']);
    return { operands: [0], helpers, expr: ([a]) => `${fn}(${a})` };
  };

/** a(s) written as Horner's rule over coefficients c0 + c1·s + c2·s² + … */
const horner = (coefficients: readonly number[], s: string): string =>
  coefficients.slice(0, -1).reduceRight((acc, c) => `${c} + ${s} * (${acc})`, String(coefficients.at(-1)));

/**
 * erf(x) = x·P(x²) for |x| < 1; erf(x) = 1 − exp(Q(u)), u = (|x| − 2.5) / 1.5, for 1 ≤ |x| ≤ 4 (Q fits log erfc);
 * ±1 beyond 4, where erfc < 2⁻²⁵. P (degree 6 in x²) and Q (degree 10) are our minimax fits (Lawson-reweighted
 * least squares against mpmath's erf), rounded to f32: max error 1.6e-7 relative, 1.3e-7 absolute in f32.
 */
const ERF_P = [
  1.1283791065216064, -0.3761262595653534, 0.1128358542919159, -0.026853814721107483, 0.005188333801925182,
  -0.0008010240271687508, 7.854002615204081e-5,
];
const ERF_Q = [
  -7.806815147399902, -8.029021263122559, -2.123760938644409, -0.03664630651473999, 0.010963098146021366,
  -0.0031947495881468058, 0.0008760443306528032, -0.00022170116426423192, 4.768250073539093e-5,
  -2.5343342713313177e-6, -2.526285015846952e-6,
];
const erfHelper = (width: Width): string => {
  const v = lanes('f32', width);
  return `
fn erf_(x: ${v}) -> ${v} {
  let ax = abs(x);
  let s = ax * ax;
  let small = ax * (${horner(ERF_P, 's')});
  let u = (clamp(ax, ${v}(1.0), ${v}(4.0)) - 2.5) / 1.5;
  let large = 1.0 - exp(${horner(ERF_Q, 'u')});
  return sign(x) * select(large, small, ax < ${v}(1.0));
}`;
};

/**
 * ONNX's Pow is C's pow; WGSL's pow(a, b) is undefined for a < 0 and for a = 0, b ≤ 0. A negative base with an
 * integral exponent keeps the sign of odd powers; with a fractional one the result is NaN.
 */
const powHelper = (width: Width): string => {
  const scalar = `
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let m = abs(a);
  var p: f32;
  if (m == 0.0) { p = select(1.0 / m, 0.0, b > 0.0); } else { p = pow(m, b); }
  if (a < 0.0) {
    if (trunc(b) != b) { return bitcast<f32>(NAN_BITS); }
    if (trunc(b * 0.5) != b * 0.5) { return -p; }
  }
  return p;
}`;
  if (width === 1) return scalar;
  return `${scalar}
fn pow4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(pow_(a.x, b.x), pow_(a.y, b.y), pow_(a.z, b.z), pow_(a.w, b.w));
}`;
};

const pow: ElementMapOf = (req) => {
  const [base, exponent] = req.inputs;
  if (base?.type !== 'f32' || req.outputs[0]!.type !== 'f32' || !exponent)
    throw new KernelUnsupported(req, `a ${base?.type ?? 'missing'} base`);
  return {
    operands: [0, 1],
    helpers: powHelper,
    expr: ([a, b], width) => {
      const e = exponent.type === 'f32' ? b! : `${lanes('f32', width)}(${b})`;
      return width === 4 ? `pow4(${a}, ${e})` : `pow_(${a}, ${e})`;
    },
  };
};

const zeroOf = (type: ElementType, width: Width): string =>
  `${lanes(type, width)}(${type === 'f32' ? '0.0' : type === 'i32' ? '0i' : '0u'})`;

/** A boolean (u32 0 or 1) from a WGSL bool expression of `width` lanes. */
const asBool = (condition: string, width: Width): string =>
  `select(${lanes('u32', width)}(0u), ${lanes('u32', width)}(1u), ${condition})`;

const comparison =
  (op: string): ElementMapOf =>
  (req) => {
    const [a, b] = req.inputs;
    if (!a || !b || a.type !== b.type || req.outputs[0]!.type !== 'u32')
      throw new KernelUnsupported(req, `types (${a?.type}, ${b?.type}) -> ${req.outputs[0]!.type}`);
    return { operands: [0, 1], expr: ([x, y], width) => asBool(`${x} ${op} ${y}`, width) };
  };

/** Where(cond, x, y) = cond ? x : y, cond a bool (u32 0 or 1). */
const where: ElementMapOf = (req) => {
  if (req.inputs[0]?.type !== 'u32') throw new KernelUnsupported(req, `a ${req.inputs[0]?.type} condition`);
  sameType(req, [1, 2], ALL_TYPES);
  return {
    operands: [0, 1, 2],
    expr: ([c, x, y], width) => `select(${y}, ${x}, ${c} != ${zeroOf('u32', width)})`,
  };
};

/** ONNX type codes Cast converts to, and how the device stores each (bool as u32 0/1, int64 as i32). */
const CAST_TARGETS: Readonly<Record<number, { type: ElementType; bool?: true }>> = {
  1: { type: 'f32' },
  6: { type: 'i32' },
  7: { type: 'i32' },
  9: { type: 'u32', bool: true },
  12: { type: 'u32' },
};

/**
 * Cast: WGSL's conversions are ONNX's (i32 ↔ u32 reinterpret the bits, float → int truncates toward zero); to bool
 * is x ≠ 0. From bool needs nothing: 0 and 1 convert to 0 and 1.
 */
const cast: ElementMapOf = (req) => {
  const to = CAST_TARGETS[req.attributes.to as number];
  const from = req.inputs[0];
  if (!to || !from || to.type !== req.outputs[0]!.type)
    throw new KernelUnsupported(req, `Cast to ONNX type ${String(req.attributes.to)}`);
  return {
    operands: [0],
    expr: ([a], width) =>
      to.bool
        ? asBool(`${a} != ${zeroOf(from.type, width)}`, width)
        : from.type === to.type
          ? a!
          : `${lanes(to.type, width)}(${a})`,
  };
};

/** The elementwise operators by ONNX op type: what the executor may fuse (fuse.ts) as well as run alone. */
export const elementMaps: Readonly<Record<string, ElementMapOf>> = {
  Add: arithmetic('+'),
  Sub: arithmetic('-'),
  Mul: arithmetic('*'),
  Div: arithmetic('/'),
  Pow: pow,
  Min: extremum('min'),
  Max: extremum('max'),
  Sqrt: unaryFloat('sqrt'),
  Exp: unaryFloat('exp'),
  Log: unaryFloat('log'),
  Erf: unaryFloat('erf_', erfHelper),
  Cast: cast,
  Less: comparison('<'),
  Where: where,
};

export const elementwiseKernels: Record<string, KernelGenerator> = Object.fromEntries(
  Object.entries(elementMaps).map(([op, mapOf]) => [op, (req: KernelRequest) => mapKernel(req, mapOf(req))]),
);
