/**
 * Device check of the training engine on a GPU machine (scripts/device-check.sh runs it; < 8 minutes).
 *
 *  1. placement: ONNX Runtime's own report for the baby training graph on WebGPU: nodes left on the CPU
 *     provider and host↔device copies (portable graph; the CPU-kernel graph for comparison);
 *  2. parity: one training step with dropout on WebGPU equals the CPU's (same portable graph), 1e-4;
 *  2b. the adapter the engine's own kernels get (Dawn): features, subgroup sizes, f16 fragment, limits;
 *  2c. one step of the preset at full size on the engine's own kernels equals the CPU's (same portable graph);
 *  3. baby (nanoGPT shakespeare_char) on WebGPU, state on the device: up to --steps steps, tokens/s;
 *  3b. baby with the engine's own WebGPU kernels (the `dawn` device: tiled matrix products on Dawn), state on
 *     the device: up to --steps steps or --dawn-seconds;
 *  4. baby on the engine's CPU path (every core), a few steps: tokens/s;
 *  5. PyTorch nanoGPT on the same GPU, same batch and steps: fp32 eager with TF32 (train.py's flags),
 *     and bf16 autocast + torch.compile (train.py's defaults);
 *  6. the engine's kernels (Dawn) taken apart: the step fused, attention unfused, node by node, on the generator's
 *     tiles, with f16 products; its products alone; the tiles tuned for this GPU; GPU timestamps per kernel,
 *     read as TFLOP/s (products) and GB/s (the rest: modelled bytes), with every dispatch in $OUT/dawn-profile.json;
 *  6e. gpt2-small with GPT-2's 50,304 tokens on the engine's kernels, its lm_head and loss in row chunks
 *     (headLoss.ts), against the same in one piece; 6f. sampling it, one position's logits against every one's;
 *  7. ONNX Runtime's WebGPU provider taken apart: its options, the step's pieces alone, its profiler.
 * The figures the speed targets are about (1–5) come first. Every part from 5 on starts only if the time it
 * needs is left before --deadline (seconds from the start; the shell script's own timeout is 15 s later),
 * and says SKIP otherwise, so a slow GPU still ends with the table and the JSON line rather than being killed.
 * Prints PASS / FAIL / SKIP lines stamped with the seconds since the start, a table and, last, one JSON line with
 * every figure. Exit 0 when nothing failed.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import {
  configFromPreset,
  presetIdSchema,
  resolveModelConfig,
  runConfigSchema,
} from '../../src/shared/engine/config.ts';
import { defaultThreads, sessionOptions } from '../../src/main/engine/device.ts';
import { GPU_STATE_OUTPUTS as GPU_STATE_ONLY } from '../../src/main/engine/runner.ts';
import { gptParamLayout, initParams } from '../../src/main/engine/gpt.ts';
import { buildEvalGraph, buildTrainGraph, TRAIN_IO } from '../../src/main/engine/graphs.ts';
import { Graph, type KernelSet } from '../../src/main/engine/graph/graph.ts';
import { measurePlacement } from '../../src/main/engine/placement.ts';
import { Rng } from '../../src/main/engine/rng.ts';
import { shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';
import { Trainer } from '../../src/main/engine/trainer.ts';
import { summariseProfile } from '../../src/main/engine/profile.ts';
import { summariseDawnProfile } from '../../src/main/engine/dawn/dawnProfile.ts';
import { productTuningEnabled, readTuningCache } from '../../src/main/engine/dawn/productTuning.ts';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'baby' },
    steps: { type: 'string', default: '200' },
    'gpu-seconds': { type: 'string', default: '90' },
    'dawn-seconds': { type: 'string', default: '90' },
    'cpu-steps': { type: 'string', default: '8' },
    'cpu-seconds': { type: 'string', default: '60' },
    'torch-seconds': { type: 'string', default: '200' },
    deadline: { type: 'string', default: '455' },
    out: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
});
const steps = Number(values.steps);
const skip = new Set(values.skip.split(',').filter(Boolean));
const work = mkdtempSync(join(tmpdir(), 'xai-device-check-'));
const dataDir = shakespeareCharDataset(work);
const summary: Record<string, unknown> = { node: process.version, ort: ort.env.versions?.common };
let failures = 0;
const startedAt = performance.now();
const deadline = Number(values.deadline);
/** Seconds since the check started, and seconds left before --deadline. */
const elapsed = () => (performance.now() - startedAt) / 1000;
const left = () => deadline - elapsed();
const stamp = () => `[${elapsed().toFixed(0).padStart(3)} s]`;
const pass = (what: string, detail = '') =>
  console.log(`PASS ${stamp()} ${what}${detail ? `: ${detail}` : ''}`);
const fail = (what: string, why: unknown) => {
  // a part the deadline cut short did not fail: it was not given its time
  if (why instanceof CutAtDeadline) {
    skipPart(what, why.message);
    return;
  }
  failures++;
  console.log(`FAIL ${stamp()} ${what}: ${why instanceof Error ? why.message.split('\n')[0] : String(why)}`);
};
const skipped: Record<string, string> = {};
/**
 * Whether a part of the check that needs about `needs` seconds on a GPU should start: not when --skip names it,
 * and not when less than that is left before the deadline (said as a SKIP line and in the JSON's `skipped`).
 */
