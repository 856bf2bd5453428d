/**
 * npm run bench:train [-- --iters 2000 --preset cpu-tiny --threads 2 --device cpu --data DIR
 *                        --precision f32|f16 --set model.dropout=0.1 --set train.batchSize=32 …]
 *
 * Trains a preset on tiny-shakespeare (char level, prepared on first use like nanoGPT's prepare.py)
 * with the preset's schedule, evaluation and checkpoints, and prints as its last line one JSON object:
 * tokens_per_s and ms_per_iter (median over the steps after a warm-up of 10), iters, train_loss and
 * val_loss (the final evaluation), params, peak_rss_mb, threads, device; and where ONNX Runtime put the
 * training graph's nodes (its own placement report): cpu_nodes (nodes on the CPU provider while an
 * accelerator trains), copy_nodes (host↔device copies), gpu_state (parameters and AdamW moments stay on
 * the device between steps) and adapter (what the GPU is, as far as the machine tells), and precision
 * (f16: matrix products on the GPU's matrix units, `--device dawn`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  configFromPreset,
  countParams,
  presetIdSchema,
  tokensPerStep,
} from '../../src/shared/engine/config.ts';
import {
  applyConfigSettings,
  parseConfigSetting,
  type ConfigSettings,
} from '../../src/shared/engine/configSettings.ts';
import { kernelsFor, webgpuStateOnDevice, type DeviceRequest } from '../../src/main/engine/device.ts';
import { deviceRequestSchema, precisionSchema } from '../../src/shared/engine/devices.ts';
import { buildTrainGraph } from '../../src/main/engine/graphs.ts';
import { gptParamLayout } from '../../src/main/engine/gpt.ts';
import { measurePlacement } from '../../src/main/engine/placement.ts';
import { describeAdapter } from '../../src/main/engine/adapter.ts';
import { dawnDevice } from '../../src/main/engine/dawn/device.ts';
import { shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';
import { Trainer } from '../../src/main/engine/trainer.ts';

const { values } = parseArgs({
  options: {
    iters: { type: 'string', default: '2000' },
    preset: { type: 'string', default: 'cpu-tiny' },
    threads: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    precision: { type: 'string', default: 'f32' },
    data: { type: 'string' },
    'eval-iters': { type: 'string' },
    seed: { type: 'string' },
    'eval-interval': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const settings = values.set.reduce<ConfigSettings>((acc, v) => parseConfigSetting(v, acc), {});
const overrides = { model: {} as Record<string, unknown>, train: {} as Record<string, unknown> };
applyConfigSettings(settings, overrides);

const preset = presetIdSchema.parse(values.preset);
const iters = Number(values.iters);
const device = values.device as DeviceRequest;
if (!deviceRequestSchema.options.includes(device))
  throw new Error(`--device must be one of ${deviceRequestSchema.options.join(', ')}`);
const precision = precisionSchema.parse(values.precision);
const config = configFromPreset(preset, {
  model: overrides.model,
  train: {
    ...overrides.train,
    maxIters: iters,
    lrDecayIters: iters,
    logInterval: 1,
    ...(values['eval-iters'] ? { evalIters: Number(values['eval-iters']) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    ...(values['eval-interval'] ? { evalInterval: Number(values['eval-interval']) } : {}),
  },
});
const data = values.data ?? shakespeareCharDataset();
const runDir = mkdtempSync(join(tmpdir(), 'xai-bench-'));
const times: number[] = [];
let last = { train: NaN, val: NaN };
const started = performance.now();
const trainer = await Trainer.create({
  config,
  data: { path: data },
  runDir,
  device,
  precision,
  threads: values.threads ? Number(values.threads) : undefined,
  onEvent: (e) => {
    if (e.type === 'metric') {
      times.push(e.metric.msPerStep);
      if (!values.quiet && (e.metric.step % 100 === 0 || e.metric.step === 1)) {
        console.log(
          `step ${e.metric.step}: loss ${e.metric.loss.toFixed(4)}, ${e.metric.msPerStep.toFixed(1)} ms, ${Math.round(e.metric.tokensPerSec)} tok/s`,
        );
      }
    } else if (e.type === 'eval') {
      last = { train: e.metric.trainLoss, val: e.metric.valLoss };
      if (!values.quiet)
        console.log(
          `step ${e.metric.step}: train loss ${e.metric.trainLoss.toFixed(4)}, val loss ${e.metric.valLoss.toFixed(4)} (${e.metric.ms.toFixed(0)} ms)`,
        );
    } else if (e.type === 'log' && !values.quiet) console.log(e.message);
  },
});
await trainer.run();
await trainer.close();
rmSync(runDir, { recursive: true, force: true });

const warm = times.slice(Math.min(10, Math.max(0, times.length - 1)));
const sorted = [...warm].sort((a, b) => a - b);
const median =
  sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
const model = trainer.model;
// the placement of the graph this run trained with, on the device it trained on
// (the engine's own kernels run every node or the session is not made: nothing lands on the CPU)
const placement =
  trainer.device === 'dawn'
    ? { cpuNodes: 0, copyNodes: 0 }
    : await measurePlacement(
        buildTrainGraph({
          model,
          train: config.train,
          layout: gptParamLayout(model),
          kind: 'step',
          dropoutSeed: 1,
          kernels: kernelsFor(trainer.device),
        }).encode(),
        trainer.device,
      ).catch((e: unknown) => ({ cpuNodes: null, copyNodes: null, error: String(e) }));
console.log(
  JSON.stringify({
    bench: 'train',
    preset,
    device: trainer.device,
    precision,
    threads: trainer.threads,
    iters,
    tokens_per_iter: tokensPerStep(config),
    ms_per_iter: Number(median.toFixed(3)),
    tokens_per_s: Math.round((tokensPerStep(config) * 1000) / median),
    train_loss: Number(last.train.toFixed(4)),
    val_loss: Number(last.val.toFixed(4)),
    params: countParams(model),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    wall_s: Number(((performance.now() - started) / 1000).toFixed(1)),
    cpu_nodes: placement.cpuNodes,
    copy_nodes: placement.copyNodes,
    gpu_state: (trainer.device === 'webgpu' || trainer.device === 'dawn') && webgpuStateOnDevice(),
    adapter:
      trainer.device === 'cpu'
        ? null
        : trainer.device === 'dawn'
          ? (await dawnDevice()).adapter
          : await describeAdapter(),
    node: process.version,
  }),
);
