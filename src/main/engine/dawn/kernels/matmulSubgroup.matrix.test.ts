/**
 * f16 products on matrix units (`--precision f16`), run on an adapter that has them: a GPU with tensor cores, or Mesa
 * 26's lavapipe in CI and on machines without one (`npm run test:webgpu-matrix` installs and selects it). An adapter
 * without f16 subgroup matrices is a failure, not a skip.
 *
 * The reference is the exact (float64) product. The bound is what rounding each operand to f16 allows: a relative
 * error of 2^-11 per operand, so |C − C_exact| ≤ 3·2^-11·Σ_k |a_mk·b_kn| (plus f32 summation) — whatever the
 * operands' magnitude, which is what the per-chunk scaling is for: unscaled, operands of 1e-7 would be f16 subnormals
 * and miss the bound by orders of magnitude.
 */
import { describe, expect, it } from 'vitest';
import { configFromPreset } from '../../../../shared/engine/config.ts';
import { gptParamLayout, initParams } from '../../gpt.ts';
import { buildTrainGraph, TRAIN_IO } from '../../graphs.ts';
import { Rng } from '../../rng.ts';
import { dawnDevice } from '../device.ts';
import type { Epilogue, Kernel, KernelRequest } from '../kernel.ts';
import { DawnSession, type ProductPrecision } from '../session.ts';
import { runKernelOnDevice } from '../testing/runKernel.ts';
import { gemmKernelOf, matMulKernel, type GemmChoice } from './matmul.ts';
import type { SubgroupMatrixShape } from './matmulSubgroup.ts';
import ort from 'onnxruntime-node';

async function shape(): Promise<SubgroupMatrixShape> {
  const dev = await dawnDevice();
  if (!dev.subgroupMatrix)
    throw new Error(
      `${dev.adapter} offers no f16 subgroup matrices: run through node scripts/webgpu/env.ts --matrix (Mesa 26)`,
    );
  return dev.subgroupMatrix;
}

/** Values uniform in ±scale; `scales` per K index lets chunks of K differ in magnitude. */
function operand(n: number, seed: number, scale: (i: number) => number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (rng.random() * 2 - 1) * scale(i));
}

interface Product {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Leading axes of A and B (B's may broadcast with 1s or be absent). */
  aBatch?: number[];
  bBatch?: number[];
  alpha?: number;
}

/** C = α·op(A)·op(B) in float64, with Σ|a·b| per element for the bound. */
function exact(p: Product, a: Float32Array, b: Float32Array) {
  const aB = p.aBatch ?? [];
  const bB = p.bBatch ?? [];
  const rank = Math.max(aB.length, bB.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(aB), pad(bB)];
  const batch = pa.map((x, d) => Math.max(x, pb[d]!));
  const total = batch.reduce((x, y) => x * y, 1);
  const at = (shapeOf: number[], z: number) => {
    let off = 0;
    let r = z;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = r % batch[d]!;
      r = Math.floor(r / batch[d]!);
      if (shapeOf[d] !== 1) off += i * stride;
      stride *= shapeOf[d]!;
    }
    return off;
  };
  const { m, n, k } = p;
  const value = new Float64Array(total * m * n);
  const magnitude = new Float64Array(total * m * n);
  for (let z = 0; z < total; z++) {
    const ao = at(pa, z) * m * k;
    const bo = at(pb, z) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let mag = 0;
        for (let q = 0; q < k; q++) {
          const x = a[ao + (p.transA ? q * m + i : i * k + q)]!;
          const y = b[bo + (p.transB ? j * k + q : q * n + j)]!;
          s += x * y;
          mag += Math.abs(x * y);
        }
        value[(z * m + i) * n + j] = (p.alpha ?? 1) * s;
        magnitude[(z * m + i) * n + j] = Math.abs(p.alpha ?? 1) * mag;
      }
  }
  return { value, magnitude, batch };
}

