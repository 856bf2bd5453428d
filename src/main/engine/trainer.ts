import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import type { CheckpointInfo, EvalMetric, MetricRecord, Sample, TrainMetric } from '../../shared/api/runs.ts';
import type { TokenDtype } from '../../shared/datasets/manifest.ts';
import {
  activationBytes,
  trainingFlopsPerToken,
  usesActivationCheckpointing,
  checkConfigAgainstData,
  countParams,
  resolveModelConfig,
  tokensPerStep,
  type ResolvedModelConfig,
  type RunConfig,
} from '../../shared/engine/config.ts';
import { learningRateAt } from '../../shared/engine/schedule.ts';
import { loadTokenizer, type Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { LegacyBatchStream, TorchBatchStream, type BatchStream } from './batches.ts';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { maxTokenId, openDataset, type DatasetRef, type OpenedDataset } from './data.ts';
import {
  kernelsFor,
  selectDevice,
  webgpuStateOnDevice,
  type DeviceName,
  type DeviceRequest,
  type EngineSession,
  type SessionFactory,
} from './device.ts';
import type { Precision } from '../../shared/engine/devices.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { collectGarbage } from './gc.ts';
import { nvidiaFreeMemoryBytes } from '../system/systemStats.ts';
import { generate } from './generate.ts';
import { gptParamLayout, initParams, type ParamLayout } from './gpt.ts';
import {
  buildEvalGraph,
  buildInferenceGraph,
  buildStateCopyGraph,
  buildTrainGraph,
  INFERENCE_IO,
  TRAIN_IO,
} from './graphs.ts';
import type { KernelSet } from './graph/graph.ts';
import { GPU_STATE_OUTPUTS, StepRunner } from './runner.ts';
import { deriveSeed, Rng } from './rng.ts';
import { TorchGenerator } from './torchRng.ts';

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(1);

/**
 * The training loop (nanoGPT's train.py), usable in any thread: the worker (worker.ts) runs it off the
 * main thread; the CLI, the benchmark and the tests may run it directly.
 *
 * Per step: take the batch drawn for it, run the one-graph training step (forward, loss, backward,
 * clipping, AdamW), draw the next batch, log. Every evalInterval steps, before the step: estimate train
 * and val loss, write the latest checkpoint and, if val improved, the best one. Between steps it honours
 * pause, stop and sample requests.
 *
 * Random draws are nanoGPT's: PyTorch's generator seeded with train.seed makes the initial weights,
 * then every training and evaluation batch in train.py's order (batches.ts), so a seed gives the run
 * nanoGPT gives with that seed. Dropout masks (p > 0) come from their own streams.
 *
 * Files in the run directory: metrics.jsonl (one MetricRecord per line), samples.jsonl,
 * checkpoints/latest.safetensors and checkpoints/best.safetensors.
 */

export type TrainerEvent =
  | {
      type: 'started';
      device: DeviceName;
      /** ONNX Runtime's CPU threads; null on a GPU, whose step does not run on them. */
      threads: number | null;
      message: string;
      params: number;
      step: number;
      resumed: boolean;
      data: DatasetRef;
      model: ResolvedModelConfig;
    }
  | { type: 'status'; status: 'running' | 'paused' | 'stopping' }
  | { type: 'metric'; metric: TrainMetric }
  | { type: 'eval'; metric: EvalMetric }
  | { type: 'checkpoint'; checkpoint: CheckpointInfo }
  | { type: 'sample'; sample: Sample }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | {
      type: 'done';
      status: 'completed' | 'stopped';
      step: number;
      bestValLoss: number | null;
      trainLoss: number | null;
      valLoss: number | null;
    };

export interface TrainerOptions {
  config: RunConfig;
  data: { path: string; vocabSize?: number; dtype?: TokenDtype };
  runDir: string;
  device?: DeviceRequest;
  /**
   * With "auto": the device to take without timing the others, if it still trains here. A resumed run passes the
   * one it trained on, so that it goes on with the same kernels (and dropout masks) rather than whichever device
   * wins a new timing.
   */
  preferDevice?: DeviceName;
  /** The matrix products' arithmetic (f16: the GPU's matrix units, device dawn only); f32 by default. */
  precision?: Precision;
  threads?: number;
  /** Continue from the run directory's latest checkpoint. */
  resume?: boolean;
  /** Override maxIters on resume (train further). */
  maxIters?: number;
  onEvent?: (e: TrainerEvent) => void;
  /** Write files (metrics, samples, checkpoints). Off for benchmarks that only time steps. */
  writeFiles?: boolean;
}

export class ConfigError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Above this much activation memory per step, sessions run without the CPU arena (see SessionTuning). */
const LEAN_THRESHOLD_BYTES = 256 << 20;

export const RUN_FILES = {
  metrics: 'metrics.jsonl',
  samples: 'samples.jsonl',
  checkpoints: 'checkpoints',
  latest: 'checkpoints/latest.safetensors',
  best: 'checkpoints/best.safetensors',
  /** The local path of the run's data (kept in the run directory, never published). */
  dataLocation: 'data-location.json',
} as const;

/** Opens the data and checks the config against it: everything that can be wrong fails here, before any graph is built. */
export function prepareData(
  config: RunConfig,
  data: TrainerOptions['data'],
): { ds: OpenedDataset; model: ResolvedModelConfig } {
  const ds = openDataset(data.path, { vocabSize: data.vocabSize, dtype: data.dtype });
  try {
    const issues = checkConfigAgainstData(config, {
      vocabSize: ds.ref.vocabSize,
      trainTokens: ds.ref.trainTokens,
      valTokens: ds.ref.valTokens,
    });
    const model = resolveModelConfig(config, ds.ref);
    if (issues.length === 0 && ds.ref.kind === 'tokens') {
      const max = Math.max(maxTokenId(ds.train), maxTokenId(ds.val));
      if (max >= model.vocabSize) {
        issues.push({
          path: 'data.vocabSize',
          message: `the token file holds id ${max}, beyond vocabSize ${model.vocabSize}: use vocabSize ${max + 1} or more`,
        });
      }
    }
    if (issues.length > 0) throw new ConfigError(issues);
    return { ds, model };
  } catch (e) {
    ds.close();
    throw e;
  }
}

export class Trainer {
  readonly config: RunConfig;
  readonly model: ResolvedModelConfig;
  readonly layout: ParamLayout;
  readonly runDir: string;
  readonly device: DeviceName;
  readonly threads: number;
  readonly deviceMessage: string;
  readonly #o: TrainerOptions;
  readonly #ds: OpenedDataset;
  readonly #runner: StepRunner;
  readonly #factory: SessionFactory;
  readonly #batches: BatchStream;
  readonly #maxIters: number;
  readonly #tokenizer: Tokenizer | null;
  #evalSession: EngineSession | null = null;
  #sampleSession: EngineSession | null = null;
  #step: number;
  #startStep: number;
  #resumed: boolean;
  /**
   * The evaluation the resumed checkpoint was written after (its step's), so the loop does not repeat it
   * (that would draw its batches twice) and a checkpoint at the same step keeps it.
   */
  #resumedEval: { step: number; trainLoss: number | null; valLoss: number } | null;
  #bestVal: number | null;
  #lastTrainLoss: number | null = null;
  #lastEval: EvalMetric | null = null;
  #tokensSeen: number;
  #elapsedMs: number;
  #paused = false;
  #resumeWaiters: (() => void)[] = [];
  #stopRequested = false;
  #sampleRequests: {
    prompt: string;
    maxNewTokens: number;
    temperature: number;
    topK: number;
    seed?: number;
    resolve: (s: Sample) => void;
    reject: (e: unknown) => void;
  }[] = [];
  /** Large activations: memory before speed (see SessionTuning.lean). */
  readonly #lean: boolean;

  private constructor(
    o: TrainerOptions,
    init: {
      ds: OpenedDataset;
      model: ResolvedModelConfig;
      layout: ParamLayout;
      runner: StepRunner;
      factory: SessionFactory;
      message: string;
      state: {
        step: number;
        batches: BatchStream;
        resumedEval: { step: number; trainLoss: number | null; valLoss: number } | null;
        bestVal: number | null;
        tokensSeen: number;
        elapsedMs: number;
        resumed: boolean;
      };
      maxIters: number;
      tokenizer: Tokenizer | null;
      lean: boolean;
    },
  ) {
    this.#o = o;
    this.config = o.config;
    this.model = init.model;
    this.layout = init.layout;
    this.runDir = o.runDir;
    this.#ds = init.ds;
    this.#runner = init.runner;
    this.#factory = init.factory;
    this.device = init.factory.device;
    this.threads = init.factory.threads;
    this.deviceMessage = init.message;
    this.#batches = init.state.batches;
    this.#resumedEval = init.state.resumedEval;
    this.#step = init.state.step;
    this.#startStep = init.state.step;
    this.#resumed = init.state.resumed;
    this.#bestVal = init.state.bestVal;
    this.#tokensSeen = init.state.tokensSeen;
    this.#elapsedMs = init.state.elapsedMs;
    this.#maxIters = init.maxIters;
    this.#tokenizer = init.tokenizer;
    this.#lean = init.lean;
  }

  /** Validates, opens the data, builds the graphs, picks the device and loads or initialises the state. */
  static async create(o: TrainerOptions): Promise<Trainer> {
    let config = o.config;
    let resumeFrom: ReturnType<typeof loadCheckpoint> | null = null;
    const latest = join(o.runDir, RUN_FILES.latest);
    if (o.resume) {
      resumeFrom = loadCheckpoint(latest);
      config = resumeFrom.config;
    }
    const { ds, model } = prepareData(config, o.data);
    try {
      if (resumeFrom && JSON.stringify(resumeFrom.model) !== JSON.stringify(model)) {
        throw new ConfigError([
          {
            path: 'model',
            message: 'the checkpoint was trained with a different model or vocabulary than this data gives',
          },
        ]);
      }
      const maxIters = o.maxIters ?? config.train.maxIters;
      const layout = gptParamLayout(model);
      const startStep = resumeFrom?.state.step ?? 0;
      // one PyTorch generator: the initialisation, then the batches (nanoGPT's order)
      const gen = resumeFrom ? null : new TorchGenerator(config.train.seed);
      const initial = resumeFrom
        ? { params: resumeFrom.state.params, m: resumeFrom.state.m, v: resumeFrom.state.v }
        : {
            params: initParams(layout, gen!),
            m: new Float32Array(layout.total),
            v: new Float32Array(layout.total),
          };
      const splits = { train: ds.train, val: ds.val, batch: config.train.batchSize, block: model.blockSize };
      let batches: BatchStream;
      if (!resumeFrom) batches = new TorchBatchStream(gen!, splits);
      else {
        const st = resumeFrom.state;
        if (TorchGenerator.isState(st.rngState)) {
          // no prefetched batch (an imported checkpoint): the first one is drawn now, as train.py does
          batches = new TorchBatchStream(new TorchGenerator(st.rngState), splits, st.pendingBatch ?? null);
        } else if (/^[0-9a-f]{32}$/.test(st.rngState)) {
          batches = new LegacyBatchStream(new Rng(st.rngState), config.train.seed, splits);
        } else {
          throw new CheckpointError(
            `${latest} holds no batch generator state ("${st.rngState.slice(0, 20)}"): it cannot resume; start a new run from its weights instead`,
          );
        }
      }
      // ONNX Runtime's Dropout (CPU graphs) restarts its generator with each session, so a resumed run
      // takes a new seed; portable graphs compute their masks from the step (runner.ts), so one seed
      // serves the whole run and a resumed run sees the masks an uninterrupted one would.
      const dropoutSeedFor = (kernels: KernelSet) =>
        kernels === 'portable'
          ? deriveSeed(config.train.seed, 'dropout')
          : deriveSeed(config.train.seed, 'dropout', startStep);
      const train = { ...config.train, maxIters };
      // "auto" checkpointing on a GPU whose free memory nvidia-smi reports: only what does not fit (config.ts);
      // nvidia-smi is asked only when a GPU's memory could change the answer
      const activations = activationBytes(model, config.train.batchSize);
      const gpuFree =
        o.device !== 'cpu' &&
        usesActivationCheckpointing(config, model) !== usesActivationCheckpointing(config, model, Infinity)
          ? await nvidiaFreeMemoryBytes()
          : null;
      const checkpointBlocksOn = (device: DeviceName) =>
        usesActivationCheckpointing(config, model, device === 'cpu' ? null : gpuFree);
      const lean = activations > LEAN_THRESHOLD_BYTES;
      const stepGraph = (device: DeviceName) =>
        buildTrainGraph({
          model,
          train,
          layout,
          kind: 'step',
          dropoutSeed: dropoutSeedFor(kernelsFor(device)),
          checkpointBlocks: checkpointBlocksOn(device),
          kernels: kernelsFor(device),
        });
      const accum = config.train.gradAccumSteps;
      const probeRun = async (s: EngineSession) => {
        const zeros = new Float32Array(layout.total);
        const B = config.train.batchSize;
        const T = model.blockSize;
        const ids = new ort.Tensor('int32', new Int32Array(B * T), [B, T]);
        const z = new ort.Tensor('float32', zeros, [layout.total]);
        const feeds: Record<string, ort.Tensor> = {
          [TRAIN_IO.params]: z,
          [TRAIN_IO.m]: z,
          [TRAIN_IO.v]: z,
          [TRAIN_IO.idx]: ids,
          [TRAIN_IO.targets]: ids,
          [TRAIN_IO.lr]: new ort.Tensor('float32', new Float32Array([0]), []),
          [TRAIN_IO.step]: new ort.Tensor('float32', new Float32Array([1]), []),
        };
        if (accum > 1) feeds[TRAIN_IO.gradAcc] = z;
        if (s.inputNames.includes(TRAIN_IO.dropoutKey))
          feeds[TRAIN_IO.dropoutKey] = new ort.Tensor('uint32', new Uint32Array(1), []);
        const out = await s.run(feeds);
        for (const t of Object.values(out)) t.dispose();
      };
      const chosen = await selectDevice(o.device ?? 'auto', {
        threads: o.threads,
        prefer: o.preferDevice,
        probeModel: stepGraph,
        probeRun,
        gpuOutputs: webgpuStateOnDevice() ? GPU_STATE_OUTPUTS : [],
        tuning: { lean, precision: o.precision },
        stepFlops: trainingFlopsPerToken(model) * config.train.batchSize * model.blockSize,
      });
      const device = chosen.factory.device;
      const kernels = kernelsFor(device);
      const gpuState = (device === 'webgpu' || device === 'dawn') && webgpuStateOnDevice();
      let micro: EngineSession | null = null;
      if (accum > 1) {
        micro = await chosen.factory.create(
          buildTrainGraph({
            model,
            train,
            layout,
            kind: 'micro',
            // portable masks differ per micro-batch through the dropout key, not the seed
            dropoutSeed:
              kernels === 'portable' ? dropoutSeedFor(kernels) : deriveSeed(dropoutSeedFor(kernels), 'micro'),
            checkpointBlocks: checkpointBlocksOn(device),
            kernels,
          }),
          { gpuOutputs: gpuState ? [TRAIN_IO.gradAccOut] : [] },
        );
      }
      const download = gpuState ? await chosen.factory.create(buildStateCopyGraph(layout.total)) : undefined;
      const runner = new StepRunner({
        device: chosen.factory.device,
        step: chosen.session,
        micro,
        size: layout.total,
        batch: config.train.batchSize,
        block: model.blockSize,
        accum,
        gpuState,
        download,
        // adopted, not copied: no second copy of the state lingers until a garbage collection
        initial,
      });
      // the state now belongs to the runner
      if (resumeFrom) resumeFrom.state.params = resumeFrom.state.m = resumeFrom.state.v = new Float32Array(0);
      let tokenizer: Tokenizer | null = null;
      const tokJson = ds.tokenizerJson ?? resumeFrom?.tokenizer ?? null;
      if (tokJson) tokenizer = await loadTokenizer(tokJson).catch(() => null);
      if (o.writeFiles ?? true) {
        mkdirSync(join(o.runDir, RUN_FILES.checkpoints), { recursive: true });
        // A fresh start in a run directory (its first attempt killed before a checkpoint) logs from step 0 again.
        truncateMetrics(join(o.runDir, RUN_FILES.metrics), resumeFrom ? startStep : -1);
        // where the data is on this machine: checkpoints (which are published) record it by name only
        await writeJsonAtomic(join(o.runDir, RUN_FILES.dataLocation), {
          kind: ds.ref.kind,
          path: ds.ref.path,
        });
      }
      return new Trainer(o, {
        ds,
        model,
        layout,
        runner,
        factory: chosen.factory,
        message:
          device !== 'cpu' && gpuFree !== null
            ? `${chosen.message} Activation checkpointing ${checkpointBlocksOn(device) ? 'on' : 'off'}: a step's ` +
              `activations take ${gib(activations)} GiB of the GPU's ${gib(gpuFree)} GiB free.`
            : chosen.message,
        state: {
          step: startStep,
          batches,
          resumedEval:
            resumeFrom?.state.valLoss != null
              ? {
                  step: startStep,
                  trainLoss: resumeFrom.state.trainLoss,
                  valLoss: resumeFrom.state.valLoss,
                }
              : null,
          bestVal: resumeFrom?.state.bestValLoss ?? null,
          tokensSeen: resumeFrom?.state.tokensSeen ?? 0,
          elapsedMs: resumeFrom?.state.elapsedMs ?? 0,
          resumed: resumeFrom !== null,
        },
        maxIters,
        tokenizer,
        lean,
      });
    } catch (e) {
      ds.close();
      throw e;
    }
  }

  get step(): number {
    return this.#step;
  }

  get maxIters(): number {
    return this.#maxIters;
  }

  get dataRef(): DatasetRef {
    return this.#ds.ref;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Whether stop() was called: the run ends at its next step boundary. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#emit({ type: 'status', status: 'paused' });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const w of this.#resumeWaiters.splice(0)) w();
    this.#emit({ type: 'status', status: 'running' });
  }

  /** Stops after the current step; the loop writes the latest checkpoint and returns. */
  stop(): void {
    this.#stopRequested = true;
    this.resume();
  }

  /** Generates text from the live weights between two steps (or now, when paused or not running). */
  requestSample(o: {
    prompt: string;
    maxNewTokens: number;
    temperature: number;
    topK: number;
    seed?: number;
  }): Promise<Sample> {
    return new Promise((resolve, reject) => {
      this.#sampleRequests.push({ ...o, resolve, reject });
      if (this.#paused) void this.#serveSampleRequests();
    });
  }

  #emit(e: TrainerEvent): void {
    this.#o.onEvent?.(e);
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#emit({ type: 'log', level, message });
  }

  #append(file: string, record: unknown): void {
    if (this.#o.writeFiles ?? true) appendFileSync(join(this.runDir, file), `${JSON.stringify(record)}\n`);
  }

  /** Runs until maxIters or a stop; returns how it ended. */
  async run(): Promise<Extract<TrainerEvent, { type: 'done' }>> {
    const t = this.config.train;
    const perStep = tokensPerStep(this.config);
    const ckptEvery = t.checkpointInterval ?? t.evalInterval;
    this.#emit({
      type: 'started',
      device: this.device,
      threads: this.device === 'cpu' ? this.threads : null,
      message: this.deviceMessage,
      params: countParams(this.model),
      step: this.#step,
      resumed: this.#resumed,
      data: this.#ds.ref,
      model: this.model,
    });
    this.#log(
      'info',
      `${this.deviceMessage} ${countParams(this.model).toLocaleString('en-US')} parameters, ${perStep} tokens per step.`,
    );
    this.#emit({ type: 'status', status: 'running' });
    let ema: number | null = null;
    let lastEvalMs = 0;
    let stopped = false;
    for (;;) {
      if (this.#paused) await new Promise<void>((r) => this.#resumeWaiters.push(r));
      if (this.#stopRequested) {
        stopped = true;
        break;
      }
      const step = this.#step;
      if (this.#resumedEval?.step !== step) {
        if (step % t.evalInterval === 0 || step === this.#maxIters) {
          const started = performance.now();
          await this.#evaluateAndCheckpoint();
          lastEvalMs = performance.now() - started;
        } else if (step % ckptEvery === 0) {
          await this.#checkpoint(false);
        }
      }
      if (step >= this.#maxIters) break;
      await this.#serveSampleRequests();

      const started = performance.now();
      const lr = learningRateAt({ ...t, maxIters: this.#maxIters }, step);
      const { loss, gradNorm } = await this.#runner.step(lr, step + 1, (x, y) =>
        this.#batches.nextTrain(x, y),
      );
      if (this.#lean) collectGarbage();
      const ms = performance.now() - started;
      if (!Number.isFinite(loss))
        throw new Error(
          `the loss became ${loss} at step ${step + 1}: lower the learning rate or check the data`,
        );
      this.#step = step + 1;
      this.#elapsedMs += ms;
      this.#tokensSeen += perStep;
      this.#lastTrainLoss = loss;
      ema = ema === null ? ms : 0.9 * ema + 0.1 * ms;
      if (this.#step % t.logInterval === 0 || this.#step === this.#maxIters) {
        const remaining = this.#maxIters - this.#step;
        const evalsLeft =
          Math.floor(this.#maxIters / t.evalInterval) - Math.floor(this.#step / t.evalInterval);
        const metric: TrainMetric = {
          kind: 'train',
          step: this.#step,
          loss,
          lr,
          gradNorm,
          msPerStep: ms,
          tokensPerSec: (perStep * 1000) / ms,
          tokensSeen: this.#tokensSeen,
          elapsedMs: this.#elapsedMs,
          etaMs: this.#step - this.#startStep >= 3 ? remaining * ema + evalsLeft * lastEvalMs : null,
          rssBytes: process.memoryUsage.rss(),
          time: Date.now(),
          device: this.device,
        };
        this.#append(RUN_FILES.metrics, metric);
        this.#emit({ type: 'metric', metric });
      }
      if (t.sampleInterval > 0 && this.#step % t.sampleInterval === 0 && this.#step < this.#maxIters) {
        await this.#sampleAndRecord({
          prompt: '',
          maxNewTokens: t.sampleTokens,
          temperature: t.temperature,
          topK: t.topK,
        });
      }
    }
    if (stopped) {
      this.#emit({ type: 'status', status: 'stopping' });
      await this.#checkpoint(false);
    } else {
      await this.#sampleAndRecord({
        prompt: '',
        maxNewTokens: t.sampleTokens,
        temperature: t.temperature,
        topK: t.topK,
      }).catch((e: unknown) => this.#log('warn', `final sample failed: ${String(e)}`));
    }
    await this.#serveSampleRequests();
    const done = {
      type: 'done' as const,
      status: stopped ? ('stopped' as const) : ('completed' as const),
      step: this.#step,
      bestValLoss: this.#bestVal,
      trainLoss: this.#lastEval?.trainLoss ?? this.#lastTrainLoss,
      valLoss: this.#lastEval?.valLoss ?? null,
    };
    this.#emit(done);
    return done;
  }

  /**
   * nanoGPT's estimate_loss: mean loss over evalIters batches of train, then of val (no dropout). The
   * batches come from the run's batch stream (for a nanoGPT-order run this advances its generator).
   */
  async estimateLoss(iters = this.config.train.evalIters): Promise<{ train: number; val: number }> {
    const B = this.config.train.batchSize;
    const T = this.model.blockSize;
    // Each batch runs in equal chunks of at most EVAL_CHUNK_TOKENS tokens (the mean of the chunk means
    // is the batch mean), which bounds the evaluation session's memory for large batches.
    const chunk = evalChunk(B, T);
    if (!this.#evalSession) {
      this.#evalSession = await this.#factory.create(
        buildEvalGraph({
          model: this.model,
          layout: this.layout,
          batch: chunk,
          kernels: kernelsFor(this.device),
        }),
      );
    }
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    const tensors = Array.from({ length: B / chunk }, (_, c) => ({
      x: new ort.Tensor('int32', x.subarray(c * chunk * T, (c + 1) * chunk * T), [chunk, T]),
      y: new ort.Tensor('int32', y.subarray(c * chunk * T, (c + 1) * chunk * T), [chunk, T]),
    }));
    const lossBuf = new Float32Array(1);
    const tl = new ort.Tensor('float32', lossBuf, []);
    const params = await this.#runner.paramsTensor();
    const gpu = this.device !== 'cpu';
    const out: Record<string, number> = {};
    for (const name of ['train', 'val'] as const) {
      const next = this.#batches.evalBatches(this.#step, name);
      let sum = 0;
      for (let i = 0; i < iters; i++) {
        next(x, y);
        for (const t of tensors) {
          const feeds = { [TRAIN_IO.params]: params, [TRAIN_IO.idx]: t.x, [TRAIN_IO.targets]: t.y };
          if (gpu) {
            const r = await this.#evalSession.run(feeds, [TRAIN_IO.loss]);
            sum += Number((await r[TRAIN_IO.loss]!.getData())[0]);
          } else {
            await this.#evalSession.run(feeds, { [TRAIN_IO.loss]: tl });
            sum += lossBuf[0]!;
          }
        }
      }
      out[name] = sum / (iters * tensors.length);
    }
    return { train: out.train!, val: out.val! };
  }

  async #evaluateAndCheckpoint(): Promise<void> {
    const started = performance.now();
    const { train, val } = await this.estimateLoss();
    const isBest = this.#bestVal === null || val < this.#bestVal;
    if (isBest) this.#bestVal = val;
    const metric: EvalMetric = {
      kind: 'eval',
      step: this.#step,
      trainLoss: train,
      valLoss: val,
      bestValLoss: this.#bestVal!,
      isBest,
      ms: performance.now() - started,
      time: Date.now(),
    };
    this.#lastEval = metric;
    this.#append(RUN_FILES.metrics, metric);
    this.#emit({ type: 'eval', metric });
    await this.#checkpoint(isBest);
  }

  #meta(): CheckpointMeta {
    return {
      config: this.config,
      model: this.model,
      dataset: this.#ds.ref,
      tokenizer: this.#ds.tokenizerJson ?? this.#tokenizer?.toFile() ?? null,
    };
  }

  /** Writes checkpoints/latest (and best when `best`), atomically. */
  async #checkpoint(best: boolean): Promise<void> {
    if (!(this.#o.writeFiles ?? true)) return;
    const s = await this.#runner.state();
    const ev =
      this.#lastEval?.step === this.#step
        ? this.#lastEval
        : this.#resumedEval?.step === this.#step
          ? this.#resumedEval
          : null;
    const state = {
      step: this.#step,
      params: s.params,
      m: s.m,
      v: s.v,
      ...this.#batches.state(),
      bestValLoss: this.#bestVal,
      trainLoss: ev ? ev.trainLoss : this.#lastTrainLoss,
      valLoss: ev ? ev.valLoss : null,
      tokensSeen: this.#tokensSeen,
      elapsedMs: this.#elapsedMs,
    };
    const kinds: ('latest' | 'best')[] = best ? ['latest', 'best'] : ['latest'];
    for (const kind of kinds) {
      const path = join(this.runDir, kind === 'latest' ? RUN_FILES.latest : RUN_FILES.best);
      saveCheckpoint(path, state, this.#meta(), { optimizer: kind === 'latest' });
      this.#emit({
        type: 'checkpoint',
        checkpoint: {
          kind,
          step: this.#step,
          path,
          bytes: statSync(path).size,
          trainLoss: state.trainLoss,
          valLoss: state.valLoss,
          isBest: best,
          createdAt: new Date().toISOString(),
        },
      });
    }
  }

  async #serveSampleRequests(): Promise<void> {
    for (const req of this.#sampleRequests.splice(0)) {
      try {
        req.resolve(await this.#sampleAndRecord(req));
      } catch (e) {
        req.reject(e);
      }
    }
  }

  /** Generates from the live weights and records the sample. */
  async #sampleAndRecord(o: {
    prompt: string;
    maxNewTokens: number;
    temperature: number;
    topK: number;
    seed?: number;
  }): Promise<Sample> {
    if (!this.#sampleSession) {
      this.#sampleSession = await this.#factory.create(
        buildInferenceGraph({
          model: this.model,
          layout: this.layout,
          weights: 'input',
          kernels: kernelsFor(this.device),
          position: true,
          ...(this.device === 'cpu' ? {} : { fixed: { batch: 1, seq: this.model.blockSize } }),
        }),
      );
    }
    const tok = this.#tokenizer;
    const prompt = tok ? tok.encode(o.prompt) : parseIdPrompt(o.prompt);
    const start = prompt.length > 0 ? prompt : tok ? safeEncode(tok, '\n') : [0];
    const params = await this.#runner.paramsTensor();
    const tokens = await generate(this.#sampleSession, {
      prompt: start,
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topK: o.topK,
      blockSize: this.model.blockSize,
      vocabSize: this.model.vocabSize,
      rng: new Rng(o.seed ?? deriveSeed(this.config.train.seed, 'sample', this.#step)),
      extraFeeds: { [INFERENCE_IO.params]: params },
      padTo: this.device === 'cpu' ? undefined : this.model.blockSize,
    });
    const sample: Sample = {
      step: this.#step,
      prompt: o.prompt,
      text: tok ? tok.decode(tokens) : tokens.join(' '),
      tokens,
      temperature: o.temperature,
      topK: o.topK,
      time: Date.now(),
    };
    this.#append(RUN_FILES.samples, sample);
    this.#emit({ type: 'sample', sample });
    return sample;
  }

  async close(): Promise<void> {
    for (const r of this.#sampleRequests.splice(0)) r.reject(new Error('the run ended'));
    await this.#runner.release();
    await this.#evalSession?.release();
    await this.#sampleSession?.release();
    this.#ds.close();
  }
}

