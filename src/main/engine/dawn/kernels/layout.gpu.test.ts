/**
 * Our layout WGSL (Transpose, Concat, Split, Slice, Expand, Range, ConstantOfShape, Gather, GatherElements,
 * ScatterElements) against ONNX Runtime's CPU provider: every form of the cpu-tiny census, plus the forms the
 * kernels handle beyond it (more inputs or outputs than one pass binds, other axes, negative indices).
 */
import { describe, expect, it } from 'vitest';
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
import { layoutKernels, scatterElementsKernel } from './layout.ts';

/** int32 values in [min, max). */
const int32s = (shape: number[], seed: number, max: number, min = 0): NodeInput => ({
  dtype: 'int32',
  shape,
  data: Int32Array.from(randomFloats(numelOf(shape), seed), (v) =>
    Math.floor(min + ((v + 1) / 2) * (max - min)),
  ),
});
const int64Constant = (values: number[]): NodeInput => ({
  dtype: 'int64',
  shape: [values.length],
  data: BigInt64Array.from(values, BigInt),
  constant: true,
});

/** The finite values, with ±∞ and NaN as 0; and those others alone (a mask of −∞ is compared exactly). */
const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
const infinite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? 0 : v));

async function expectSameAsOrt(spec: NodeSpec): Promise<void> {
  const ours = await runNodeOnDawn(spec);
  const reference = await runNodeOnOrt(spec);
  spec.outputs.forEach((o, j) => {
    expect(ours[j]!.length).toBe(numelOf(o.shape));
    if (o.dtype === 'float32') {
      expect(maxRelativeError(finite(ours[j]!), finite(reference[j]!))).toBeLessThanOrEqual(1e-6);
      expect(infinite(ours[j]!)).toEqual(infinite(reference[j]!));
    } else expect(Array.from(ours[j]!)).toEqual(Array.from(reference[j]!));
  });
}

describe('Transpose matches ONNX Runtime', () => {
  // [shape, perm]: the census's four, then merged and dropped axes, and tiles cut by the edges of the tensor.
  const forms = [
    '2,3,4,5 0,1,3,2',
    '2,3,4,8 0,1,3,2',
    '2,3,5,4 0,2,1,3',
    '2,3,5,3 0,2,1,3',
    '3,2,2,3,4 1,3,0,2,4',
    '3,2,2,3,5 2,0,3,1,4',
    '1,3,1,5 3,2,1,0',
    '2,40,70 0,2,1',
    '4,6,9 2,0,1',
    '3,8,10,9 3,1,0,2',
  ].map((form) => form.split(' ').map((list) => list.split(',').map(Number)) as [number[], number[]]);
  for (const [shape, perm] of forms)
    it(`[${shape}] by [${perm}]`, async () => {
      await expectSameAsOrt({
        opType: 'Transpose',
        inputs: [floatInput(shape, 1)],
        outputs: [{ dtype: 'float32', shape: perm.map((a) => shape[a]!) }],
        attributes: { perm: { ints: perm } },
      });
    });
});

describe('Transpose kernel forms', () => {
  const kernelOf = (shape: number[], perm: number[]) =>
    layoutKernels.Transpose!(
      requestOf({
        opType: 'Transpose',
        inputs: [floatInput(shape, 1)],
        outputs: [{ dtype: 'float32', shape: perm.map((a) => shape[a]!) }],
        attributes: { perm: { ints: perm } },
      }),
    );
  it('moves tiles through workgroup memory when the innermost axis moves, vec4 when it stays', () => {
    expect(kernelOf([12, 4, 64, 32], [0, 1, 3, 2]).passes[0]!.code).toContain('var<workgroup>');
    expect(kernelOf([12, 64, 4, 32], [0, 2, 1, 3]).passes[0]!.code).toContain('array<vec4<f32>>');
    expect(kernelOf([12, 64, 4, 3], [0, 1, 3, 2]).passes[0]!.code).not.toContain('var<workgroup>');
  });
});