/** Runs a MatMul on the matrix units and returns the worst error as a multiple of the f16 bound. */
async function worstOverBound(
  p: Product,
  a: Float32Array,
  b: Float32Array,
  choice: Omit<GemmChoice, 'subgroupMatrix'> = {},
): Promise<{ ratio: number; passes: number }> {
  const want = exact(p, a, b);
  const aShape = [...(p.aBatch ?? []), ...(p.transA ? [p.k, p.m] : [p.m, p.k])];
  const bShape = [...(p.bBatch ?? []), ...(p.transB ? [p.n, p.k] : [p.k, p.n])];
  const req: KernelRequest = {
    opType: 'MatMul',
    inputs: [
      { shape: aShape, type: 'f32' },
      { shape: bShape, type: 'f32' },
    ],
    outputs: [{ shape: [...want.batch, p.m, p.n], type: 'f32' }],
    attributes: { transA: p.transA ? 1 : 0, transB: p.transB ? 1 : 0, alpha: p.alpha ?? 1 },
    constants: [null, null],
  };
  const kernel = matMulKernel(req, { ...choice, subgroupMatrix: await shape() });
  const [got] = await runKernelOnDevice(kernel, req, [a, b]);
  return {
    ratio: ratioToBound(got as Float32Array, want.value, want.magnitude),
    passes: kernel.passes.length,
  };
}

const UNIT = 2 ** -11;
function ratioToBound(got: Float32Array, value: Float64Array, magnitude: Float64Array): number {
  expect(got.length).toBe(value.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const bound = 3 * UNIT * magnitude[i]! + 1e-30;
    worst = Math.max(worst, Math.abs(got[i]! - value[i]!) / bound);
  }
  return worst;
}

