/**
 * npm run bench:kernels [-- --small | --full] [--reps N] [--only NAME] [--no-ort]
 *                          [--tile 8x8x8|8x4x8|4x8x8|4x4x16|8x8x16|8x4x16] [--splits N]
 *                          [--blocked on|off] [--tuned]
 *                          [--precision f16 [--fragments 2x2|4x4]]
 *
 * GFLOP/s of our MatMul/Gemm kernel (src/main/engine/dawn/kernels/matmul.ts, on the Dawn device) and of
 * ONNX Runtime's WebGPU provider on the products of one training step of the `baby` preset (batch 64 ×
 * 256 tokens, 6 layers, 6 heads, 384 wide, 65-letter vocabulary): each Linear's forward (x·Wᵀ), input
 * gradient (dy·W) and weight gradient (dyᵀ·x), and attention's batched products. Run through
 * `node scripts/webgpu/env.ts` on a machine without a GPU; there (a software adapter) the batch and context
 * shrink to 2 × 64 unless --full is given.
 *
 * Ours: `reps` products recorded in one compute pass; GPU time from timestamp queries when the device has
 * them (else wall-clock to queue completion). ONNX Runtime: a one-product session against one with 1 + reps
 * copies of the node (graph optimizations off, so they are not merged; outputs left on the GPU except the
 * last, downloaded so that the run waits for the GPU): the difference over reps is one product, without the
 * uploads and the download. Prints a table, then one JSON line: per shape and for the whole step
 * (products weighted by how often a step runs them).
 *
 * --tuned runs each product on the tile the tuner measured fastest on this GPU (src/main/engine/dawn/productTuning.ts,
 * timing the ones its cache does not have yet), as training does; without it, the generator's own tile.
 * --precision f16 times our products on the adapter's matrix units instead (f16 operands, f32 sums:
 * kernels/matmulSubgroup.ts), where its WebGPU adapter offers f16 subgroup matrices (tensor cores);
 * --fragments sets how many fragments each subgroup owns (its tile: 2x2 by default).
 */
import ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import { presets } from '../../src/shared/engine/config.ts';
import { Graph } from '../../src/main/engine/graph/graph.ts';
import { describeAdapter } from '../../src/main/engine/adapter.ts';
import { dawnDevice, isSoftwareAdapter } from '../../src/main/engine/dawn/device.ts';
import { kernelTimer, type KernelTime } from '../../src/main/engine/dawn/kernelTiming.ts';
import type { KernelRequest } from '../../src/main/engine/dawn/kernel.ts';
import {
  gemmKernelOf,
  matMulKernel,
  productProblem,
  tilingByName,
  type GemmChoice,
} from '../../src/main/engine/dawn/kernels/matmul.ts';
import { describeTuning, tuneProducts, tuningCachePath } from '../../src/main/engine/dawn/productTuning.ts';
import { randomFloats } from '../../src/main/engine/dawn/testing/runKernel.ts';

const { values } = parseArgs({
  options: {
    small: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    'no-ort': { type: 'boolean', default: false },
    // the generator's choices forced, to compare its variants on a GPU
    tile: { type: 'string' },
    splits: { type: 'string' },
    blocked: { type: 'string' },
    precision: { type: 'string', default: 'f32' },
    fragments: { type: 'string' },
    // each product on the tile the tuner times fastest on this GPU (productTuning.ts, its cache), as training does
    tuned: { type: 'boolean', default: false },
  },
});

interface Product {
  name: string;
  op: 'Gemm' | 'MatMul';
  a: number[];
  b: number[];
  out: number[];
  transA?: boolean;
  transB?: boolean;
  /** How many times one training step runs it. */
  count: number;
  flops: number;
}