describe('Concat and Split match ONNX Runtime', () => {
  const concat = (shapes: number[][], axis: number): NodeSpec => {
    const shape = [...shapes[0]!];
    shape[axis] = shapes.reduce((s, x) => s + x[axis]!, 0);
    return {
      opType: 'Concat',
      inputs: shapes.map((s, k) => floatInput(s, k + 1)),
      outputs: [{ dtype: 'float32', shape }],
      attributes: { axis: { int: axis } },
    };
  };
  it('vectors whose lengths are all multiples of 4 move as vec4', () => {
    expect(layoutKernels.Concat!(requestOf(concat([[8], [4], [12]], 0))).passes[0]!.code).toContain('vec4');
    expect(layoutKernels.Concat!(requestOf(concat([[8], [5], [12]], 0))).passes[0]!.code).not.toContain(
      'vec4',
    );
  });
  it('4, 6 and 7 vectors on axis 0', async () => {
    await expectSameAsOrt(concat([[3], [5], [1], [4]], 0));
    await expectSameAsOrt(concat([[4], [8], [4], [12], [4], [4]], 0));
    await expectSameAsOrt(concat([[3], [5], [1], [4], [2], [7], [6]], 0));
  });
  it('3 rank-5 tensors on axis 0', async () => {
    await expectSameAsOrt(
      concat(
        [
          [1, 2, 3, 2, 4],
          [1, 2, 3, 2, 4],
          [1, 2, 3, 2, 4],
        ],
        0,
      ),
    );
  });
  it('10 inputs on an inner axis (two passes of at most 7 inputs)', async () => {
    await expectSameAsOrt(
      concat(
        Array.from({ length: 10 }, (_, k) => [2, 1 + (k % 3), 3]),
        1,
      ),
    );
    expect(
      layoutKernels.Concat!(
        requestOf(
          concat(
            Array.from({ length: 10 }, () => [2, 2]),
            1,
          ),
        ),
      ).passes,
    ).toHaveLength(2);
  });

  const split = (shape: number[], axis: number, sizes: number[], asInput = true): NodeSpec => ({
    opType: 'Split',
    inputs: asInput ? [floatInput(shape, 1), int64Constant(sizes)] : [floatInput(shape, 1)],
    outputs: sizes.map((n) => {
      const s = [...shape];
      s[(axis + shape.length) % shape.length] = n;
      return { dtype: 'float32', shape: s };
    }),
    attributes: asInput
      ? { axis: { int: axis } }
      : { axis: { int: axis }, num_outputs: { int: sizes.length } },
  });
  it('a vector into 4, 6 and 7 parts by sizes', async () => {
    await expectSameAsOrt(split([13], 0, [3, 5, 1, 4]));
    await expectSameAsOrt(split([36], 0, [4, 8, 4, 12, 4, 4]));
    await expectSameAsOrt(split([28], 0, [3, 5, 1, 4, 2, 7, 6]));
  });
  it('a rank-5 tensor into 3 on axis 0, and equal parts by number of outputs', async () => {
    await expectSameAsOrt(split([3, 2, 2, 3, 4], 0, [1, 1, 1]));
    await expectSameAsOrt(split([2, 6, 5], 1, [2, 2, 2], false));
  });
  it('9 outputs on an inner axis (two passes)', async () => {
    await expectSameAsOrt(split([2, 18, 4], -2, [1, 2, 3, 1, 2, 3, 1, 2, 3]));
  });
});

