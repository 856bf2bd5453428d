/**
 * Device check of the training engine (run by scripts/device-check.sh on a GPU machine).
 *
 * For every execution provider (cpu, webgpu, cuda): can it run the training graph, does one training
 * step give the CPU's numbers, does a short run keep its state on the device and learn, and how many
 * tokens/s does it reach. Prints `PASS <check>` / `FAIL <check>: why` / `SKIP <check>: why` lines, a
 * `tokens/s` line per provider and preset, and a final JSON summary line. Needs no network and no
 * dataset download: it trains on resources/tinyshakespeare.txt (or generated text).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { configFromPreset, resolveModelConfig, type PresetId } from '../../src/shared/engine/config.ts';
import { sessionOptions, type DeviceName } from '../../src/main/engine/device.ts';
import { gptParamLayout, initParams } from '../../src/main/engine/gpt.ts';
import { buildTrainGraph, TRAIN_IO } from '../../src/main/engine/graphs.ts';
import { Rng } from '../../src/main/engine/rng.ts';
import { prepareCharDataset, shakespeareCharDataset } from '../../src/main/engine/testing/charDataset.ts';
import { Trainer } from '../../src/main/engine/trainer.ts';
import { buildProbeModel } from '../../src/main/system/probeModel.ts';

const { values } = parseArgs({
  options: {
    providers: { type: 'string', default: 'cpu,webgpu,cuda' },
    /** Providers whose absence is a failure; the others are skipped when missing. */
    require: { type: 'string', default: 'cpu,webgpu' },
    'tiny-iters': { type: 'string', default: '150' },
    'baby-iters': { type: 'string', default: '40' },
    'time-limit': { type: 'string', default: '45' },
  },
});
const providers = values.providers.split(',').map((s) => s.trim()) as DeviceName[];
const required = new Set(values.require.split(',').map((s) => s.trim()));
const summary: Record<string, unknown> = {
  node: process.version,
  ort: ort.env.versions?.common ?? 'unknown',
  providers: {},
};
const results: Record<string, Record<string, unknown>> = {};
let failures = 0;
const pass = (what: string, detail = '') => console.log(`PASS ${what}${detail ? `: ${detail}` : ''}`);
const fail = (what: string, why: unknown) => {
  failures++;
  console.log(`FAIL ${what}: ${why instanceof Error ? why.message.split('\n')[0] : String(why)}`);
};
const skip = (what: string, why: string) => console.log(`SKIP ${what}: ${why}`);

// generated text: sentences from a small vocabulary, learnable at the character level
function corpus(chars: number): string {
  const words =
    'the king and queen of a far land spoke to their people with grace while rain fell on old stone walls'.split(
      ' ',
    );
  const rng = new Rng(7);
  let s = '';
  while (s.length < chars) {
    const n = 4 + rng.randint(8);
    const sentence = Array.from({ length: n }, () => words[rng.randint(words.length)]).join(' ');
    s += `${sentence[0]!.toUpperCase()}${sentence.slice(1)}.${rng.randint(4) === 0 ? '\n' : ' '}`;
  }
  return s;
}

const work = mkdtempSync(join(tmpdir(), 'xai-device-check-'));
// tiny-shakespeare (resources/) when present, else generated text
let dataDir: string;
try {
  dataDir = shakespeareCharDataset(work);
} catch {
  dataDir = prepareCharDataset(corpus(400_000), join(work, 'data'), 'generated');
}

// 1. providers: a session on the provider alone runs the probe graph
const usable: DeviceName[] = [];
for (const p of providers) {
  const started = performance.now();
  try {
    const s = await ort.InferenceSession.create(buildProbeModel(), {
      executionProviders: [p],
      logSeverityLevel: 3,
    });
    const out = await s.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    const y = (out.y!.location === 'cpu' ? out.y!.data : await out.y!.getData()) as Float32Array;
    await s.release();
    if (y[3] !== 20) throw new Error(`wrong result ${Array.from(y)}`);
    pass(`provider ${p}`, `${(performance.now() - started).toFixed(0)} ms`);
    usable.push(p);
  } catch (e) {
    if (required.has(p)) fail(`provider ${p}`, e);
    else skip(`provider ${p}`, e instanceof Error ? e.message.split('\n')[0]! : String(e));
  }
}

// 2. one training step on each provider equals the CPU's (same graph, same inputs)
{
  const cfg = configFromPreset('cpu-tiny');
  const model = resolveModelConfig(cfg, { vocabSize: 65 });
  const layout = gptParamLayout(model);
  const bytes = buildTrainGraph({ model, train: cfg.train, layout, kind: 'step', dropoutSeed: 1 }).encode();
  const P = layout.total;
  const B = cfg.train.batchSize;
  const T = model.blockSize;
  const rng = new Rng(3);
  const ids = Int32Array.from({ length: B * T }, () => rng.randint(65));
  const tgt = Int32Array.from({ length: B * T }, () => rng.randint(65));
  const feeds = () => ({
    [TRAIN_IO.params]: new ort.Tensor('float32', initParams(layout, 1), [P]),
    [TRAIN_IO.m]: new ort.Tensor('float32', new Float32Array(P), [P]),
    [TRAIN_IO.v]: new ort.Tensor('float32', new Float32Array(P), [P]),
    [TRAIN_IO.idx]: new ort.Tensor('int32', ids, [B, T]),
    [TRAIN_IO.targets]: new ort.Tensor('int32', tgt, [B, T]),
    [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([1e-3]), []),
    [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([1]), []),
  });
  const stepOn = async (device: DeviceName) => {
    const s = await ort.InferenceSession.create(bytes, sessionOptions(device, 4));
    const out = await s.run(feeds());
    const get = async (n: string) =>
      (out[n]!.location === 'cpu' ? out[n]!.data : await out[n]!.getData()) as Float32Array;
    const r = {
      loss: (await get(TRAIN_IO.loss))[0]!,
      norm: (await get(TRAIN_IO.gradNorm))[0]!,
      params: await get(TRAIN_IO.paramsOut),
    };
    await s.release();
    return r;
  };
  const ref = await stepOn('cpu');
  for (const p of usable.filter((d) => d !== 'cpu')) {
    try {
      const r = await stepOn(p);
      let maxDiff = 0;
      for (let i = 0; i < P; i++) maxDiff = Math.max(maxDiff, Math.abs(r.params[i]! - ref.params[i]!));
      const detail = `loss ${r.loss.toFixed(6)} vs cpu ${ref.loss.toFixed(6)}, grad norm ${r.norm.toFixed(5)} vs ${ref.norm.toFixed(5)}, max param diff ${maxDiff.toExponential(2)}`;
      if (
        Math.abs(r.loss - ref.loss) < 1e-3 &&
        Math.abs(r.norm - ref.norm) < 1e-2 * ref.norm &&
        maxDiff < 1e-4
      )
        pass(`${p} step matches cpu`, detail);
      else fail(`${p} step matches cpu`, detail);
    } catch (e) {
      fail(`${p} step matches cpu`, e);
    }
  }
}