const starts = (part: string, needs: number, ...names: string[]) => {
  if (names.some((n) => skip.has(n))) return false;
  if (left() >= needs) return true;
  skipPart(part, `${Math.max(0, left()).toFixed(0)} s left of --deadline ${deadline}, needs about ${needs}`);
  return false;
};
function skipPart(part: string, why: string): void {
  skipped[part] = why;
  console.log(`SKIP ${stamp()} ${part}: ${why}`);
}
/** A child's time limit: its own, or what is left before the deadline (less a margin to report), if sooner. */
const childLimit = (seconds: number) => {
  const ms = Math.round(Math.max(1, Math.min(seconds, left() - 10)) * 1000);
  return { ms, byDeadline: ms < seconds * 1000 };
};
/** A child stopped by the deadline rather than by its own time limit (reported as SKIP, not FAIL). */
class CutAtDeadline extends Error {}
/** The largest |a[i] − b[i]|. */
const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

// Every Dawn session of the check, in this process and its children, shares one tile cache, which starts empty:
// the first session times the products' tiles on this GPU (productTuning.ts), the report lists its choices.
const tilesCache = join(work, 'product-tiles.json');
process.env.XAI_LINK_DAWN_TUNING_CACHE = tilesCache;

const preset = presetIdSchema.parse(values.preset);
const baby = configFromPreset(preset);
const babyModel = resolveModelConfig(baby, { vocabSize: 65 });
const babyLayout = gptParamLayout(babyModel);
const tokensPerStep = baby.train.batchSize * babyModel.blockSize;
/** The preset's training step graph (built once per variant: building the baby graph takes a while). */
const stepGraph = (kernels: KernelSet, dropout = babyModel.dropout) =>
  buildTrainGraph({
    model: { ...babyModel, dropout },
    train: baby.train,
    layout: babyLayout,
    kind: 'step',
    dropoutSeed: 1,
    kernels,
  });
/** The portable step: the graph the Dawn sessions compile, and its encoding for ONNX Runtime's. */
const portableGraph = stepGraph('portable');
const portableStep = portableGraph.encode();

// 1. placement
try {
  const p = await measurePlacement(portableStep, 'webgpu', { gpuOutputs: GPU_STATE_ONLY });
  const cpuKernels = await measurePlacement(stepGraph('ort').encode(), 'webgpu');
  summary.placement = {
    cpu_nodes: p.cpuNodes,
    copy_nodes: p.copyNodes,
    gpu_nodes: p.providers.WebGpuExecutionProvider?.length ?? 0,
    cpu_kernel_graph: {
      cpu_nodes: cpuKernels.cpuNodes,
      copy_nodes: cpuKernels.copyNodes,
      cpu_ops: cpuKernels.cpuOps,
    },
  };
  if (p.cpuNodes === 0) pass('placement', `${preset} step: 0 CPU nodes, ${p.copyNodes} copies`);
  else fail('placement', `${p.cpuNodes} CPU nodes: ${JSON.stringify(p.cpuOps)}`);
} catch (e) {
  fail('placement', e);
}

// 2. parity: one step with dropout, WebGPU vs CPU, same portable graph and inputs
try {
  const model = { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 32, vocabSize: 65, dropout: 0.1, bias: false };
  const train = runConfigSchema.parse({ model, train: { batchSize: 8, maxIters: 10 } }).train;
  const layout = gptParamLayout(model);
  const bytes = buildTrainGraph({
    model,
    train,
    layout,
    kind: 'step',
    dropoutSeed: 3,
    kernels: 'portable',
  }).encode();
  const rng = new Rng(3);
  const ids = Int32Array.from({ length: 8 * 32 }, () => rng.randint(65));
  const tgt = Int32Array.from({ length: 8 * 32 }, () => rng.randint(65));
  const P = layout.total;
  const run = async (device: 'cpu' | 'webgpu') => {
    const s = await ort.InferenceSession.create(bytes, sessionOptions(device, 4));
    const out = await s.run({
      [TRAIN_IO.params]: new ort.Tensor('float32', initParams(layout, 1), [P]),
      [TRAIN_IO.m]: new ort.Tensor('float32', new Float32Array(P), [P]),
      [TRAIN_IO.v]: new ort.Tensor('float32', new Float32Array(P), [P]),
      [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [8, 32]),
      [TRAIN_IO.targets]: new ort.Tensor('int32', tgt, [8, 32]),
      [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([1e-3]), []),
      [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([1]), []),
      [TRAIN_IO.dropoutKey]: new ort.Tensor('uint32', new Uint32Array([7]), []),
    });
    await s.release();
    return {
      loss: Number(out[TRAIN_IO.loss]!.data[0]),
      gradNorm: Number(out[TRAIN_IO.gradNorm]!.data[0]),
      params: out[TRAIN_IO.paramsOut]!.data as Float32Array,
    };
  };
  const c = await run('cpu');
  const g = await run('webgpu');
  const d = maxAbsDiff(c.params, g.params);
  summary.parity = {
    loss_cpu: c.loss,
    loss_webgpu: g.loss,
    grad_norm_cpu: c.gradNorm,
    grad_norm_webgpu: g.gradNorm,
    max_param_diff: d,
  };
  const ok =
    Math.abs(c.loss - g.loss) < 1e-4 &&
    Math.abs(c.gradNorm - g.gradNorm) < 1e-4 * Math.max(1, c.gradNorm) &&
    d < 1e-4;
  (ok ? pass : fail)(
    'one step with dropout, WebGPU = CPU',
    `loss ${g.loss.toFixed(6)} vs ${c.loss.toFixed(6)}, grad norm ${g.gradNorm.toFixed(5)} vs ${c.gradNorm.toFixed(5)}, max param diff ${d.toExponential(1)}`,
  );
} catch (e) {
  fail('one step with dropout, WebGPU = CPU', e);
}

