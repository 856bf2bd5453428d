/**
 * npm run bench:dawn-step [-- --preset baby] [--batch N] [--runs N] [--count-only]
 *
 * One training step of a preset on the engine's own WebGPU kernels (Dawn), timed as the executor runs it
 * (its graph rewrites: chains fused, work folded into products and reductions, attention as fused kernels),
 * the same with the attention left unfused, and node by node: median
 * wall time of `--runs` runs after 2 warm-up runs, with the inputs fed from the host each run, and the
 * dispatches per step. Dawn's bounds clamping is set when the process starts: run it with and without
 * XAI_LINK_DAWN_UNCHECKED=1 to see what the clamps cost (scripts/bench/device-check.ts does both). On a machine
 * without a GPU run it through `node scripts/webgpu/env.ts`; `--batch` shrinks the step there.
 * On a GPU (where the products' tiles are tuned: productTuning.ts) the rewritten step also runs on the generator's
 * own tiles (`untuned`) and the JSON gains `tuning_speedup`; the fused variant reports what the tuning did.
 * Where the adapter multiplies f16 subgroup matrices (tensor cores), the rewritten step also runs with f16
 * products (`f16`, kernels/matmulSubgroup.ts) and the JSON gains `f16_speedup` and `f16_loss_delta`.
 * Each variant also reports its dispatches, its products' GFLOP (and, timed, the TFLOP/s the whole step reaches
 * with them), the bytes its kernels read and write (each input and output once) and its device memory;
 * `--count-only` prints only those, without running (the full baby step on software Vulkan),
 * with the kinds of kernel that move the most bytes in the default (fused) step.
 * `--vocab N` sets the vocabulary (default 65, tiny-shakespeare's characters; GPT-2's tokens are 50304): where the
 * logits of a step exceed `--head-chunk-mib` (default 128, headLoss.ts) the lm_head and loss run in row chunks, and
 * the step also runs with them in one piece (`head_whole`; `refused` where the adapter cannot bind them), so the
 * JSON gains `head_chunks` and, timed, `head_chunk_cost`. `--checkpoint` builds the step with activation
 * checkpointing (the blocks and the head's chunks recomputed in the backward pass). `--variants fused,head_whole`
 * runs only the variants named (the fused one always runs).
 * Prints a line per variant, then one JSON line.
 */
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { configFromPreset, presetIdSchema, resolveModelConfig } from '../../src/shared/engine/config.ts';
import { threeFigures } from '../../src/main/engine/dawn/dawnProfile.ts';
import { dawnDevice } from '../../src/main/engine/dawn/device.ts';
import { productTuningEnabled } from '../../src/main/engine/dawn/productTuning.ts';
import {
  DawnSession,
  type KernelTraffic,
  type ProductPrecision,
} from '../../src/main/engine/dawn/session.ts';
import { gptParamLayout, initParams } from '../../src/main/engine/gpt.ts';
import { buildTrainGraph, TRAIN_IO } from '../../src/main/engine/graphs.ts';
import { HEAD_CHUNK_BYTES, headRowChunks } from '../../src/main/engine/headLoss.ts';
import { Rng } from '../../src/main/engine/rng.ts';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'baby' },
    batch: { type: 'string' },
    runs: { type: 'string', default: '6' },
    // compile the sessions and print what they would run (dispatches, bytes, device memory) without running
    'count-only': { type: 'boolean', default: false },
    vocab: { type: 'string', default: '65' },
    'head-chunk-mib': { type: 'string', default: String(HEAD_CHUNK_BYTES / 2 ** 20) },
    checkpoint: { type: 'boolean', default: false },
    // only these variants (comma-separated names, e.g. fused,head_whole); default all
    variants: { type: 'string' },
  },
});
const only = values.variants ? new Set(['fused', ...values.variants.split(',')]) : null;
const countOnly = values['count-only'];
const preset = presetIdSchema.parse(values.preset);
const config = configFromPreset(preset);
const vocab = Number(values.vocab);
const headChunkBytes = Number(values['head-chunk-mib']) * 2 ** 20;
const model = resolveModelConfig(config, { vocabSize: vocab });
const layout = gptParamLayout(model);
const batch = values.batch ? Number(values.batch) : config.train.batchSize;
const runs = Number(values.runs);
if (![batch, runs, vocab].every((n) => Number.isInteger(n) && n >= 1) || !(headChunkBytes > 0)) {
  console.error('--batch, --runs and --vocab take positive integers, --head-chunk-mib a positive number');
  process.exit(2);
}
const stepGraph = (chunkBytes: number) =>
  buildTrainGraph({
    model,
    train: { ...config.train, batchSize: batch },
    layout,
    kind: 'step',
    dropoutSeed: 1,
    kernels: 'portable',
    checkpointBlocks: values.checkpoint,
    headChunkBytes: chunkBytes,
  });
