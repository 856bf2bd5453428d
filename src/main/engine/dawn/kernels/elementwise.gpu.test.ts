/**
 * Our elementwise WGSL against ONNX Runtime's CPU provider, one node at a time: every form the training graphs
 * use (the census of cpu-tiny: ranks 0–4, f32 and u32, scalar operands), on shapes whose sizes take the vec4
 * path and shapes that do not, plus broadcasting that is not in the census yet.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../graph/graph.ts';
import { numelOf } from '../kernel.ts';
import {
  maxRelativeError,
  randomFloats,
  requestOf,
  runKernelOnDevice,
  runNodeOnDawn,
  runNodeOnOrt,
  toDeviceArray,
  type NodeInput,
  type NodeSpec,
  floatInput,
} from '../testing/runKernel.ts';
import { elementwiseKernels, mapKernel } from './elementwise.ts';

/** Integers in [0, max), as `dtype`. */
const ints = (dtype: 'uint32' | 'int32', shape: number[], seed: number, max: number, min = 0): NodeInput => {
  const values = Array.from(randomFloats(numelOf(shape), seed), (v) =>
    Math.floor(min + ((v + 1) / 2) * (max - min)),
  );
  return { dtype, shape, data: dtype === 'uint32' ? Uint32Array.from(values) : Int32Array.from(values) };
};
const bools = (shape: number[], seed: number): NodeInput => ({
  dtype: 'bool',
  shape,
  data: Uint8Array.from(randomFloats(numelOf(shape), seed), (v) => (v > 0 ? 1 : 0)),
});

/** The output shape numpy's broadcasting gives. */
function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, d) => Math.max(...shapes.map((s) => s[d - rank + s.length] ?? 1)));
}

const node = (
  opType: string,
  inputs: NodeInput[],
  dtype: DType = inputs[0]!.dtype,
  attributes?: NodeSpec['attributes'],
): NodeSpec => ({
  opType,
  inputs,
  outputs: [{ dtype, shape: broadcastShape(...inputs.map((i) => i.shape)) }],
  attributes,
});

/** Runs the node on both and compares: floats within `tolerance` (relative), integers exactly. */
async function expectSameAsOrt(spec: NodeSpec, tolerance = 1e-6): Promise<void> {
  const ours = await runNodeOnDawn(spec);
  const reference = await runNodeOnOrt(spec);
  spec.outputs.forEach((o, j) => {
    expect(ours[j]!.length).toBe(numelOf(o.shape));
    if (o.dtype === 'float32')
      expect(maxRelativeError(ours[j]!, reference[j]!)).toBeLessThanOrEqual(tolerance);
    else expect(Array.from(ours[j]!)).toEqual(Array.from(reference[j]!));
  });
}

/** Shapes of the census's operand pairs: [a, b] with (r_a, r_b) as listed, sizes both off and on the vec4 path. */
const FLOAT_BINARY_FORMS: Record<string, [number[], number[]][]> = {
  Add: [
    [[], []],
    [[7], []],
    [[8], [8]],
    [[3, 5], []],
    [
      [4, 8],
      [4, 8],
    ],
    [
      [3, 5],
      [3, 5],
    ],
    [
      [2, 4, 6],
      [4, 6],
    ],
    [
      [2, 3, 4, 5],
      [4, 5],
    ],
    [
      [2, 3, 2, 5, 4],
      [3, 1, 5, 1],
    ],
  ],
  Sub: [
    [[], []],
    [[], [6]],
    [[5], [5]],
    [
      [6, 8],
      [6, 8],
    ],
    [
      [2, 2, 3, 4],
      [2, 2, 3, 4],
    ],
    [
      [3, 1],
      [1, 4],
    ],
  ],
  Mul: [
    [[], []],
    [[5], []],
    [[5], [5]],
    [[6, 8], []],
    [[6, 7], [7]],
    [
      [4, 4],
      [4, 4],
    ],
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 2, 3, 4], []],
    [
      [2, 2, 3, 5],
      [2, 2, 3, 5],
    ],
  ],
  Div: [
    [[], []],
    [[5], [5]],
    [
      [3, 4],
      [3, 1],
    ],
  ],
};

describe('float binary arithmetic matches ONNX Runtime', () => {
  for (const [op, forms] of Object.entries(FLOAT_BINARY_FORMS))
    for (const [a, b] of forms)
      it(`${op} [${a}] with [${b}]`, async () => {
        // Divisors kept away from 0.
        const divisor = op === 'Div' ? floatInput(b, 2, 0.5, 1.5) : floatInput(b, 2);
        await expectSameAsOrt(node(op, [floatInput(a, 1), divisor]));
      });
});