/** The products of one forward + backward pass of the GPT at this batch and context (graphs.ts, portable). */
function stepProducts(batch: number, context: number): Product[] {
  const { nLayer: layers, nHead: heads, nEmbd: c } = presets.baby.model;
  const vocab = 65; // shakespeare_char
  const rows = batch * context;
  const hs = c / heads;
  const out: Product[] = [];
  const gemm = (name: string, a: number[], b: number[], o: number[], t: Partial<Product>, count: number) =>
    out.push({ name, op: 'Gemm', a, b, out: o, ...t, count, flops: 0 });
  // y = x·Wᵀ [rows, n], ∂x = dy·W, ∂W = dyᵀ·x (ops.ts linear)
  const linear = (name: string, k: number, n: number, count: number) => {
    gemm(`${name} x·Wᵀ`, [rows, k], [n, k], [rows, n], { transB: true }, count);
    gemm(`${name} dy·W`, [rows, n], [n, k], [rows, k], {}, count);
    gemm(`${name} dyᵀ·x`, [rows, n], [rows, k], [n, k], { transA: true }, count);
  };
  linear('c_attn', c, 3 * c, layers);
  linear('attn c_proj', c, c, layers);
  linear('c_fc', c, 4 * c, layers);
  linear('mlp c_proj', 4 * c, c, layers);
  linear('lm_head', c, vocab, 1);
  // q·kᵀ and ∂att = dy·vᵀ: [T, hs]·[hs, T]; att·v, ∂q, ∂k, ∂v: [T, T]·[T, hs] (portable: transposes apart)
  const bh = [batch, heads];
  out.push({
    name: 'attn q·kᵀ',
    op: 'MatMul',
    a: [...bh, context, hs],
    b: [...bh, hs, context],
    out: [...bh, context, context],
    count: 2 * layers,
    flops: 0,
  });
  out.push({
    name: 'attn att·v',
    op: 'MatMul',
    a: [...bh, context, context],
    b: [...bh, context, hs],
    out: [...bh, context, hs],
    count: 4 * layers,
    flops: 0,
  });
  for (const p of out) {
    const k = p.op === 'Gemm' ? (p.transA ? p.a[0]! : p.a[1]!) : p.a[p.a.length - 1]!;
    p.flops = 2 * k * p.out.reduce((x, y) => x * y, 1);
  }
  return out;
}

const requestOf = (p: Product): KernelRequest => ({
  opType: p.op,
  inputs: [
    { shape: p.a, type: 'f32' },
    { shape: p.b, type: 'f32' },
  ],
  outputs: [{ shape: p.out, type: 'f32' }],
  attributes: p.op === 'Gemm' ? { transA: p.transA ? 1 : 0, transB: p.transB ? 1 : 0 } : {},
  constants: [null, null],
});

const numel = (s: number[]) => s.reduce((x, y) => x * y, 1);

/** Milliseconds per product of our kernel, by GPU timestamps when the device has them. */
async function timeOurs(p: Product, reps: number): Promise<KernelTime> {
  const dev = await dawnDevice();
  const { device } = dev;
  const req = requestOf(p);
  const kernel = p.op === 'Gemm' ? gemmKernelOf(req, choice) : matMulKernel(req, choice);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const sized = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
  const buffers = [p.a, p.b].map((shape, i) => {
    const data = randomFloats(numel(shape), i + 1);
    const b = device.createBuffer({ size: sized(data.byteLength), usage });
    device.queue.writeBuffer(b, 0, data);
    return b;
  });
  buffers.push(device.createBuffer({ size: sized(numel(p.out) * 4), usage }));
  for (const bytes of kernel.scratchBytes ?? [])
    buffers.push(device.createBuffer({ size: sized(bytes), usage }));
  const timer = await kernelTimer(dev, kernel, buffers, p.name);
  try {
    await timer.time(1); // pipelines compiled, buffers touched
    return await timer.time(reps);
  } finally {
    timer.destroy();
    for (const b of buffers) b.destroy();
  }
}

