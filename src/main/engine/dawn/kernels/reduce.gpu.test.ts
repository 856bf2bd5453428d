/**
 * Reductions, Softmax and LayerNormalization on the Dawn device against ONNX Runtime's CPU provider, in
 * the forms our graphs use (the census of operator forms) plus the edges of each code path: rows split over several passes,
 * axes that are not trailing, ragged rows.
 */
import { describe, expect, it } from 'vitest';
import { KernelUnsupported } from '../kernel.ts';
import {
  maxRelativeError,
  requestOf,
  runNodeOnDawn,
  runNodeOnOrt,
  type NodeInput,
  type NodeSpec,
  floatInput,
} from '../testing/runKernel.ts';
import { reduceKernels } from './reduce.ts';

const axesInput = (axes: number[]): NodeInput => ({
  dtype: 'int64',
  shape: [axes.length],
  data: BigInt64Array.from(axes.map(BigInt)),
  constant: true,
});
const out = (shape: number[]) => ({ dtype: 'float32' as const, shape });

const reduceSpec = (
  opType: string,
  shape: number[],
  axes: number[] | null,
  outShape: number[],
  keepdims: number,
): NodeSpec => ({
  opType,
  inputs: axes ? [floatInput(shape), axesInput(axes)] : [floatInput(shape)],
  outputs: [out(outShape)],
  attributes: { keepdims: { int: keepdims } },
});

const TOLERANCE = 1e-5;

/** Worst relative error over every output of the node. */
async function compare(spec: NodeSpec): Promise<number> {
  const ours = await runNodeOnDawn(spec);
  const reference = await runNodeOnOrt(spec);
  expect(ours).toHaveLength(reference.length);
  return Math.max(...ours.map((o, j) => maxRelativeError(o, reference[j]!)));
}

describe('ReduceSum, ReduceMean, ReduceMax, ReduceSumSquare', () => {
  it.each<[string, NodeSpec]>([
    ['ReduceSum over the last axis, keepdims', reduceSpec('ReduceSum', [5, 7, 40], [-1], [5, 7, 1], 1)],
    ['ReduceSum over rows (bias gradients)', reduceSpec('ReduceSum', [300, 24], [0], [24], 0)],
    // few outputs over long columns: the walk is cut into parts, combined by a second pass
    [
      'ReduceSum over many rows (scale gradients, in parts)',
      reduceSpec('ReduceSum', [3000, 20], [0], [20], 0),
    ],
    [
      'ReduceMax over a leading and a middle axis, in parts',
      reduceSpec('ReduceMax', [40, 3, 50, 4], [0, 2], [1, 3, 1, 4], 1),
    ],
    ['ReduceMean over leading axes, in parts', reduceSpec('ReduceMean', [30, 40, 6], [0, 1], [6], 0)],
    ['ReduceSum of rank 4 over the last axis', reduceSpec('ReduceSum', [2, 3, 4, 70], [3], [2, 3, 4, 1], 1)],
    ['ReduceMean over two apart axes', reduceSpec('ReduceMean', [3, 4, 5, 6], [1, 3], [3, 5], 0)],
    ['ReduceMean of everything (a loss)', reduceSpec('ReduceMean', [600, 500], [0, 1], [], 0)],
    ['ReduceMean with short rows', reduceSpec('ReduceMean', [50, 3], [1], [50, 1], 1)],
    ['ReduceMax over rows of logits', reduceSpec('ReduceMax', [33, 65], [1], [33, 1], 1)],
    ['ReduceMax over the middle axis', reduceSpec('ReduceMax', [4, 9, 6], [1], [4, 1, 6], 1)],
    // 300k elements: a row split in chunks, partials reduced in a second pass
    ['ReduceSumSquare of a long vector (multi-pass)', reduceSpec('ReduceSumSquare', [300001], null, [], 0)],
    ['ReduceSumSquare of a matrix, all axes', reduceSpec('ReduceSumSquare', [384, 65], null, [], 0)],
  ])('%s', async (_name, spec) => {
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });

  it('takes a long row in three passes when one partial level is not enough', () => {
    const { passes, scratchBytes } = reduceKernels.ReduceSumSquare!({
      opType: 'ReduceSumSquare',
      inputs: [{ shape: [1e8], type: 'f32' }],
      outputs: [{ shape: [], type: 'f32' }],
      attributes: { keepdims: 0 },
      constants: [null],
    });
    expect(passes).toHaveLength(3);
    expect(scratchBytes).toHaveLength(2);
  });

  it('cuts a column sum over B·T rows into parts (C threads alone would idle the GPU)', () => {
    const { passes } = reduceKernels.ReduceSum!({
      opType: 'ReduceSum',
      inputs: [
        { shape: [16384, 384], type: 'f32' },
        { shape: [1], type: 'i32' },
      ],
      outputs: [{ shape: [384], type: 'f32' }],
      attributes: { keepdims: 0 },
      constants: [null, [0]],
    });
    expect(passes).toHaveLength(2);
  });

  it('gives the same bits on every run (a fixed order over workgroups and passes)', async () => {
    const spec = reduceSpec('ReduceSumSquare', [300001], null, [], 0);
    const [first] = await runNodeOnDawn(spec);
    const [second] = await runNodeOnDawn(spec);
    expect(second![0]).toBe(first![0]);
  });

  it('copies the input with noop_with_empty_axes and no axes', async () => {
    const spec: NodeSpec = {
      opType: 'ReduceSum',
      inputs: [floatInput([4, 5]), axesInput([])],
      outputs: [out([4, 5])],
      attributes: { keepdims: { int: 1 }, noop_with_empty_axes: { int: 1 } },
    };
    expect(await compare(spec)).toBe(0);
  });

  it('rejects axes known only at run time', () => {
    const spec = reduceSpec('ReduceSum', [4, 5], [1], [4, 1], 1);
    spec.inputs[1] = { ...spec.inputs[1]!, constant: false };
    expect(() => reduceKernels.ReduceSum!(requestOf(spec))).toThrow(KernelUnsupported);
  });
});

