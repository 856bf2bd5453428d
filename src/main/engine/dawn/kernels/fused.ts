import type { Epilogue, Kernel, KernelRequest, KernelTensor } from '../kernel.ts';
import { elementCode, elementMaps, mapKernel, type ElementCode, type ElementMap } from './elementwise.ts';
import { lanes, literal, MAX_STORAGE_BUFFERS, type ElementType } from './perElement.ts';

/**
 * Elementwise nodes of one output shape compiled into one kernel, their intermediates read only inside it: each
 * thread computes every member's value for its element in registers and stores only the last one. A training
 * step's elementwise nodes mostly feed other elementwise nodes (GELU's Div → Erf → Add → Mul → Mul, the dropout
 * mask's hash, AdamW's update), so fused they make a fraction of the dispatches and of the memory traffic: an
 * intermediate that is never stored is neither written nor read back. The same members can also run inside a
 * matrix product's store (productEpilogue) or a reduction's load (reductionPrologue).
 */

/** Where one input of a member comes from. */
export type FusedSource =
  /** one of the fused kernel's inputs (a tensor computed outside the chain) */
  | { readonly leaf: number }
  /** an earlier member's value */
  | { readonly member: number }
  /** a single value known when the graph is compiled, written into the source as a literal */
  | { readonly scalar: number }
  /** the element's own linear index in the output (a dropout mask's counter), computed, not read */
  | { readonly index: true };

export interface FusedMember {
  /** The member's own request (its shapes, attributes and constants), as if it ran alone. */
  readonly request: KernelRequest;
  /** For each of the request's inputs, where its value comes from (null for an absent optional input). */
  readonly sources: readonly (FusedSource | null)[];
}

/** Inputs a fused kernel may bind: one storage binding stays for its output. */
export const MAX_FUSED_LEAVES = MAX_STORAGE_BUFFERS - 1;

/** Whether a value known at compile time can be written as a WGSL literal of `type` (finite, representable). */
export function isScalarLiteral(value: number, type: ElementType): boolean {
  if (type === 'f32') return Number.isFinite(Math.fround(value));
  // WGSL has no i32 literal for -2³¹ (it is the negation of an out-of-range 2³¹)
  return Number.isInteger(value) && (type === 'u32' || (value | 0) !== -(2 ** 31));
}

/**
 * One element map computing every member in turn (each member's sources name earlier members only; the last is
 * the one whose value is the map's), over a request whose inputs are `inputs` (a leaf source's number is an index
 * into them) and whose output is the last member's.
 */
export function fusedElementMap(
  inputs: readonly (KernelTensor | null)[],
  members: readonly FusedMember[],
): { request: KernelRequest; map: ElementMap } {
  const root = members.at(-1);
  if (!root) throw new Error('a fused kernel needs at least one member');
  const maps: ElementMap[] = members.map((m, j) => {
    const mapOf = elementMaps[m.request.opType];
    if (!mapOf) throw new Error(`${m.request.opType} is not an elementwise operator`);
    for (const s of m.sources)
      if (s && 'member' in s && s.member >= j)
        throw new Error(`fused member ${j} reads member ${s.member}, which is not computed before it`);
    return mapOf(m.request);
  });
  const operands = [
    ...new Set(
      members.flatMap((m, j) =>
        maps[j]!.operands.flatMap((k) => (m.sources[k] && 'leaf' in m.sources[k] ? [m.sources[k].leaf] : [])),
      ),
    ),
  ].sort((a, b) => a - b);
  const argsOf = (j: number, args: readonly string[], width: 1 | 4): string[] =>
    maps[j]!.operands.map((k) => {
      const source = members[j]!.sources[k];
      if (!source) throw new Error(`fused ${members[j]!.request.opType} has no input ${k}`);
      if ('leaf' in source) return args[operands.indexOf(source.leaf)]!;
      if ('member' in source) return `t${source.member}`;
      const type = members[j]!.request.inputs[k]!.type;
      if ('index' in source) {
        // `i` counts the output's lane groups: element 4i + j in lane j of a vec4
        const e = width === 4 ? 'vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u)' : 'i';
        return type === 'u32' ? e : `${lanes(type, width)}(${e})`;
      }
      return `${lanes(type, width)}(${literal(source.scalar, type)})`;
    });
  const request: KernelRequest = {
    opType: `Fused(${members.map((m) => m.request.opType).join(',')})`,
    inputs,
    outputs: [root.request.outputs[0]!],
    attributes: {},
    constants: inputs.map(() => null),
  };
  const last = members.length - 1;
  return {
    request,
    map: {
      operands,
      helpers: (width) => [...new Set(maps.flatMap((m) => (m.helpers ? [m.helpers(width)] : [])))].join('\n'),
      lines: (args, width) =>
        maps.slice(0, last).map((m, j) => `let t${j} = ${m.expr(argsOf(j, args, width), width)};`),
      expr: (args, width) => maps[last]!.expr(argsOf(last, args, width), width),
    },
  };
}