/** Milliseconds per product on ONNX Runtime's WebGPU provider: (1 + reps) copies minus one, over reps. */
async function timeOrt(p: Product, reps: number): Promise<number | null> {
  const session = async (copies: number) => {
    const g = new Graph('bench_product', { kernels: 'portable' });
    const a = g.input('a', 'float32', p.a);
    const b = g.input('b', 'float32', p.b);
    const gemmAttrs = (alpha: number) => ({
      transA: { int: p.transA ? 1 : 0 },
      transB: { int: p.transB ? 1 : 0 },
      alpha,
    });
    const names: string[] = [];
    for (let i = 0; i < copies; i++) {
      // α differs per copy: nodes identical in every respect could be merged by any optimizer on the way
      const y = g.emit1(p.op, [a, b], p.out, 'float32', p.op === 'Gemm' ? gemmAttrs(1 + i / 1024) : {});
      names.push(`y${i}`);
      g.output(y, `y${i}`);
    }
    const s = await ort.InferenceSession.create(g.encode(), {
      executionProviders: ['webgpu'],
      graphOptimizationLevel: 'disabled',
      logSeverityLevel: 3,
      preferredOutputLocation: Object.fromEntries(
        names.map((n, i) => [n, i === copies - 1 ? ('cpu' as const) : ('gpu-buffer' as const)]),
      ),
    });
    return { s, names };
  };
  const feeds = {
    a: new ort.Tensor('float32', randomFloats(numel(p.a), 1), p.a),
    b: new ort.Tensor('float32', randomFloats(numel(p.b), 2), p.b),
  };
  const timeRun = async ({ s }: { s: ort.InferenceSession }) => {
    const t0 = performance.now();
    const out = await s.run(feeds);
    const ms = performance.now() - t0;
    for (const t of Object.values(out)) t.dispose();
    return ms;
  };
  const one = await session(1);
  const many = await session(1 + reps);
  try {
    await timeRun(one); // warm-up: shaders compiled
    await timeRun(many);
    // alternated, best of five each: a busy machine slows some runs, never speeds one up
    const t1: number[] = [];
    const tn: number[] = [];
    for (let i = 0; i < 5; i++) {
      t1.push(await timeRun(one));
      tn.push(await timeRun(many));
    }
    const ms = (Math.min(...tn) - Math.min(...t1)) / reps;
    // Lost in the noise of the uploads and the download: no measurement rather than a wrong one.
    return ms > 0 ? ms : null;
  } finally {
    await one.s.release();
    await many.s.release();
  }
}

// rows × columns per thread × K step: the tilings the tuner chooses from (PRODUCT_TILINGS)
if (values.tile && !tilingByName.has(values.tile))
  throw new Error(`--tile: one of ${[...tilingByName.keys()].join(', ')}`);
if (values.precision !== 'f32' && values.precision !== 'f16') throw new Error('--precision: f32 or f16');
const fragmentsArg = values.fragments?.match(/^([1-8])x([1-8])$/);
if (values.fragments && (!fragmentsArg || values.precision !== 'f16'))
  throw new Error('--fragments: MxN (each 1–8), with --precision f16');
const fragments = fragmentsArg ? { fm: Number(fragmentsArg[1]), fn: Number(fragmentsArg[2]) } : null;
const { adapter, subgroupMatrix } = await dawnDevice();
if (values.precision === 'f16' && !subgroupMatrix) {
  console.error(`--precision f16: ${adapter} offers no f16 subgroup matrices (tensor cores) to WebGPU`);
  process.exit(1);
}
if (values.tuned && (values.tile || values.precision === 'f16'))
  throw new Error('--tuned: f32 products, without --tile');
