/**
 * The race check (laneOrder.ts) on the adapter: a missing barrier is caught in one of the two lane orders on
 * software Vulkan, and the engine's kernels that share workgroup memory compute the same bits in both.
 */
import { describe, expect, it } from 'vitest';
import { dawnDevice } from './device.ts';
import type { Kernel, KernelRequest } from './kernel.ts';
import type { LaneOrder } from './laneOrder.ts';
import { floatInput, runKernelOnDevice, runNodeOnDawn, type NodeSpec } from './testing/runKernel.ts';

const WG = 64;

/**
 * Each invocation stores into workgroup memory, then reads its neighbour's value `step` lanes away (the first and
 * last read their own), with or without the barrier between. Returns the lanes that read something else.
 */
async function neighbourRead(step: 1 | -1, barrier: boolean, order: LaneOrder): Promise<number[]> {
  const code = `
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
var<workgroup> tile: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  tile[lid] = lid + 1u;
  ${barrier ? 'workgroupBarrier();' : ''}
  out[lid] = tile[${step === 1 ? `min(lid + 1u, ${WG - 1}u)` : 'max(lid, 1u) - 1u'}];
}`;
  const req: KernelRequest = {
    opType: 'NeighbourRead',
    inputs: [],
    outputs: [{ shape: [WG], type: 'u32' }],
    attributes: {},
    constants: [],
  };
  const kernel: Kernel = { passes: [{ code, workgroups: [1, 1, 1], bindings: [0] }] };
  const [got] = await runKernelOnDevice(kernel, req, [], order);
  const wrong: number[] = [];
  for (let lane = 0; lane < WG; lane++) {
    const neighbour = Math.min(Math.max(lane + step, 0), WG - 1);
    if (got![lane] !== neighbour + 1) wrong.push(lane);
  }
  return wrong;
}

describe('race checks by lane order', () => {
  it('a read of another lane’s store needs the barrier: without it, each lane order shows the race one way', async () => {
    const { adapter } = await dawnDevice();
    for (const step of [1, -1] as const) {
      for (const order of ['natural', 'reversed'] as const)
        expect(await neighbourRead(step, true, order), `step ${step}, ${order}, with the barrier`).toEqual(
          [],
        );
      const natural = await neighbourRead(step, false, 'natural');
      const reversed = await neighbourRead(step, false, 'reversed');
      // Software Vulkan runs a workgroup a subgroup at a time, in lane order: the natural order shows a read from a
      // later lane and hides one from an earlier lane, the reversed order the opposite (what the race check rests
      // on). A GPU runs subgroups concurrently, so what it shows there is chance.
      if (/llvmpipe|lavapipe/i.test(adapter)) {
        expect(natural.length > 0, `step ${step}, natural order: ${JSON.stringify(natural)}`).toBe(
          step === 1,
        );
        expect(reversed.length > 0, `step ${step}, reversed order: ${JSON.stringify(reversed)}`).toBe(
          step === -1,
        );
      }
    }
  });

  const rows = (opType: string, shape: number[], attributes?: NodeSpec['attributes']): NodeSpec => ({
    opType,
    inputs: [floatInput(shape, 7)],
    outputs: [{ dtype: 'float32', shape }],
    attributes,
  });
  it.each<[string, NodeSpec]>([
    [
      'Softmax over rows of 1024 (a tree over the workgroup)',
      rows('Softmax', [6, 1024], { axis: { int: -1 } }),
    ],
    [
      'LayerNormalization over rows of 384',
      {
        opType: 'LayerNormalization',
        inputs: [floatInput([8, 384], 3), floatInput([384], 4), floatInput([384], 5)],
        outputs: [{ dtype: 'float32', shape: [8, 384] }],
        attributes: { axis: { int: -1 }, epsilon: 1e-5 },
      },
    ],
    [
      'ReduceSum of long rows in parts',
      {
        opType: 'ReduceSum',
        inputs: [
          floatInput([3, 40000], 6),
          { dtype: 'int64', shape: [1], data: BigInt64Array.from([1n]), constant: true },
        ],
        outputs: [{ dtype: 'float32', shape: [3, 1] }],
        attributes: { keepdims: { int: 1 } },
      },
    ],
    [
      'MatMul on 128×128 tiles with a blocked K of 640 (double-buffered workgroup tiles)',
      {
        opType: 'MatMul',
        inputs: [floatInput([128, 640], 1), floatInput([640, 128], 2)],
        outputs: [{ dtype: 'float32', shape: [128, 128] }],
      },
    ],
  ])('%s: the same bits in both lane orders', async (_name, spec) => {
    const [natural] = await runNodeOnDawn(spec, 'natural');
    const [reversed] = await runNodeOnDawn(spec, 'reversed');
    expect(Array.from(reversed!)).toEqual(Array.from(natural!));
  });
});