// 2b. the adapter the engine's own kernels (Dawn) get: what the f16 and tiling decisions depend on, recorded even
// where a later part fails
let dawnAdapter: string | null = null;
if (!skip.has('dawn')) {
  try {
    const { dawnDevice } = await import('../../src/main/engine/dawn/device.ts');
    const dev = await dawnDevice();
    const info = dev.device.adapterInfo;
    const limits = dev.device.limits;
    dawnAdapter = dev.adapter;
    summary.dawn_adapter = {
      adapter: dev.adapter,
      vendor: info.vendor,
      architecture: info.architecture,
      features: dev.features,
      subgroup_sizes: [info.subgroupMinSize, info.subgroupMaxSize],
      f16_fragment: dev.subgroupMatrix,
      limits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    };
    const f = dev.subgroupMatrix;
    pass(
      'dawn adapter',
      `${dev.adapter}; ${dev.features.join(', ')}; subgroups ${info.subgroupMinSize ?? '?'}–${info.subgroupMaxSize ?? '?'}; ` +
        `f16 matrix units: ${f ? `${f.m}×${f.n}×${f.k} fragments, subgroup ${f.subgroupSize}` : 'none'}; ` +
        `${limits.maxComputeWorkgroupStorageSize / 1024} KiB of workgroup memory`,
    );
  } catch (e) {
    fail('dawn adapter', e);
  }
}

// 2c. the engine's own kernels at the preset's full size: one training step (its dropout, its batch) on Dawn equals
// ONNX Runtime's CPU on the same portable graph and inputs. On this GPU the products run on the tiles tuned here
// (this is the first Dawn session: it tunes them for the rest of the check), its subgroup size and its compiler.
// AdamW's first step moves each weight by about ±lr whatever the gradient's size, so a gradient of about ε decides
// its weight's last bits: the first moment (0.1·clipped gradient) is what is compared element by element.
if (starts('dawn parity', 30, 'dawn')) {
  try {
    const { DawnSession } = await import('../../src/main/engine/dawn/session.ts');
    const read = (out: Record<string, ort.Tensor>) => ({
      loss: Number(out[TRAIN_IO.loss]!.data[0]),
      gradNorm: Number(out[TRAIN_IO.gradNorm]!.data[0]),
      m: out[TRAIN_IO.mOut]!.data as Float32Array,
      params: out[TRAIN_IO.paramsOut]!.data as Float32Array,
    });
    const cpuSession = await ort.InferenceSession.create(
      portableStep,
      sessionOptions('cpu', defaultThreads()),
    );
    const c = read(await cpuSession.run(trainFeeds(1)));
    await cpuSession.release();
    const dawnSession = await DawnSession.create(portableGraph);
    const g = read(await dawnSession.run(trainFeeds(1)));
    const tiles = dawnSession.productTuning ? 'tuned tiles' : 'untuned tiles';
    await dawnSession.release();
    const mScale = c.m.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
    const mDiff = maxAbsDiff(c.m, g.m);
    const paramDiff = maxAbsDiff(c.params, g.params);
    summary.dawn_parity = {
      loss_cpu: c.loss,
      loss_dawn: g.loss,
      grad_norm_cpu: c.gradNorm,
      grad_norm_dawn: g.gradNorm,
      max_m_diff: mDiff,
      max_m: mScale,
      max_param_diff: paramDiff,
      tiles,
    };
    const ok =
      Math.abs(c.loss - g.loss) < 1e-4 &&
      Math.abs(c.gradNorm - g.gradNorm) < 1e-4 * Math.max(1, c.gradNorm) &&
      mDiff <= 1e-4 * mScale;
    (ok ? pass : fail)(
      `one ${preset} step on the engine's kernels (dawn) = CPU`,
      `loss ${g.loss.toFixed(6)} vs ${c.loss.toFixed(6)}, grad norm ${g.gradNorm.toFixed(6)} vs ` +
        `${c.gradNorm.toFixed(6)}, first moment within ${(mDiff / mScale).toExponential(1)} of its largest, ` +
        `max param diff ${paramDiff.toExponential(1)} (${tiles})`,
    );
  } catch (e) {
    fail(`one ${preset} step on the engine's kernels (dawn) = CPU`, e);
  }
}

// 3–4. baby on the engine: WebGPU (state on the device) and the CPU
async function trainBaby(device: 'cpu' | 'webgpu' | 'dawn', maxSteps: number, seconds: number) {
  const config = configFromPreset(preset, {
    train: {
      maxIters: steps,
      lrDecayIters: steps,
      evalInterval: steps,
      evalIters: 10,
      logInterval: 1,
      checkpointInterval: steps,
      sampleTokens: 1,
    },
    model: {},
  });
  if (device !== 'cpu') config.train.activationCheckpointing = 'off'; // a GPU has the memory
  const losses: number[] = [];
  const ms: number[] = [];
  const evals: { step: number; train: number; val: number }[] = [];
  const started = performance.now();
  let message = '';
  const trainer: Trainer = await Trainer.create({
    config,
    data: { path: dataDir },
    runDir: join(work, `baby-${device}`),
    device,
    writeFiles: false,
    onEvent: (e) => {
      if (e.type === 'metric') {
        losses.push(e.metric.loss);
        ms.push(e.metric.msPerStep);
        if (e.metric.step >= maxSteps || performance.now() - started > seconds * 1000) trainer.stop();
      } else if (e.type === 'eval')
        evals.push({ step: e.metric.step, train: e.metric.trainLoss, val: e.metric.valLoss });
      else if (e.type === 'log') message ||= e.message;
    },
  });
  await trainer.run();
  await trainer.close();
  const warm = ms.slice(Math.min(3, ms.length - 1));
  const msPerStep = median(warm);
  return {
    device,
    message: trainer.deviceMessage,
    steps: losses.length,
    ms_per_step: Math.round(msPerStep * 10) / 10,
    first_step_ms: Math.round(ms[0] ?? NaN),
    tokens_per_s: Math.round((tokensPerStep * 1000) / msPerStep),
    loss_first: losses[0],
    loss_last10: losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length),
    losses_first10: losses.slice(0, 10).map((l) => Math.round(l * 1e4) / 1e4),
    evals,
  };
}