describe('f16 products on the matrix units (subgroup matrices)', () => {
  it('the adapter offers an f16 × f16 → f32 fragment with one subgroup size', async () => {
    const s = await shape();
    expect([8, 16]).toContain(s.m);
    expect(s.subgroupSize).toBeGreaterThan(0);
  });

  it('ragged shapes (no side a multiple of the tile) stay within the f16 bound', async () => {
    const p = { m: 37, n: 45, k: 50 };
    const r = await worstOverBound(
      p,
      operand(37 * 50, 1, () => 1),
      operand(50 * 45, 2, () => 1),
    );
    expect(r.ratio).toBeLessThanOrEqual(1);
  });

  it('transposed operands, batches and a broadcast operand, α', async () => {
    for (const p of [
      { m: 20, n: 24, k: 33, transA: true },
      { m: 20, n: 24, k: 33, transB: true, alpha: 0.125 },
      { m: 16, n: 17, k: 19, aBatch: [2, 3], bBatch: [3], transB: true },
      { m: 9, n: 40, k: 24, aBatch: [1, 2], bBatch: [3, 1], transA: true },
    ] satisfies Product[]) {
      const aN = (p.aBatch ?? []).reduce((x, y) => x * y, 1) * p.m * p.k;
      const bN = (p.bBatch ?? []).reduce((x, y) => x * y, 1) * p.k * p.n;
      const r = await worstOverBound(
        p,
        operand(aN, 3, () => 1),
        operand(bN, 4, () => 2),
      );
      expect(r.ratio, JSON.stringify(p)).toBeLessThanOrEqual(1);
    }
  });

  it('gradient-sized operands (1e-7) keep f16 precision: each chunk is scaled before rounding', async () => {
    const p = { m: 24, n: 24, k: 64 };
    const r = await worstOverBound(
      p,
      operand(24 * 64, 5, () => 1e-7),
      operand(64 * 24, 6, () => 3e-6),
    );
    expect(r.ratio).toBeLessThanOrEqual(1);
  });

  it('chunks of K whose magnitudes differ by 1e12, beyond f16 range either way (sums rescaled between chunks)', async () => {
    const s = await shape();
    const bk = 2 * s.k;
    const p = { m: 16, n: 16, k: 6 * bk };
    // A's columns in alternate chunks are 1e6 (f16 overflows at 65504) and 1e-6 (subnormal in f16); B is 1
    const a = operand(p.m * p.k, 7, (i) => (Math.floor((i % p.k) / bk) % 2 ? 1e-6 : 1e6));
    const r = await worstOverBound(
      p,
      a,
      operand(p.k * p.n, 8, () => 1),
    );
    expect(r.ratio).toBeLessThanOrEqual(1);
    // 1e25 and 1e-25 times 1e5: the sums stay finite (a chunk far below the sum is not scaled up to f16's top)
    const wide = operand(p.m * p.k, 7, (i) => (Math.floor((i % p.k) / bk) % 2 ? 1e-25 : 1e25));
    const far = await worstOverBound(
      p,
      wide,
      operand(p.k * p.n, 8, () => 1e5),
    );
    expect(far.ratio).toBeLessThanOrEqual(1);
  });

  it('a chunk’s largest value, staged by the last lane, sets its scale: no clearing of the maxima races with it', async () => {
    // Lanes 0–3 clear the chunk maxima that every lane then raises. Without a barrier between the two, a lane that
    // raised its maximum before the clearing had it wiped, and its value overflowed f16. Software Vulkan runs the
    // lanes in order, so only XAI_LINK_DAWN_LANE_ORDER=reversed (npm run test:webgpu-races) puts it before.
    const s = await shape();
    const p = { m: 16, n: 16, k: 4 * s.k };
    const lanes = 4 * s.subgroupSize;
    const bk = 2 * s.k;
    // A is [M, K]: the first chunk's element q (row q / BK, column q % BK) is staged by lane q mod lanes
    const q = lanes - 1;
    const a = operand(p.m * p.k, 16, () => 1);
    a[Math.floor(q / bk) * p.k + (q % bk)] = 1024;
    const r = await worstOverBound(
      p,
      a,
      operand(p.k * p.n, 17, () => 1),
    );
    expect(r.ratio).toBeLessThanOrEqual(1);
  });

  it('4×4 fragments a subgroup (a tile twice as large each way), ragged and batched', async () => {
    for (const p of [
      { m: 70, n: 45, k: 50 },
      { m: 33, n: 20, k: 40, aBatch: [2], bBatch: [2], transA: true },
    ] satisfies Product[]) {
      const aN = (p.aBatch ?? []).reduce((x, y) => x * y, 1) * p.m * p.k;
      const bN = (p.bBatch ?? []).reduce((x, y) => x * y, 1) * p.k * p.n;
      const r = await worstOverBound(
        p,
        operand(aN, 14, () => 1),
        operand(bN, 15, () => 1),
        {
          fragments: { fm: 4, fn: 4 },
        },
      );
      expect(r.ratio, JSON.stringify(p)).toBeLessThanOrEqual(1);
    }
  });

  it('K split across workgroups (a second pass adds the slices) and a long K in one pass', async () => {
    const p = { m: 20, n: 12, k: 700 };
    const a = operand(p.m * p.k, 9, () => 1);
    const b = operand(p.k * p.n, 10, () => 1);
    const split = await worstOverBound(p, a, b, { splits: 3 });
    expect(split.passes).toBe(2);
    expect(split.ratio).toBeLessThanOrEqual(1);
    const whole = await worstOverBound(p, a, b, { splits: 1 });
    expect(whole.passes).toBe(1);
    expect(whole.ratio).toBeLessThanOrEqual(1);
  });

  it('Gemm: α·A·Bᵀ + β·C with a broadcast bias, and an epilogue applied as it stores', async () => {
    const [m, n, k] = [19, 21, 30];
    const a = operand(m * k, 11, () => 1);
    const b = operand(n * k, 12, () => 1);
    const c = operand(n, 13, () => 1);
    const want = exact({ m, n, k, transB: true, alpha: 0.5 }, a, b);
    const req: KernelRequest = {
      opType: 'Gemm',
      inputs: [
        { shape: [m, k], type: 'f32' },
        { shape: [n, k], type: 'f32' },
        { shape: [n], type: 'f32' },
      ],
      outputs: [{ shape: [m, n], type: 'f32' }],
      attributes: { transB: 1, alpha: 0.5, beta: 2 },
      constants: [null, null, null],
    };
    // the epilogue doubles what it is given: out = 2·(α·A·Bᵀ + β·C)
    const post: Epilogue = {
      code: (width) => ({
        declarations: [
          width === 4
            ? 'fn epilogue4(at: u32, v: vec4<f32>) -> vec4<f32> { return 2.0 * v; }'
            : 'fn epilogue1(at: u32, v: f32) -> f32 { return 2.0 * v; }',
        ],
        bindings: [],
      }),
    };
    const s = await shape();
    const kernel: Kernel = gemmKernelOf(req, { subgroupMatrix: s }, post);
    const [got] = await runKernelOnDevice(kernel, req, [a, b, c]);
    const value = want.value.map((v, i) => 2 * (v + 2 * c[i % n]!));
    const magnitude = want.magnitude.map((v) => 2 * v);
    // the bias and the epilogue are exact in f32; only the product carries f16's error
    expect(ratioToBound(got as Float32Array, value, magnitude)).toBeLessThanOrEqual(1);
  });
});