describe('uint32 arithmetic wraps and divides as ONNX Runtime does', () => {
  const forms: [string, number[], number[]][] = [
    ['Add', [], []],
    ['Add', [3, 5], []],
    ['Add', [4, 4], [4, 4]],
    ['Add', [2, 3, 5], []],
    ['Add', [2, 3, 5], [2, 3, 5]],
    ['Add', [2, 2, 3, 4], []],
    ['Add', [2, 2, 3, 4], [2, 2, 3, 4]],
    ['Mul', [], []],
    ['Mul', [4, 5], []],
    ['Mul', [3, 5], [3, 5]],
    ['Mul', [2, 2, 4], []],
    ['Mul', [2, 3, 5], [2, 3, 5]],
    ['Mul', [2, 2, 3, 4], []],
    ['Mul', [2, 2, 3, 3], [2, 2, 3, 3]],
  ];
  for (const [op, a, b] of forms)
    it(`${op} [${a}] with [${b}] over the full u32 range`, async () => {
      await expectSameAsOrt(node(op, [ints('uint32', a, 3, 2 ** 32), ints('uint32', b, 4, 2 ** 32)]));
    });
  for (const a of [
    [3, 5],
    [2, 3, 4],
    [2, 1, 3, 5],
  ])
    it(`Div [${a}] by a scalar`, async () => {
      await expectSameAsOrt(node('Div', [ints('uint32', a, 5, 2 ** 32), ints('uint32', [], 6, 1000, 1)]));
    });
  it('int32 Sub and Div truncate toward zero', async () => {
    await expectSameAsOrt(node('Sub', [ints('int32', [3, 5], 7, 100, -100), ints('int32', [5], 8, 50, -50)]));
    await expectSameAsOrt(node('Div', [ints('int32', [3, 5], 7, 100, -100), ints('int32', [], 9, 7, 3)]));
  });
});

describe('float functions match ONNX Runtime', () => {
  it('Erf over [-5, 5] (both polynomial pieces and the saturated tails)', async () => {
    await expectSameAsOrt(node('Erf', [floatInput([24, 37], 1, 5)]), 1e-5);
    await expectSameAsOrt(node('Erf', [floatInput([8, 16], 2, 1.2)]), 1e-5);
    await expectSameAsOrt(node('Erf', [floatInput([3, 5], 3, 4.5)]), 1e-5);
  });
  it('Exp and Log', async () => {
    await expectSameAsOrt(node('Exp', [floatInput([6, 9], 3, 8)]), 1e-5);
    await expectSameAsOrt(node('Log', [floatInput([6, 8], 4, 5, 5.01)]), 1e-5);
  });
  it('Sqrt of a scalar and of a vector', async () => {
    await expectSameAsOrt(node('Sqrt', [floatInput([], 5, 2, 2.5)]));
    await expectSameAsOrt(node('Sqrt', [floatInput([9], 6, 2, 2.5)]));
  });
  it('Pow of scalars, and of negative bases with integral exponents', async () => {
    await expectSameAsOrt(node('Pow', [floatInput([], 7, 0.4, 0.5), floatInput([], 8, 3)]), 1e-5);
    const exponents: NodeInput = { dtype: 'float32', shape: [4], data: Float32Array.of(2, 3, -1, 0.5) };
    await expectSameAsOrt(node('Pow', [floatInput([5, 1], 9, 2, 2.5), exponents]), 1e-5);
    const integral: NodeInput = { dtype: 'float32', shape: [4], data: Float32Array.of(2, 3, -1, 0) };
    await expectSameAsOrt(node('Pow', [floatInput([3, 4], 10, 2), integral]), 1e-5);
  });
  it('Min of two scalars, and Min/Max broadcast', async () => {
    await expectSameAsOrt(node('Min', [floatInput([], 11), floatInput([], 12)]));
    await expectSameAsOrt(node('Min', [floatInput([3, 5], 13), floatInput([5], 14)]));
    await expectSameAsOrt(node('Max', [floatInput([4, 4], 15), floatInput([4, 4], 16), floatInput([], 17)]));
  });
});

describe('vec4 broadcasts along and across the last axis match ONNX Runtime', () => {
  it('Add [2,3,8] + [3,8], Sub [6,8] − [6,1], Mul [6,8] · [8]', async () => {
    await expectSameAsOrt(node('Add', [floatInput([2, 3, 8], 1), floatInput([3, 8], 2)]));
    await expectSameAsOrt(node('Sub', [floatInput([6, 8], 3), floatInput([6, 1], 4)]));
    await expectSameAsOrt(node('Mul', [floatInput([6, 8], 5), floatInput([8], 6)]));
  });
  it('Where mixing the three kinds of operand: [3,1,8] ? [4,1] : [8]', async () => {
    await expectSameAsOrt(
      node('Where', [bools([3, 1, 8], 7), floatInput([4, 1], 8), floatInput([8], 9)], 'float32'),
    );
  });
});