const engine: Record<string, Awaited<ReturnType<typeof trainBaby>>> = {};
for (const [device, n, s] of [
  ['webgpu', steps, Number(values['gpu-seconds'])],
  ['dawn', steps, Number(values['dawn-seconds'])],
  ['cpu', Number(values['cpu-steps']), Number(values['cpu-seconds'])],
] as const) {
  if (skip.has(device)) continue;
  try {
    engine[device] = await trainBaby(device, n, s);
    const r = engine[device]!;
    pass(
      `baby on ${device}`,
      `${r.steps} steps, ${r.ms_per_step} ms/step, ${r.tokens_per_s} tokens/s, loss ${r.loss_first?.toFixed(4)} → ${r.loss_last10.toFixed(4)} (last 10)`,
    );
  } catch (e) {
    fail(`baby on ${device}`, e);
  }
}
summary.engine = engine;

// 5. PyTorch nanoGPT on the same GPU, same batch and steps: the comparison the targets are about, so it runs
// before the diagnostics that follow
function torchRun(label: string, extra: string[]) {
  const args = [
    'scripts/bench/nanogpt_torch.py',
    '--data',
    dataDir,
    '--device',
    'cuda',
    '--iters',
    String(steps),
    '--batch',
    String(baby.train.batchSize),
    '--block',
    String(babyModel.blockSize),
    '--n-layer',
    String(babyModel.nLayer),
    '--n-head',
    String(babyModel.nHead),
    '--n-embd',
    String(babyModel.nEmbd),
    '--dropout',
    String(babyModel.dropout),
    '--lr',
    String(baby.train.learningRate),
    '--vocab',
    '65',
    '--eval-interval',
    String(steps),
    '--eval-iters',
    '10',
    '--quiet',
    ...extra,
  ];
  const limit = childLimit(Number(values['torch-seconds']));
  const r = spawnSync('python3', args, {
    encoding: 'utf8',
    timeout: limit.ms,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  return lastJsonLine(r, label, limit.byDeadline);
}
const torch: Record<string, Record<string, unknown>> = {};
if (!skip.has('torch')) {
  for (const [label, extra] of [
    ['fp32_tf32_eager', []],
    ['bf16_compile', ['--dtype', 'bfloat16', '--compile']],
  ] as const) {
    if (!starts(`pytorch ${label}`, 60)) continue;
    try {
      torch[label] = torchRun(label, [...extra]);
      pass(`pytorch ${label}`, `${torch[label]!.tokens_per_s} tokens/s, val loss ${torch[label]!.val_loss}`);
    } catch (e) {
      fail(`pytorch ${label}`, e);
    }
  }
}
summary.pytorch = torch;

/** Feeds of the baby training step for step i (state from the host: timeSession keeps the device's). */
function trainFeeds(i: number): Record<string, ort.Tensor> {
  const P = babyLayout.total;
  const B = baby.train.batchSize;
  const T = babyModel.blockSize;
  const rng = new Rng(5 + i);
  const ids = Int32Array.from({ length: B * T }, () => rng.randint(65));
  return {
    [TRAIN_IO.params]: new ort.Tensor('float32', initParams(babyLayout, 1), [P]),
    [TRAIN_IO.m]: new ort.Tensor('float32', new Float32Array(P), [P]),
    [TRAIN_IO.v]: new ort.Tensor('float32', new Float32Array(P), [P]),
    [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [B, T]),
    [TRAIN_IO.targets]: new ort.Tensor('int32', ids, [B, T]),
    [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([1e-3]), []),
    [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([i]), []),
    [TRAIN_IO.dropoutKey]: new ort.Tensor('uint32', new Uint32Array([i]), []),
  };
}

/**
 * Median ms of a session's run on WebGPU (2 warm-up runs, then 6). Outputs named in `gpuOutputs` stay on
 * the device and are fed back as the inputs of the same name minus "_out" (the training state), so the
 * timed runs do what training does; feeds of those names after the first run are ignored.
 */
async function timeSession(
  label: string,
  bytes: Uint8Array,
  gpuOutputs: string[],
  feeds: (i: number) => Record<string, ort.Tensor>,
  tweak: (o: ort.InferenceSession.SessionOptions) => void = () => {},
  after: (s: ort.InferenceSession) => void = () => {},
): Promise<number> {
  const opts = sessionOptions('webgpu', defaultThreads(), gpuOutputs);
  tweak(opts);
  const s = await ort.InferenceSession.create(bytes, opts);
  const carried: Record<string, ort.Tensor> = {};
  const times: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const f = { ...feeds(i), ...carried };
    const t0 = performance.now();
    const out = await s.run(f, s.outputNames);
    for (const name of s.outputNames) if (!gpuOutputs.includes(name)) void out[name]!.data;
    times.push(performance.now() - t0);
    for (const name of gpuOutputs) {
      const input = name.replace(/_out$/, '');
      carried[input]?.dispose();
      carried[input] = out[name]!;
    }
  }
  for (const t of Object.values(carried)) t.dispose();
  after(s);
  await s.release();
  const ms = median(times.slice(2));
  console.log(`webgpu ${label}: ${ms.toFixed(2)} ms (median of 6 after 2 warm-up)`);
  return Math.round(ms * 100) / 100;
}

/** Runs one of our bench scripts in a process of its own (Dawn's toggles are per process); its last JSON line. */
function benchScript(script: string, args: string[], env: Record<string, string>): Record<string, unknown> {
  const limit = childLimit(120);
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    timeout: limit.ms,
    env: { ...process.env, ...env },
  });
  return lastJsonLine(r, script, limit.byDeadline);
}