describe('Softmax', () => {
  it.each<[string, number[], number]>([
    ['over the last axis (attention rows)', [2, 3, 5, 300], 3],
    ['rows of 1024, the largest context', [3, 1024], -1],
    ['short rows', [4, 2, 7], 2],
    ['over a middle axis', [2, 7, 5], 1],
  ])('%s', async (_name, shape, axis) => {
    const spec: NodeSpec = {
      opType: 'Softmax',
      inputs: [floatInput(shape)],
      outputs: [out(shape)],
      attributes: { axis: { int: axis } },
    };
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });

  it('is stable for large logits', async () => {
    const x = floatInput([4, 100]);
    (x.data as Float32Array).forEach((v, i, a) => (a[i] = v * 200 + 500));
    const spec: NodeSpec = {
      opType: 'Softmax',
      inputs: [x],
      outputs: [out([4, 100])],
      attributes: { axis: { int: -1 } },
    };
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });
});

describe('LayerNormalization', () => {
  it('normalizes rows with Mean and InvStdDev outputs (the census form)', async () => {
    const spec: NodeSpec = {
      opType: 'LayerNormalization',
      inputs: [floatInput([10, 384]), floatInput([384], 3)],
      outputs: [out([10, 384]), out([10, 1]), out([10, 1])],
      attributes: { axis: { int: -1 }, epsilon: 1e-5 },
    };
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });

  it('adds a bias, over ragged rows of rank 3, Y only', async () => {
    const x = floatInput([6, 5, 50]);
    (x.data as Float32Array).forEach((v, i, a) => (a[i] = v * 3 + 2));
    const spec: NodeSpec = {
      opType: 'LayerNormalization',
      inputs: [x, floatInput([50], 3), floatInput([50], 4)],
      outputs: [out([6, 5, 50])],
      attributes: { axis: { int: -1 }, epsilon: 1e-5 },
    };
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });

  it('normalizes over the last two axes', async () => {
    const spec: NodeSpec = {
      opType: 'LayerNormalization',
      inputs: [floatInput([3, 4, 40]), floatInput([4, 40], 3)],
      outputs: [out([3, 4, 40]), out([3, 1, 1]), out([3, 1, 1])],
      attributes: { axis: { int: 1 }, epsilon: 1e-3 },
    };
    expect(await compare(spec)).toBeLessThan(TOLERANCE);
  });
});