const EVAL_CHUNK_TOKENS = 4096;

/** The largest divisor of the batch whose chunk holds at most EVAL_CHUNK_TOKENS tokens (at least 1 row). */
export function evalChunk(batch: number, block: number): number {
  for (let c = batch; c > 1; c--) if (batch % c === 0 && c * block <= EVAL_CHUNK_TOKENS) return c;
  return 1;
}

function safeEncode(tok: Tokenizer, text: string): number[] {
  try {
    return tok.encode(text);
  } catch {
    return [0];
  }
}

/** A prompt of token ids ("12 5 7") for datasets without a tokenizer. */
export function parseIdPrompt(prompt: string): number[] {
  const parts = prompt
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  const ids = parts.map(Number);
  if (ids.some((v) => !Number.isInteger(v) || v < 0))
    throw new Error('this dataset has no tokenizer: give the prompt as token ids separated by spaces');
  return ids;
}

/**
 * After a resume from a checkpoint at `step`, drops metric records the interrupted process logged past
 * it (they will be logged again, identically), so the history has no duplicates.
 */
export function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as MetricRecord;
      if (r.step <= step) kept.push(line);
    } catch {
      // a line cut short by a crash
    }
  }
  // a dot-file: a crash before the rename leaves nothing that looks like run data
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  writeFileSync(tmp, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  // rename is atomic: a crash leaves either the old or the new file
  renameSync(tmp, path);
}