/** The last line of a child's output that is a JSON object; else what it said on stderr, as an error. */
function lastJsonLine(
  r: SpawnSyncReturns<string>,
  label: string,
  byDeadline = false,
): Record<string, unknown> {
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  if (!line) {
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (timedOut && byDeadline)
      throw new CutAtDeadline(`${label}: stopped at --deadline ${deadline} before it reported`);
    const said = (r.stderr ?? '')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('Warning: maxDynamic'))
      .slice(-4)
      .join(' | ');
    throw new Error(
      `${label}: no result (${timedOut ? 'stopped at its time limit' : `exit ${r.status}`}) ${said}`,
    );
  }
  return JSON.parse(line) as Record<string, unknown>;
}

// 6a. what the executor's graph rewrites and Dawn's bounds clamps cost on this GPU: the step fused, with its
// attention unfused, and node by node (scripts/bench/dawn-step.ts), in a process with the clamps and in one
// without (XAI_LINK_DAWN_UNCHECKED=1)
if (!skip.has('dawn')) {
  const variants: Record<string, unknown> = {};
  for (const [name, unchecked] of [
    ['checked', '0'],
    ['unchecked', '1'],
  ] as const) {
    if (!starts(`dawn step, ${name}`, 45)) continue;
    try {
      const v = benchScript('scripts/bench/dawn-step.ts', ['--preset', preset, '--runs', '4'], {
        XAI_LINK_DAWN_UNCHECKED: unchecked,
      }) as Record<
        string,
        { dispatches: number; ms_per_step: number; tflop_per_s: number; loss: number } | undefined
      > & {
        tuning_speedup?: number;
      };
      variants[name] = v;
      const tuning = v.untuned
        ? `; untuned tiles ${v.untuned.ms_per_step} ms (tuned ${String(v.tuning_speedup)}×)`
        : '; tiles not tuned on this adapter';
      const half = v.f16
        ? `; f16 products ${v.f16.ms_per_step} ms, loss ${v.f16.loss} against ${v.fused!.loss}`
        : '; f16 products: no f16 subgroup matrices on this adapter';
      pass(
        `dawn step, ${name}`,
        `fused ${v.fused!.dispatches} dispatches ${v.fused!.ms_per_step} ms (${v.fused!.tflop_per_s} TFLOP/s of products); attention unfused ` +
          `${v.attention_unfused!.dispatches} dispatches ${v.attention_unfused!.ms_per_step} ms; node by node ` +
          `${v.node_by_node!.dispatches} dispatches ${v.node_by_node!.ms_per_step} ms${tuning}${half} (inputs fed from the host)`,
      );
    } catch (e) {
      fail(`dawn step, ${name}`, e);
    }
  }
  summary.dawn_step = variants;
}

// 6b. our matrix products alone (scripts/bench/kernels.ts --full: a baby step's products, GPU timestamps, on
// the generator's tiles unless said): as generated, on the tuned tiles, with the K sum not blocked (fewer
// registers, less precise), without Dawn's bounds clamps, and with f16 operands on the matrix units (tensor
// cores: kernels/matmulSubgroup.ts; 2×2 and 4×4 fragments a subgroup). Every tiling of every product was timed
// by the tuner: its table follows.
if (!skip.has('dawn') && !skip.has('products')) {
  const products: Record<string, unknown> = {};
  for (const [name, args, env] of [
    ['default', [], {}],
    ['tuned', ['--tuned'], {}],
    ['blocked_off', ['--blocked', 'off'], {}],
    ['unchecked', [], { XAI_LINK_DAWN_UNCHECKED: '1' }],
    ['f16', ['--precision', 'f16'], {}],
    ['f16_4x4', ['--precision', 'f16', '--fragments', '4x4'], {}],
  ] as const) {
    if (!starts(`dawn products, ${name}`, 20)) continue;
    try {
      const r = benchScript('scripts/bench/kernels.ts', ['--full', '--no-ort', ...args], env);
      products[name] = { step_ms: r.ours_step_ms, step_gflops: r.ours_step_gflops, products: r.products };
      pass(
        `dawn products, ${name}`,
        `${r.ours_step_ms} ms for a step's ${r.step_gflop} GFLOP: ${r.ours_step_gflops} GFLOP/s`,
      );
    } catch (e) {
      fail(`dawn products, ${name}`, e);
    }
  }
  summary.dawn_products = products;
}