describe('a training step with f16 products', () => {
  it('follows the f32 step: loss within 1e-3 over five steps, the same updates to f16 accuracy', async () => {
    await shape();
    const config = configFromPreset('cpu-tiny');
    const model = {
      ...config.model,
      nLayer: 2,
      nEmbd: 32,
      nHead: 2,
      blockSize: 16,
      vocabSize: 37,
      dropout: 0.1,
    };
    const layout = gptParamLayout(model);
    const batch = 4;
    const graph = buildTrainGraph({
      model,
      train: { ...config.train, batchSize: batch, gradClip: 1 },
      layout,
      kind: 'step',
      dropoutSeed: 3,
      kernels: 'portable',
    });
    const rng = new Rng(4);
    const data = Array.from({ length: 5 }, () =>
      Int32Array.from({ length: batch * model.blockSize }, () => rng.randint(model.vocabSize)),
    );
    const run = async (precision: ProductPrecision) => {
      const session = await DawnSession.create(graph, { precision });
      let params: Float32Array = initParams(layout, 2);
      let m: Float32Array = new Float32Array(layout.total);
      let v: Float32Array = new Float32Array(layout.total);
      const losses: number[] = [];
      const norms: number[] = [];
      try {
        for (const [s, ids] of data.entries()) {
          const out = await session.run({
            [TRAIN_IO.params]: new ort.Tensor('float32', params, [layout.total]),
            [TRAIN_IO.m]: new ort.Tensor('float32', m, [layout.total]),
            [TRAIN_IO.v]: new ort.Tensor('float32', v, [layout.total]),
            [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [batch, model.blockSize]),
            [TRAIN_IO.targets]: new ort.Tensor(
              'int32',
              ids.map((x) => (x * 7 + 1) % model.vocabSize),
              [batch, model.blockSize],
            ),
            [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([1e-3]), []),
            [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([s + 1]), []),
            [TRAIN_IO.dropoutKey]: new ort.Tensor('uint32', new Uint32Array([s + 1]), []),
          });
          losses.push(Number(out[TRAIN_IO.loss]!.data[0]));
          norms.push(Number(out[TRAIN_IO.gradNorm]!.data[0]));
          params = out[TRAIN_IO.paramsOut]!.data as Float32Array;
          m = out[TRAIN_IO.mOut]!.data as Float32Array;
          v = out[TRAIN_IO.vOut]!.data as Float32Array;
        }
      } finally {
        await session.release();
      }
      return { losses, norms, params };
    };
    const f32 = await run('f32');
    const f16 = await run('f16');
    f16.losses.forEach((l, i) => expect(Math.abs(l - f32.losses[i]!), `step ${i + 1}`).toBeLessThan(1e-3));
    f16.norms.forEach((g, i) => expect(Math.abs(g / f32.norms[i]! - 1), `step ${i + 1}`).toBeLessThan(1e-2));
    // training moved the parameters the same way: Adam's steps of ~lr, equal where the gradients' signs agree
    let moved = 0;
    let close = 0;
    const start = initParams(layout, 2);
    for (let i = 0; i < layout.total; i++) {
      if (Math.abs(f32.params[i]! - start[i]!) > 1e-3) moved++;
      if (Math.abs(f16.params[i]! - f32.params[i]!) < 1e-4) close++;
    }
    expect(moved).toBeGreaterThan(layout.total / 2);
    expect(close / layout.total).toBeGreaterThan(0.99);
  }, 300_000);

  it('a fragment shape the adapter does not offer is refused when the pipeline is made', async () => {
    const s = await shape();
    const req: KernelRequest = {
      opType: 'MatMul',
      inputs: [
        { shape: [8, 8], type: 'f32' },
        { shape: [8, 8], type: 'f32' },
      ],
      outputs: [{ shape: [8, 8], type: 'f32' }],
      attributes: {},
      constants: [null, null],
    };
    const wrong = { ...s, m: s.m * 2, n: s.n * 2, k: s.k * 2 };
    await expect(
      runKernelOnDevice(matMulKernel(req, { subgroupMatrix: wrong }), req, [
        new Float32Array(64),
        new Float32Array(64),
      ]),
    ).rejects.toThrow(/subgroup|matrix|config/i);
  });
});