const graph = stepGraph(headChunkBytes);
const headChunks = headRowChunks(batch * model.blockSize, vocab, headChunkBytes).length;
const P = layout.total;
const T = model.blockSize;
const rng = new Rng(5);
const ids = Int32Array.from({ length: batch * T }, () => rng.randint(model.vocabSize));
const feeds = {
  [TRAIN_IO.params]: new ort.Tensor('float32', initParams(layout, 1), [P]),
  [TRAIN_IO.m]: new ort.Tensor('float32', new Float32Array(P), [P]),
  [TRAIN_IO.v]: new ort.Tensor('float32', new Float32Array(P), [P]),
  [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [batch, T]),
  [TRAIN_IO.targets]: new ort.Tensor('int32', ids, [batch, T]),
  [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([1e-3]), []),
  [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([1]), []),
  [TRAIN_IO.dropoutKey]: new ort.Tensor('uint32', new Uint32Array([1]), []),
};

/** The kinds of kernel that move the most bytes (each node's kernel, e.g. "Gemm+(Mul,Add)", summed over nodes). */
function printTrafficByKernel(kernels: readonly KernelTraffic[], top = 12): void {
  const byKind = new Map<string, { nodes: number; dispatches: number; bytes: number }>();
  for (const k of kernels) {
    const kind = byKind.get(k.kernel) ?? { nodes: 0, dispatches: 0, bytes: 0 };
    kind.nodes++;
    kind.dispatches += k.dispatches;
    kind.bytes += k.bytes;
    byKind.set(k.kernel, kind);
  }
  for (const [kernel, k] of [...byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top))
    console.log(
      `  ${(k.bytes / 1e9).toFixed(2).padStart(6)} GB  ${String(k.dispatches).padStart(3)} dispatches  ${String(k.nodes).padStart(3)}× ${kernel}`,
    );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const { adapter, subgroupMatrix } = await dawnDevice();
const result: Record<string, unknown> = {
  bench: 'dawn-step',
  preset,
  batch,
  vocab,
  head_chunks: headChunks,
  checkpoint: values.checkpoint,
  tokens_per_step: batch * T,
  adapter,
  unchecked: process.env.XAI_LINK_DAWN_UNCHECKED === '1',
};
// f16 products on the matrix units (tensor cores), where the adapter has them: the same rewritten graph.
// The rewritten graph with its attention unfused too (attentionFusion.ts): what the fused kernels buy.
const variants: [
  string,
  { rewrite: boolean; attention?: boolean; tune?: boolean; precision: ProductPrecision; whole?: boolean },
][] = [
  ['fused', { rewrite: true, precision: 'f32' }],
  ['attention_unfused', { rewrite: true, attention: false, precision: 'f32' }],
  ['node_by_node', { rewrite: false, precision: 'f32' }],
];
// The products on the generator's tiles instead of those timed on this GPU (productTuning.ts): what tuning buys.
const tuned = productTuningEnabled(adapter);
if (tuned) variants.push(['untuned', { rewrite: true, tune: false, precision: 'f32' }]);
if (subgroupMatrix) variants.push(['f16', { rewrite: true, precision: 'f16' }]);
else console.log(`f16 products: ${adapter} has no f16 subgroup matrices; skipped`);
// The lm_head and loss in one piece, where the step has them in chunks: what the chunks cost, or that it cannot run.
if (headChunks > 1) variants.push(['head_whole', { rewrite: true, precision: 'f32', whole: true }]);
for (const [name, opts] of variants) {
  if (only && !only.has(name)) continue;
  let session: DawnSession;
  try {
    session = await DawnSession.create(opts.whole ? stepGraph(Infinity) : graph, opts);
  } catch (e) {
    const refused = e instanceof Error ? e.message : String(e);
    if (!opts.whole) {
      // one line, so that the device check's FAIL says why (a stack trace's last lines would not)
      console.error(`${name}: ${refused}`);
      process.exit(1);
    }
    result[name] = { refused };
    console.log(`${name}: refused: ${refused}`);
    continue;
  }
  const deviceMib = Math.round(session.deviceBytes / 2 ** 20);
  const counts = {
    dispatches: session.dispatchCount,
    device_mib: deviceMib,
    traffic_gb: Math.round(session.trafficBytes / 1e8) / 10,
    gflop: Math.round(session.productFlops / 1e8) / 10,
    ...(session.attentionFallback ? { attention_fallback: session.attentionFallback } : {}),
    ...(session.productTuning ? { tuning: session.productTuning } : {}),
  };
  if (session.note) console.log(`${name}: ${session.note}`);
  if (countOnly) {
    result[name] = counts;
    console.log(
      `${name}: ${counts.dispatches} dispatches, ${counts.gflop} GFLOP of products, ${counts.traffic_gb} GB read + written, ${deviceMib} MiB on the device`,
    );
    if (name === 'fused') printTrafficByKernel(session.kernelTraffic);
    await session.release();
    continue;
  }
  const times: number[] = [];
  let loss = NaN;
  for (let r = 0; r < runs + 2; r++) {
    const t0 = performance.now();
    const out = await session.run(feeds, [TRAIN_IO.loss]);
    if (r >= 2) times.push(performance.now() - t0);
    loss = (out[TRAIN_IO.loss]!.data as Float32Array)[0]!;
  }
  const ms = Math.round(median(times) * 10) / 10;
  // the whole step's products over the whole step's time: the share of the GPU's arithmetic peak it reaches
  const tflopPerS = threeFigures(session.productFlops / (ms * 1e9));
  result[name] = {
    ...counts,
    ms_per_step: ms,
    tokens_per_s: Math.round((batch * T * 1000) / ms),
    tflop_per_s: tflopPerS,
    loss: Math.round(loss * 1e6) / 1e6,
  };
  console.log(
    `${name}: ${session.dispatchCount} dispatches, ${deviceMib} MiB on the device, ${ms} ms/step ` +
      `(${counts.gflop} GFLOP of products: ${tflopPerS} TFLOP/s), ` +
      `loss ${loss.toFixed(6)} (${adapter}, ${preset}, batch ${batch})`,
  );
  await session.release();
}
if (countOnly) {
  console.log(JSON.stringify(result));
  process.exit(0);
}
const fused = result.fused as { ms_per_step: number };
const plain = result.node_by_node as { ms_per_step: number } | undefined;
const unfused = result.attention_unfused as { ms_per_step: number } | undefined;
if (plain && unfused) {
  result.speedup = Math.round((plain.ms_per_step / fused.ms_per_step) * 100) / 100;
  result.attention_speedup = Math.round((unfused.ms_per_step / fused.ms_per_step) * 100) / 100;
  console.log(
    `fused is ${result.speedup}× node by node, and ${result.attention_speedup}× the same with attention unfused`,
  );
}
if (result.untuned) {
  const untuned = result.untuned as { ms_per_step: number };
  result.tuning_speedup = Math.round((untuned.ms_per_step / fused.ms_per_step) * 100) / 100;
  console.log(`the tuned product tiles are ${result.tuning_speedup}× the generator's own`);
}
const whole = result.head_whole as { ms_per_step?: number; device_mib: number } | undefined;
if (whole?.ms_per_step) {
  result.head_chunk_cost = Math.round((fused.ms_per_step / whole.ms_per_step) * 100) / 100;
  console.log(
    `the lm_head and loss in ${headChunks} chunks: ${result.head_chunk_cost}× the step time, ` +
      `${(result.fused as { device_mib: number }).device_mib} MiB on the device against ${whole.device_mib} in one piece`,
  );
}
if (result.f16) {
  const half = result.f16 as { ms_per_step: number; loss: number };
  result.f16_speedup = Math.round((fused.ms_per_step / half.ms_per_step) * 100) / 100;
  result.f16_loss_delta =
    Math.round(Math.abs(half.loss - (result.fused as { loss: number }).loss) * 1e6) / 1e6;
  console.log(`f16 products are ${result.f16_speedup}× fp32 (loss differs by ${result.f16_loss_delta})`);
}
console.log(JSON.stringify(result));
process.exit(0);