// 6c. the tiles the tuner chose for this GPU, and what each tiling measured (ms per product)
if (!skip.has('dawn')) {
  try {
    const { adapters } = await readTuningCache(tilesCache);
    const tiles = Object.entries(adapters).flatMap(([adapter, products]) =>
      Object.values(products).map((p) => ({ adapter, ...p })),
    );
    if (tiles.length > 0) {
      summary.dawn_tiles = tiles;
      const names = [...new Set(tiles.flatMap((t) => Object.keys(t.ms)))].sort();
      console.log(`\n| product (M×N×K) | chosen | generator's | ${names.join(' | ')} |`);
      console.log(`| --- | --- | --- | ${names.map(() => '---:').join(' | ')} |`);
      for (const t of tiles)
        console.log(
          `| ${t.shape} | ${t.tiling} | ${t.generator} | ${names.map((n) => t.ms[n]?.toFixed(4) ?? '—').join(' | ')} |`,
        );
      pass(
        'dawn tiles',
        `${tiles.length} products tuned, ${tiles.filter((t) => t.tiling !== t.generator).length} off the default`,
      );
    } else if (dawnAdapter && !productTuningEnabled(dawnAdapter)) {
      skipPart(
        'dawn tiles',
        `${dawnAdapter}: a software adapter's tiles are not tuned (XAI_LINK_DAWN_TUNE=1 tunes them)`,
      );
    } else {
      throw new Error(`no tuned products in ${tilesCache}`);
    }
  } catch (e) {
    fail('dawn tiles', e);
  }
}

// 6d. profile of the step with the engine's own kernels (Dawn): GPU timestamps around every dispatch
if (starts('dawn profile', 20, 'profile', 'dawn')) {
  try {
    const { DawnSession } = await import('../../src/main/engine/dawn/session.ts');
    const session = await DawnSession.create(portableGraph);
    const times = await session.profile(trainFeeds(1));
    const traffic = session.kernelTraffic;
    await session.release();
    const dawnProfile = summariseDawnProfile(times, traffic, 12);
    summary.dawn_profile = dawnProfile;
    // every dispatch with its node's modelled bytes and FLOPs, to read against the GPU's limits afterwards
    if (values.out)
      writeFileSync(
        join(values.out, 'dawn-profile.json'),
        JSON.stringify({ dispatches: times, nodes: traffic }, null, 1),
      );
    const rate = (g: { tflop_per_s: number | null; gb_per_s: number | null }) =>
      g.tflop_per_s !== null ? `${g.tflop_per_s} TFLOP/s` : `${g.gb_per_s} GB/s`;
    const { products: pr, memory: mem } = dawnProfile;
    pass(
      'dawn profile',
      `${dawnProfile.dispatches} dispatches, ${dawnProfile.total_ms} ms of kernels; products ${pr.pct}% ` +
        `(${pr.gflop} GFLOP at ${pr.tflop_per_s} TFLOP/s), the rest ${mem.pct}% (${mem.gb} GB at ${mem.gb_per_s} GB/s, ` +
        `modelled); by kernel: ${dawnProfile.by_kernel
          .slice(0, 6)
          .map((k) => `${k.kernel} ${k.pct}% ${rate(k)}`)
          .join(', ')}`,
    );
  } catch (e) {
    fail('dawn profile', e);
  }
}

/** gpt2-small's 474 MiB parameter vector does not fit a small binding (software Vulkan's 128 MiB): a SKIP, not a FAIL. */
function failUnlessTooLarge(part: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  if (/largest storage binding/.test(message)) skipPart(part, message);
  else fail(part, e);
}

// 6e. gpt2-small with GPT-2's 50,304 tokens on the engine's kernels: its logits (2.3 GiB a step) run in row chunks
// (src/main/engine/headLoss.ts); the same step with them in one piece, where this adapter can bind them at all
if (starts('dawn gpt2-small', 90, 'dawn', 'gpt2')) {
  try {
    const r = benchScript(
      'scripts/bench/dawn-step.ts',
      ['--preset', 'gpt2-small', '--vocab', '50304', '--runs', '3', '--variants', 'head_whole'],
      {},
    ) as Record<string, unknown> & {
      fused: {
        ms_per_step: number;
        tokens_per_s: number;
        tflop_per_s: number;
        device_mib: number;
        loss: number;
      };
      head_whole?: { ms_per_step?: number; device_mib?: number; refused?: string };
    };
    summary.dawn_gpt2 = r;
    const whole = r.head_whole?.refused
      ? `in one piece: refused (${r.head_whole.refused})`
      : `in one piece ${r.head_whole?.ms_per_step} ms, ${r.head_whole?.device_mib} MiB`;
    pass(
      'dawn gpt2-small',
      `batch 12 × 1024, GPT-2's vocabulary, head in ${String(r.head_chunks)} chunks: ${r.fused.ms_per_step} ms ` +
        `(${r.fused.tokens_per_s} tokens/s, ${r.fused.tflop_per_s} TFLOP/s of products), ${r.fused.device_mib} MiB on ` +
        `the device, loss ${r.fused.loss}; ${whole}`,
    );
  } catch (e) {
    failUnlessTooLarge('dawn gpt2-small', e);
  }
}

// 6f. sampling gpt2-small (GPT-2's tokens) on the engine's kernels: one position's logits against every position's
if (starts('dawn sampling', 40, 'dawn', 'gpt2')) {
  try {
    const r = benchScript(
      'scripts/bench/sample.ts',
      ['--preset', 'gpt2-small', '--device', 'dawn', '--tokens', '16'],
      {},
    );
    summary.dawn_sampling = r;
    pass(
      'dawn sampling',
      `gpt2-small, GPT-2's vocabulary: ${String(r.one_ms_per_token)} ms a token with one position's logits, ` +
        `${String(r.every_ms_per_token)} with every position's (${String(r.speedup)}×)`,
    );
  } catch (e) {
    failUnlessTooLarge('dawn sampling', e);
  }
}

// 7a. the WebGPU provider's own options: the same step timed with each (state on the device)
const timeWebgpuStep = (label: string, tweak: (o: ort.InferenceSession.SessionOptions) => void) =>
  timeSession(label, portableStep, GPU_STATE_ONLY, trainFeeds, tweak);