describe('Slice matches ONNX Runtime', () => {
  const slice = (
    shape: number[],
    out: number[],
    starts: number[],
    ends: number[],
    axes?: number[],
    steps?: number[],
  ): NodeSpec => ({
    opType: 'Slice',
    inputs: [
      floatInput(shape, 3),
      int64Constant(starts),
      int64Constant(ends),
      ...(axes ? [int64Constant(axes)] : []),
      ...(steps ? [int64Constant(steps)] : []),
    ],
    outputs: [{ dtype: 'float32', shape: out }],
  });
  it("the first element of each axis (activation checkpointing's ordering slice)", async () => {
    await expectSameAsOrt(slice([4, 16, 32], [1, 1, 1], [0, 0, 0], [1, 1, 1]));
  });
  it('inner ranges, negative starts, named axes and steps', async () => {
    await expectSameAsOrt(slice([6, 10, 7], [6, 4, 7], [3], [7], [1]));
    await expectSameAsOrt(slice([6, 10, 7], [2, 10, 3], [-4, -3], [-2, 7], [0, 2]));
    await expectSameAsOrt(slice([9, 8], [3, 3], [1, 0], [9, 8], [0, 1], [3, 3]));
  });
});

describe('Expand, Range and ConstantOfShape match ONNX Runtime', () => {
  it('Expand of an int32 matrix to a static shape', async () => {
    await expectSameAsOrt({
      opType: 'Expand',
      inputs: [int32s([1, 5], 1, 100, -100), int64Constant([3, 5])],
      outputs: [{ dtype: 'int32', shape: [3, 5] }],
    });
    await expectSameAsOrt({
      opType: 'Expand',
      inputs: [floatInput([3, 1], 2), int64Constant([2, 1, 4])],
      outputs: [{ dtype: 'float32', shape: [2, 3, 4] }],
    });
  });
  const scalar = (v: number, constant = false): NodeInput => ({
    dtype: 'int32',
    shape: [],
    data: Int32Array.of(v),
    constant,
  });
  it('Range of int32 scalars read from their bindings and baked in as constants', async () => {
    await expectSameAsOrt({
      opType: 'Range',
      inputs: [scalar(0), scalar(16), scalar(1)],
      outputs: [{ dtype: 'int32', shape: [16] }],
    });
    await expectSameAsOrt({
      opType: 'Range',
      inputs: [scalar(7), scalar(-6), scalar(-3)],
      outputs: [{ dtype: 'int32', shape: [5] }],
    });
    await expectSameAsOrt({
      opType: 'Range',
      inputs: [scalar(-4, true), scalar(9, true), scalar(2, true)],
      outputs: [{ dtype: 'int32', shape: [7] }],
    });
  });
  it('Range of int32 over a length of 4k (vec4 lanes)', async () => {
    await expectSameAsOrt({
      opType: 'Range',
      inputs: [scalar(5), scalar(-27), scalar(-4)],
      outputs: [{ dtype: 'int32', shape: [8] }],
    });
  });
  it('Range of floats', async () => {
    const f = (v: number): NodeInput => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });
    await expectSameAsOrt({
      opType: 'Range',
      inputs: [f(-1.5), f(3), f(0.25)],
      outputs: [{ dtype: 'float32', shape: [18] }],
    });
  });
  const valueTensor = (dataType: 1 | 6, v: number) => ({
    name: 'value',
    dataType,
    dims: [1],
    raw: new Uint8Array((dataType === 1 ? Float32Array.of(v) : Int32Array.of(v)).buffer),
  });
  it('ConstantOfShape of a float, −∞ and an int32', async () => {
    for (const [value, dtype, shape] of [
      [valueTensor(1, 0.125), 'float32', [3, 5]],
      [valueTensor(1, -Infinity), 'float32', [4, 4]],
      [valueTensor(6, -7), 'int32', [2, 3]],
    ] as const) {
      await expectSameAsOrt({
        opType: 'ConstantOfShape',
        inputs: [int64Constant([...shape])],
        outputs: [{ dtype, shape: [...shape] }],
        attributes: { value },
      });
    }
  });
});

