/**
 * Every tiling the product tuner may pick (PRODUCT_TILINGS) gives the same bits. Apart from matmul.gpu.test.ts because
 * it compiles each product six times: `npm run test:webgpu-races` leaves it out (vitest.config.ts).
 */
import { describe, expect, it } from 'vitest';
import { gemmSpec, matMulSpec } from '../testing/gemmProblems.ts';
import {
  maxRelativeError,
  requestOf,
  runKernelOnDevice,
  runNodeOnOrt,
  toDeviceArray,
  type NodeSpec,
} from '../testing/runKernel.ts';
import { gemmKernelOf, matMulKernel, PRODUCT_TILINGS, tilingName } from './matmul.ts';

/**
 * The tuner (productTuning.ts) may pick any of PRODUCT_TILINGS on a user's GPU: training must not depend on which,
 * so each gives the same bits as the others, on long K sums (summed in blocks), K split across workgroups, ragged
 * edges and batches.
 */
describe('every product tiling gives the same bits', () => {
  it.each<[string, NodeSpec]>([
    [
      'a long K summed in blocks, not a multiple of 16',
      gemmSpec({ a: [40, 600], b: [600, 36], out: [40, 36] }),
    ],
    [
      'K split across workgroups (weight gradient: dyᵀ·x)',
      gemmSpec({ a: [1224, 70], b: [1224, 36], out: [70, 36], attributes: { transA: { int: 1 } } }),
    ],
    [
      'a short K, ragged, with a bias',
      gemmSpec({ a: [37, 27], b: [50, 27], c: [50], out: [37, 50], attributes: { transB: { int: 1 } } }),
    ],
    ['batched (attention · values)', matMulSpec([2, 3, 20, 40], [2, 3, 40, 24], [2, 3, 20, 24])],
  ])('%s', async (_name, spec) => {
    const req = requestOf(spec);
    const inputs = spec.inputs.map((i) => (i ? toDeviceArray(i) : null));
    const bits = new Map<string, Buffer>();
    for (const tiling of PRODUCT_TILINGS) {
      const kernel = spec.opType === 'Gemm' ? gemmKernelOf(req, { tiling }) : matMulKernel(req, { tiling });
      const [out] = (await runKernelOnDevice(kernel, req, inputs)) as [Float32Array];
      bits.set(tilingName(tiling), Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    }
    const [first, ...rest] = [...bits.values()];
    for (const [name, b] of [...bits].slice(1)) expect(b.equals(first!), name).toBe(true);
    expect(rest).toHaveLength(PRODUCT_TILINGS.length - 1);
    // and they are right
    const [reference] = (await runNodeOnOrt(spec)) as [Float32Array];
    expect(
      maxRelativeError(new Float32Array(first!.buffer, first!.byteOffset, first!.length / 4), reference),
    ).toBeLessThan(2e-5);
  });
});