if (starts('webgpu options', 40, 'options')) {
  const variants: Record<string, number> = {};
  try {
    variants.default = await timeWebgpuStep('default options', () => {});
    variants.validation_disabled = await timeWebgpuStep('validationMode disabled', (o) => {
      o.executionProviders = [{ name: 'webgpu', validationMode: 'disabled' } as never, 'cpu'];
    });
    variants.bucket_buffers = await timeWebgpuStep(
      'bucket storage-buffer cache, 64 pending dispatches',
      (o) => {
        o.extra = {
          ...(o.extra as object),
          ep: {
            webgpuexecutionprovider: { storageBufferCacheMode: 'bucket', maxNumPendingDispatches: '64' },
          },
        };
      },
    );
    variants.sequential_off = await timeWebgpuStep('no CPU thread pool (1 intra-op thread)', (o) => {
      o.intraOpNumThreads = 1;
    });
    summary.webgpu_options_ms = variants;
    pass('webgpu options', JSON.stringify(variants));
  } catch (e) {
    summary.webgpu_options_ms = variants;
    fail('webgpu options', e);
  }
}

// 7b. where the step's time goes: the step without dropout, the forward pass alone, and the kernels the
// step is made of timed alone (matrix products in fp32 and fp16, an elementwise pass), against which the
// step's FLOPs and bytes are read
if (starts('where the time goes', 60, 'ablation')) {
  try {
    const ablation: Record<string, number> = {};
    ablation.step = await timeSession(
      'step, dropout as configured',
      portableStep,
      GPU_STATE_ONLY,
      trainFeeds,
    );
    ablation.step_no_dropout = await timeSession(
      'step, dropout 0',
      stepGraph('portable', 0).encode(),
      GPU_STATE_ONLY,
      trainFeeds,
    );
    const evalBytes = buildEvalGraph({
      model: babyModel,
      layout: babyLayout,
      batch: baby.train.batchSize,
      kernels: 'portable',
    }).encode();
    ablation.forward = await timeSession('forward + loss (evaluation graph)', evalBytes, [], (i) => {
      const f = trainFeeds(i);
      return {
        [TRAIN_IO.params]: f[TRAIN_IO.params]!,
        [TRAIN_IO.idx]: f[TRAIN_IO.idx]!,
        [TRAIN_IO.targets]: f[TRAIN_IO.targets]!,
      };
    });
    const N = baby.train.batchSize * babyModel.blockSize;
    const C = babyModel.nEmbd;
    for (const dtype of ['float32', 'float16'] as const) {
      const g = new Graph(`mm_${dtype}`, { kernels: 'portable' });
      const a = g.input('a', 'float32', [N, C]);
      const b = g.input('b', 'float32', [C, 4 * C]);
      const cast = (t: typeof a) =>
        dtype === 'float16' ? g.emit1('Cast', [t], t.shape, 'float32', { to: { int: 10 } }) : t;
      let y = cast(a);
      // 8 chained products [N, C]·[C, 4C]·[4C, C]… so the kernel time dominates the run
      const bt = cast(b);
      const bT = g.emit1('Transpose', [bt], [4 * C, C], 'float32', { perm: { ints: [1, 0] } });
      for (let k = 0; k < 4; k++) {
        y = g.emit1('MatMul', [y, bt], [N, 4 * C], 'float32');
        y = g.emit1('MatMul', [y, bT], [N, C], 'float32');
      }
      g.output(
        g.emit1(
          'ReduceSum',
          [
            dtype === 'float16' ? g.emit1('Cast', [y], y.shape, 'float32', { to: { int: 1 } }) : y,
            g.vector([0, 1]),
          ],
          [],
          'float32',
          { keepdims: { int: 0 } },
        ),
        'out',
      );
      const rng = new Rng(2);
      const av = Float32Array.from({ length: N * C }, () => rng.normal() * 0.05);
      const bv = Float32Array.from({ length: C * 4 * C }, () => rng.normal() * 0.05);
      const ms = await timeSession(`8 matrix products ${N}×${C}×${4 * C} (${dtype})`, g.encode(), [], () => ({
        a: new ort.Tensor('float32', av, [N, C]),
        b: new ort.Tensor('float32', bv, [C, 4 * C]),
      }));
      ablation[`matmul_${dtype}_tflops`] =
        Math.round(((8 * 2 * N * C * 4 * C) / (ms / 1000) / 1e12) * 100) / 100;
    }
    {
      // the model's Linear layers: Gemm with the [out, in] weight transposed in the kernel
      const g = new Graph('gemm', { kernels: 'portable' });
      let y = g.input('a', 'float32', [N, C]);
      const w1 = g.input('w1', 'float32', [4 * C, C]);
      const w2 = g.input('w2', 'float32', [C, 4 * C]);
      for (let k = 0; k < 4; k++) {
        y = g.emit1('Gemm', [y, w1], [N, 4 * C], 'float32', { transB: { int: 1 } });
        y = g.emit1('Gemm', [y, w2], [N, C], 'float32', { transB: { int: 1 } });
      }
      g.output(g.emit1('ReduceSum', [y, g.vector([0, 1])], [], 'float32', { keepdims: { int: 0 } }), 'out');
      const rng = new Rng(3);
      const av = Float32Array.from({ length: N * C }, () => rng.normal() * 0.05);
      const wv = Float32Array.from({ length: 4 * C * C }, () => rng.normal() * 0.05);
      const ms = await timeSession(`8 Gemm (transB) ${N}×${C}×${4 * C}`, g.encode(), [], () => ({
        a: new ort.Tensor('float32', av, [N, C]),
        w1: new ort.Tensor('float32', wv, [4 * C, C]),
        w2: new ort.Tensor('float32', wv, [C, 4 * C]),
      }));
      ablation.gemm_transb_float32_tflops =
        Math.round(((8 * 2 * N * C * 4 * C) / (ms / 1000) / 1e12) * 100) / 100;
    }
    {
      const n = baby.train.batchSize * babyModel.nHead * babyModel.blockSize * babyModel.blockSize;
      const g = new Graph('elementwise', { kernels: 'portable' });
      let x = g.input('x', 'float32', [n]);
      for (let k = 0; k < 16; k++) x = g.emit1('Mul', [x, g.scalar(1.0001)], [n], 'float32');
      g.output(g.emit1('ReduceSum', [x, g.vector([0])], [], 'float32', { keepdims: { int: 0 } }), 'out');
      const xv = new Float32Array(n).fill(1);
      const ms = await timeSession(`16 elementwise passes over ${n} floats`, g.encode(), [], () => ({
        x: new ort.Tensor('float32', xv, [n]),
      }));
      ablation.elementwise_ms_per_pass = Math.round((ms / 16) * 1000) / 1000;
      ablation.elementwise_gb_s = Math.round((16 * 8 * n) / (ms / 1000) / 1e9);
    }
    summary.ablation = ablation;
    pass('where the time goes', JSON.stringify(ablation));
  } catch (e) {
    fail('where the time goes', e);
  }
}