describe('Cast, Less and Where match ONNX Runtime', () => {
  it('Cast int32 → uint32 (two’s complement bits)', async () => {
    await expectSameAsOrt(node('Cast', [ints('int32', [13], 1, 1000, -1000)], 'uint32', { to: { int: 12 } }));
    await expectSameAsOrt(node('Cast', [ints('int32', [16], 2, 1000, -1000)], 'uint32', { to: { int: 12 } }));
  });
  it('Cast float → int32 truncates; uint32 → float; to and from bool', async () => {
    await expectSameAsOrt(node('Cast', [floatInput([3, 5], 3, 100)], 'int32', { to: { int: 6 } }));
    await expectSameAsOrt(node('Cast', [ints('uint32', [8], 4, 1 << 20)], 'float32', { to: { int: 1 } }));
    const withZeros = floatInput([3, 4], 5);
    (withZeros.data as Float32Array).fill(0, 0, 5);
    await expectSameAsOrt(node('Cast', [withZeros], 'bool', { to: { int: 9 } }));
    await expectSameAsOrt(node('Cast', [bools([7], 6)], 'float32', { to: { int: 1 } }));
  });
  it('Less of uint32 tensors against a scalar (ranks 2–4)', async () => {
    for (const shape of [
      [4, 5],
      [2, 3, 5],
      [2, 2, 2, 4],
    ])
      await expectSameAsOrt(
        node('Less', [ints('uint32', shape, 7, 100), ints('uint32', [], 8, 100)], 'bool'),
      );
  });
  it('Less of floats and int32 with broadcasting', async () => {
    await expectSameAsOrt(node('Less', [floatInput([3, 5], 9), floatInput([5], 10)], 'bool'));
    await expectSameAsOrt(
      node('Less', [ints('int32', [4], 11, 5, -5), ints('int32', [3, 1], 12, 5, -5)], 'bool'),
    );
  });
  it('Where of a bool mask and two scalars (ranks 2–4)', async () => {
    for (const shape of [
      [4, 5],
      [3, 4, 4],
      [2, 2, 3, 5],
    ])
      await expectSameAsOrt(
        node('Where', [bools(shape, 13), floatInput([], 14), floatInput([], 15)], 'float32'),
      );
  });
  it('Where broadcasting all three operands', async () => {
    await expectSameAsOrt(
      node('Where', [bools([3, 1, 5], 16), floatInput([4, 1], 17), floatInput([5], 18)], 'float32'),
    );
    await expectSameAsOrt(
      node('Where', [bools([1, 4], 19), ints('int32', [3, 1], 20, 9), ints('int32', [], 21, 9)], 'int32'),
    );
  });
});

describe('kernel forms', () => {
  it('takes the vec4 path for whole and scalar operands, and for broadcasts along a last axis of 4k', () => {
    const req = (a: number[], b: number[]) => requestOf(node('Add', [floatInput(a, 1), floatInput(b, 2)]));
    expect(elementwiseKernels.Add!(req([4, 8], [])).passes[0]!.code).toContain('array<vec4<f32>>');
    expect(elementwiseKernels.Add!(req([4, 8], [8])).passes[0]!.code).toContain('array<vec4<f32>>');
    expect(elementwiseKernels.Add!(req([4, 8], [4, 1])).passes[0]!.code).toContain('array<vec4<f32>>');
    expect(elementwiseKernels.Add!(req([4, 6], [6])).passes[0]!.code).not.toContain('vec4');
    expect(elementwiseKernels.Add!(req([3, 5], [])).passes[0]!.code).not.toContain('vec4');
  });
  it('an unsupported form is refused by name', () => {
    const req = requestOf(node('Cast', [floatInput([4], 1)], 'float32', { to: { int: 10 } }));
    expect(() => elementwiseKernels.Cast!(req)).toThrow(/Cast to ONNX type 10/);
  });
  it('rebuilds the thread index from a 2-D grid of workgroups (rows of 97 here, 65535 in use)', async () => {
    const spec = node('Add', [floatInput([300, 1001], 1), floatInput([1001], 2)]);
    const req = requestOf(spec);
    const kernel = mapKernel(req, { operands: [0, 1], expr: ([a, b]) => `(${a} + ${b})` }, 97);
    expect(kernel.passes[0]!.workgroups[1]).toBeGreaterThan(1);
    const [ours] = await runKernelOnDevice(
      kernel,
      req,
      spec.inputs.map((i) => toDeviceArray(i!)),
    );
    const [reference] = await runNodeOnOrt(spec);
    expect(maxRelativeError(ours!, reference!)).toBeLessThanOrEqual(1e-6);
  });
});