describe('Gather, GatherElements and ScatterElements match ONNX Runtime', () => {
  it('Gather rows of a matrix by a matrix of int32 and int64 indices (an embedding lookup)', async () => {
    const indices = int32s([2, 3], 1, 7);
    await expectSameAsOrt({
      opType: 'Gather',
      inputs: [floatInput([7, 8], 2), indices],
      outputs: [{ dtype: 'float32', shape: [2, 3, 8] }],
      attributes: { axis: { int: 0 } },
    });
    await expectSameAsOrt({
      opType: 'Gather',
      inputs: [
        floatInput([7, 5], 3),
        { dtype: 'int64', shape: [2, 3], data: BigInt64Array.from(indices.data as Int32Array, BigInt) },
      ],
      outputs: [{ dtype: 'float32', shape: [2, 3, 5] }],
      attributes: { axis: { int: 0 } },
    });
  });
  it('Gather on an inner axis with negative indices', async () => {
    await expectSameAsOrt({
      opType: 'Gather',
      inputs: [floatInput([2, 5, 3], 4), int32s([4], 5, 5, -5)],
      outputs: [{ dtype: 'float32', shape: [2, 4, 3] }],
      attributes: { axis: { int: -2 } },
    });
  });
  it('GatherElements on axis 1 (picking each row’s target) and on axis 0 with negative indices', async () => {
    await expectSameAsOrt({
      opType: 'GatherElements',
      inputs: [floatInput([6, 11], 6), int32s([6, 1], 7, 11)],
      outputs: [{ dtype: 'float32', shape: [6, 1] }],
      attributes: { axis: { int: 1 } },
    });
    await expectSameAsOrt({
      opType: 'GatherElements',
      inputs: [floatInput([4, 3], 8), int32s([5, 3], 9, 4, -4)],
      outputs: [{ dtype: 'float32', shape: [5, 3] }],
      attributes: { axis: { int: 0 } },
    });
  });
  const scatter = (axis: number, reduction: string, indices: NodeInput, data: number[]): NodeSpec => ({
    opType: 'ScatterElements',
    inputs: [floatInput(data, 10), indices, floatInput(indices.shape, 11)],
    outputs: [{ dtype: 'float32', shape: data }],
    attributes: { axis: { int: axis }, reduction },
  });
  // 3 rows receive 40·4 updates: every row index repeats about 13 times per column.
  const repeated = [
    scatter(0, 'add', int32s([40, 4], 12, 3), [3, 4]),
    scatter(1, 'add', int32s([5, 30], 13, 7, -7), [5, 7]),
  ];
  it('ScatterElements add with many repeated indices, on axis 0 and axis 1: in ONNX Runtime’s order, to the bit', async () => {
    for (const spec of repeated) {
      const [ours] = await runNodeOnDawn(spec);
      const [reference] = await runNodeOnOrt(spec);
      expect(Array.from(ours!)).toEqual(Array.from(reference!));
    }
  });
  it('ScatterElements add and mul by compare-exchange (lines longer than one thread takes)', async () => {
    const multiplied = scatter(0, 'mul', int32s([6, 3], 15, 4), [4, 3]);
    for (const spec of [...repeated, multiplied]) {
      const req = requestOf(spec);
      const kernel = scatterElementsKernel(req, 0);
      expect(kernel.passes[1]!.code).toContain('atomicCompareExchangeWeak');
      const [ours] = await runKernelOnDevice(
        kernel,
        req,
        spec.inputs.map((i) => toDeviceArray(i!)),
      );
      const [reference] = await runNodeOnOrt(spec);
      expect(maxRelativeError(ours!, reference!)).toBeLessThanOrEqual(1e-6);
    }
  });
  it('ScatterElements add of one update per row (a cross-entropy gradient), mul, and none', async () => {
    await expectSameAsOrt(scatter(1, 'add', int32s([6, 1], 14, 11), [6, 11]));
    await expectSameAsOrt(scatter(0, 'mul', int32s([6, 3], 15, 4), [4, 3]));
    const distinct: NodeInput = { dtype: 'int32', shape: [2, 3], data: Int32Array.of(2, 0, 3, 0, 3, 1) };
    await expectSameAsOrt(scatter(0, 'none', distinct, [4, 3]));
  });
});