/** The kernel of fused members reading `leaves` (see fusedElementMap). */
export function fusedKernel(
  leaves: readonly KernelTensor[],
  members: readonly FusedMember[],
  maxGroupsX?: number,
): Kernel {
  const { request, map } = fusedElementMap(leaves, members);
  if (map.operands.length > MAX_FUSED_LEAVES)
    throw new Error(`a fused kernel reads ${map.operands.length} tensors, more than ${MAX_FUSED_LEAVES}`);
  return mapKernel(request, map, maxGroupsX);
}

/**
 * Elementwise members applied to a matrix product's result where the product writes it (kernels/matmul.ts), so
 * the product's output is never stored: `inputs` are the epilogue node's inputs (the product's operands, then the
 * other tensors the members read), and the product's result is the source `{ leaf: inputs.length }`.
 * `code(width)` is module-scope WGSL defining `epilogue4(i: u32, x: vec4<f32>) -> vec4<f32>` (width 4: `i` counts
 * vec4s of the output) or `epilogue1(i: u32, x: f32) -> f32` (`i` counts elements), and the bindings it reads.
 */
export function productEpilogue(
  inputs: readonly (KernelTensor | null)[],
  members: readonly FusedMember[],
): Epilogue {
  const root = members.at(-1)!;
  const out = root.request.outputs[0]!;
  if (out.type !== 'f32') throw new Error(`an epilogue writing ${out.type}: products write f32`);
  const value = inputs.length;
  const { request, map } = fusedElementMap([...inputs, { shape: out.shape, type: 'f32' }], members);
  return {
    code: (width) =>
      asFunction(
        `epilogue${width}(i: u32, x: ${lanes('f32', width)})`,
        elementCode(request, map, { width, given: new Map([[value, 'x']]) }),
      ),
  };
}

/** Element code as a WGSL function `signature -> f32 or vec4<f32>` of the lane index `i`, with what it binds. */
function asFunction(
  signature: string,
  code: ElementCode,
): { readonly declarations: readonly string[]; readonly bindings: readonly number[] } {
  return {
    bindings: code.bindings,
    declarations: [
      ...code.declarations,
      `fn ${signature} -> ${lanes('f32', code.width)} {`,
      ...code.body.map((l) => `  ${l}`),
      `  return ${code.value};`,
      '}',
    ],
  };
}

/**
 * Elementwise members computed where a reduction reads its input (Softmax, LayerNormalization, ReduceSum…), so
 * their result is never stored: `inputs` are the fused node's inputs (the reduction's, its data input null, then
 * the members' tensors). `code` is module-scope WGSL defining `load_x(i: u32) -> f32`, the value of the
 * reduction's input at element i, and the bindings it reads.
 */
export function reductionPrologue(
  inputs: readonly (KernelTensor | null)[],
  members: readonly FusedMember[],
): { readonly declarations: readonly string[]; readonly bindings: readonly number[] } {
  const root = members.at(-1)!;
  if (root.request.outputs[0]!.type !== 'f32') throw new Error('a reduction prologue must compute f32');
  const { request, map } = fusedElementMap(inputs, members);
  return asFunction('load_x(i: u32)', elementCode(request, map, { width: 1 }));
}

/** The declaration reduction kernels give their data input (binding 0); later passes bind scratch as `x`. */
const DATA_INPUT = '@group(0) @binding(0) var<storage, read> x: array<f32>;';

/**
 * A reduction's kernel with its data input computed by a prologue: every pass that reads binding 0 as `x` calls
 * load_x(…) where it read x[…], and binds the prologue's tensors instead.
 */
export function withPrologue(
  kernel: Kernel,
  prologue: { readonly declarations: readonly string[]; readonly bindings: readonly number[] },
): Kernel {
  let used = false;
  const passes = kernel.passes.map((pass) => {
    if (!pass.code.includes(DATA_INPUT)) return pass;
    used = true;
    const code = pass.code.replace(DATA_INPUT, () => prologue.declarations.join('\n'));
    // x[expr] → load_x(expr), brackets matched
    let out = '';
    let at = 0;
    const reads = /\bx\[/g;
    for (let m = reads.exec(code); m; m = reads.exec(code)) {
      const open = m.index + 1;
      let depth = 0;
      let close = open;
      for (; close < code.length; close++) {
        if (code[close] === '[') depth++;
        else if (code[close] === ']' && --depth === 0) break;
      }
      if (close >= code.length) throw new Error('unbalanced brackets in a reduction kernel');
      out += `${code.slice(at, m.index)}load_x(${code.slice(open + 1, close)})`;
      at = reads.lastIndex = close + 1;
    }
    out += code.slice(at);
    return {
      ...pass,
      code: out,
      bindings: [...pass.bindings.filter((b) => b !== 0), ...prologue.bindings],
    };
  });
  if (!used) throw new Error('the reduction kernel reads no data input a prologue could replace');
  return { ...kernel, passes };
}