// 7c. profile of the step on WebGPU
if (starts('profile', 20, 'profile')) {
  try {
    const prefix = join(work, 'profile');
    await timeSession(
      'profiled step',
      portableStep,
      GPU_STATE_ONLY,
      trainFeeds,
      (o) => {
        o.enableProfiling = true;
        o.profileFilePrefix = prefix;
      },
      (s) => s.endProfiling(),
    );
    const file = readdirSync(work).find((f) => f.startsWith('profile') && f.endsWith('.json'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const profile = summariseProfile(JSON.parse(readFileSync(join(work, file), 'utf8')), {
      skipRuns: 2,
      top: 15,
    });
    summary.profile = profile;
    if (values.out) writeFileSync(join(values.out, 'webgpu-profile.json'), readFileSync(join(work, file)));
    pass(
      'profile',
      `${profile.runs} runs, ${profile.nodeEvents} node events; top op types: ${profile.byOpType
        .slice(0, 5)
        .map((o) => `${o.opType} ${o.pct}%`)
        .join(', ')}`,
    );
  } catch (e) {
    fail('profile', e);
  }
}

// table and summary
const gpu = engine.webgpu;
const dawn = engine.dawn;
const cpu = engine.cpu;
const tps = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : '—');
const rows: [string, string, string, string][] = [
  [
    'engine, WebGPU (state on device)',
    tps(gpu?.tokens_per_s),
    `${gpu?.steps ?? 0}`,
    gpu
      ? `${gpu.loss_first?.toFixed(4)} → ${gpu.loss_last10.toFixed(4)}; val ${gpu.evals.at(-1)?.val.toFixed(4) ?? '—'}`
      : '—',
  ],
  [
    "engine, WebGPU with the engine's kernels (Dawn)",
    tps(dawn?.tokens_per_s),
    `${dawn?.steps ?? 0}`,
    dawn
      ? `${dawn.loss_first?.toFixed(4)} → ${dawn.loss_last10.toFixed(4)}; val ${dawn.evals.at(-1)?.val.toFixed(4) ?? '—'}`
      : '—',
  ],
  [
    'engine, CPU (every core)',
    tps(cpu?.tokens_per_s),
    `${cpu?.steps ?? 0}`,
    cpu ? `${cpu.loss_first?.toFixed(4)} → ${cpu.loss_last10.toFixed(4)}` : '—',
  ],
  [
    'PyTorch fp32 + TF32, eager',
    tps(torch.fp32_tf32_eager?.tokens_per_s),
    `${torch.fp32_tf32_eager?.iters ?? 0}`,
    `val ${torch.fp32_tf32_eager?.val_loss ?? '—'}`,
  ],
  [
    'PyTorch bf16 + compile',
    tps(torch.bf16_compile?.tokens_per_s),
    `${torch.bf16_compile?.iters ?? 0}`,
    `val ${torch.bf16_compile?.val_loss ?? '—'}`,
  ],
];
console.log(
  `\n| ${preset}, batch ${baby.train.batchSize} × ${babyModel.blockSize} | tokens/s | steps | loss |`,
);
console.log('| --- | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const ratio = (a: unknown, b: unknown) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null;
summary.ratios = {
  webgpu_over_cpu: ratio(gpu?.tokens_per_s, cpu?.tokens_per_s),
  webgpu_over_torch_fp32: ratio(gpu?.tokens_per_s, torch.fp32_tf32_eager?.tokens_per_s),
  webgpu_over_torch_bf16_compile: ratio(gpu?.tokens_per_s, torch.bf16_compile?.tokens_per_s),
  dawn_over_cpu: ratio(dawn?.tokens_per_s, cpu?.tokens_per_s),
  dawn_over_torch_fp32: ratio(dawn?.tokens_per_s, torch.fp32_tf32_eager?.tokens_per_s),
  dawn_over_torch_bf16_compile: ratio(dawn?.tokens_per_s, torch.bf16_compile?.tokens_per_s),
};
console.log(`\nratios: ${JSON.stringify(summary.ratios)}`);
summary.preset = preset;
summary.failures = failures;
summary.skipped = skipped;
summary.seconds = Math.round(elapsed());
if (values.out) writeFileSync(join(values.out, 'device-check.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary));
process.exit(failures === 0 ? 0 : 1);