const forced: GemmChoice = {
  ...(values.tile ? { tiling: tilingByName.get(values.tile)! } : {}),
  ...(values.splits ? { splits: Number(values.splits) } : {}),
  ...(values.blocked ? { blocked: values.blocked === 'on' } : {}),
  ...(values.precision === 'f16' ? { subgroupMatrix: subgroupMatrix! } : {}),
  ...(fragments ? { fragments } : {}),
};
const small = values.small || (isSoftwareAdapter(adapter) && !values.full);
const [batch, context] = small ? [2, 64] : [presets.baby.train.batchSize!, presets.baby.model.blockSize!];
const reps = Number(values.reps ?? (small ? 3 : 20));
const products = stepProducts(batch, context).filter((p) => !values.only || p.name.includes(values.only));
let choice = forced;
if (values.tuned) {
  const tuning = await tuneProducts(
    await dawnDevice(),
    products.map((p) => productProblem(requestOf(p))),
    tuningCachePath(),
  );
  choice = { ...forced, tilingFor: tuning.tilingFor };
  console.log(describeTuning(tuning.report));
}
const ortAdapter = values['no-ort'] ? null : await describeAdapter();
console.log(`ours: Dawn on ${adapter}; ONNX Runtime WebGPU: ${ortAdapter ?? 'skipped'}`);
console.log(
  `baby step products at batch ${batch} × context ${context}, ${reps} reps each` +
    (values.tuned ? '; our kernel on the tuned tiles' : '') +
    (Object.keys(forced).length ? `; our kernel forced to ${JSON.stringify(forced)}` : '') +
    '\n',
);
const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `${'product'.padEnd(22)}${pad('shape (M×N×K)', 22)}${pad('×step', 7)}${pad('ours ms', 10)}${pad('GFLOP/s', 9)}${pad('ORT ms', 10)}${pad('GFLOP/s', 9)}`,
);
const rows: Record<string, unknown>[] = [];
let oursStep = 0;
let ortStep = 0;
/** Products ONNX Runtime's time could not be told from its noise (or that it failed to run). */
let ortMissing = values['no-ort'] ? products.length : 0;
let stepFlops = 0;
for (const p of products) {
  const m = p.out[p.out.length - 2]!;
  const n = p.out[p.out.length - 1]!;
  const k = p.flops / 2 / numel(p.out);
  const batches = numel(p.out) / (m * n);
  const shape = `${batches > 1 ? `${batches}·` : ''}${m}×${n}×${k}`;
  const ours = await timeOurs(p, reps);
  let ortMs: number | null = null;
  if (!values['no-ort'])
    ortMs = await timeOrt(p, reps).catch(
      (e: unknown) => (console.error(`ORT ${p.name}: ${String(e)}`), null),
    );
  const gflops = (ms: number | null) => (ms === null ? null : p.flops / (ms * 1e6));
  oursStep += ours.ms * p.count;
  if (ortMs !== null) ortStep += ortMs * p.count;
  else if (!values['no-ort']) ortMissing++;
  stepFlops += p.flops * p.count;
  const row = {
    name: p.name,
    shape,
    count: p.count,
    ours_ms: +ours.ms.toFixed(4),
    ours_gflops: +gflops(ours.ms)!.toFixed(1),
    ours_clock: ours.clock,
    // submission to completion: launch overheads included, a check on the timestamps
    ours_wall_ms: +ours.wallMs.toFixed(4),
    ort_ms: ortMs === null ? null : +ortMs.toFixed(4),
    ort_gflops: ortMs === null ? null : +gflops(ortMs)!.toFixed(1),
  };
  rows.push(row);
  console.log(
    `${p.name.padEnd(22)}${pad(shape, 22)}${pad(p.count, 7)}${pad(row.ours_ms.toFixed(3), 10)}${pad(row.ours_gflops, 9)}${pad(row.ort_ms?.toFixed(3) ?? '-', 10)}${pad(row.ort_gflops ?? '-', 9)}`,
  );
}
const stepGflops = (ms: number) => +(stepFlops / (ms * 1e6)).toFixed(1);
console.log(
  `\nstep total: ${(stepFlops / 1e9).toFixed(1)} GFLOP; ours ${oursStep.toFixed(2)} ms (${stepGflops(oursStep)} GFLOP/s)` +
    (values['no-ort']
      ? ''
      : ortMissing
        ? `, ONNX Runtime WebGPU: ${ortMissing} products unmeasured`
        : `, ONNX Runtime WebGPU ${ortStep.toFixed(2)} ms (${stepGflops(ortStep)} GFLOP/s)`),
);
console.log(
  JSON.stringify({
    adapter,
    batch,
    context,
    reps,
    precision: values.precision,
    choice: forced,
    tuned: values.tuned,
    step_gflop: +(stepFlops / 1e9).toFixed(2),
    ours_step_ms: +oursStep.toFixed(3),
    ours_step_gflops: stepGflops(oursStep),
    ort_step_ms: ortMissing ? null : +ortStep.toFixed(3),
    ort_step_gflops: ortMissing ? null : stepGflops(ortStep),
    products: rows,
  }),
);
process.exit(0);