// 3. short runs: the loss falls on every device; tokens/s per provider and preset
async function timedRun(device: DeviceName, preset: PresetId, iters: number): Promise<void> {
  const key = `${device} ${preset}`;
  const config = configFromPreset(preset, {
    train: {
      maxIters: iters,
      lrDecayIters: iters,
      warmupIters: 10,
      evalInterval: 100000,
      evalIters: 1,
      logInterval: 1,
      sampleTokens: 1,
      learningRate: preset === 'cpu-tiny' ? 1e-3 : 6e-4,
    },
  });
  const times: number[] = [];
  const losses: number[] = [];
  const deadline = performance.now() + Number(values['time-limit']) * 1000;
  const started = performance.now();
  let trainer: Trainer | null = null;
  try {
    trainer = await Trainer.create({
      config,
      data: { path: dataDir },
      runDir: join(work, `run-${device}-${preset}`),
      device,
      writeFiles: false,
      onEvent: (e) => {
        if (e.type === 'metric') {
          times.push(e.metric.msPerStep);
          losses.push(e.metric.loss);
          if (performance.now() > deadline) trainer?.stop();
        }
      },
    });
    const setupMs = performance.now() - started;
    await trainer.run();
    const warm = times.slice(Math.min(5, times.length - 1)).sort((a, b) => a - b);
    const med = warm[Math.floor(warm.length / 2)]!;
    const tokens = config.train.batchSize * config.model.blockSize;
    const tps = Math.round((tokens * 1000) / med);
    const first = losses.slice(0, 3).reduce((a, b) => a + b, 0) / Math.min(3, losses.length);
    const last = losses.slice(-3).reduce((a, b) => a + b, 0) / Math.min(3, losses.length);
    results[key] = {
      steps: times.length,
      ms_per_iter: Number(med.toFixed(2)),
      tokens_per_s: tps,
      first_loss: first,
      last_loss: last,
      setup_s: Number((setupMs / 1000).toFixed(1)),
      threads: trainer.threads,
      device: trainer.device,
    };
    console.log(
      `tokens/s ${key}: ${tps} (${med.toFixed(2)} ms/step median over ${warm.length} steps; loss ${first.toFixed(3)} -> ${last.toFixed(3)}; setup ${(setupMs / 1000).toFixed(1)} s)`,
    );
    if (trainer.device !== device) fail(`${key} runs on ${device}`, `ran on ${trainer.device}`);
    else if (Number.isFinite(last) && last < first - 0.05)
      pass(`${key} learns`, `loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${times.length} steps`);
    else fail(`${key} learns`, `loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${times.length} steps`);
  } catch (e) {
    fail(`${key} training`, e);
  } finally {
    await trainer?.close().catch(() => undefined);
  }
}

for (const p of usable) await timedRun(p, 'cpu-tiny', Number(values['tiny-iters']));
for (const p of usable) {
  if (p === 'cpu') skip('cpu baby', 'too slow for this check on a CPU');
  else await timedRun(p, 'baby', Number(values['baby-iters']));
}

// 4. "auto" takes the fastest device that works (timed), not the first accelerator that works
if (usable.length > 1) {
  let trainer: Trainer | null = null;
  try {
    trainer = await Trainer.create({
      config: configFromPreset('cpu-tiny', { train: { maxIters: 1 } }),
      data: { path: dataDir },
      runDir: join(work, 'run-auto'),
      device: 'auto',
      writeFiles: false,
      onEvent: () => undefined,
    });
    const speed = (d: string) => Number(results[`${d} cpu-tiny`]?.tokens_per_s ?? 0);
    const fastest = usable.reduce((a, b) => (speed(b) > speed(a) ? b : a));
    summary.auto = { device: trainer.device, message: trainer.deviceMessage };
    if (trainer.device === fastest) pass('auto picks the fastest device', trainer.deviceMessage);
    else
      fail(
        'auto picks the fastest device',
        `${trainer.device}, but ${fastest} was faster: ${trainer.deviceMessage}`,
      );
  } catch (e) {
    fail('auto picks the fastest device', e);
  } finally {
    await trainer?.close().catch(() => undefined);
  }
}

rmSync(work, { recursive: true, force: true });
summary.providers = results;
summary.failures = failures;
console.log(failures === 0 ? 'PASS device check' : `FAIL device check: ${failures} failure(s)`);
console.log(JSON.stringify(summary));
process.exitCode = failures === 0 ? 0 : 1;
