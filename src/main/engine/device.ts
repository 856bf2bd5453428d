import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { explainFailure, unavailableHere } from '../system/executionProviders.ts';
import {
  precisionProblem,
  type DeviceName,
  type DeviceRequestName,
  type Precision,
} from '../../shared/engine/devices.ts';
import type { Graph, KernelSet } from './graph/graph.ts';

/**
 * Execution devices. CPU works everywhere; WebGPU ships inside onnxruntime-node (Vulkan on Linux,
 * D3D12 on Windows, Metal on macOS); CUDA needs the provider libraries; DirectML is Windows-only.
 * "auto" tries the accelerators in order and falls back to the CPU, saying what it tried and why each
 * one was not used.
 */
export type DeviceRequest = DeviceRequestName;
export type { DeviceName };

export interface DeviceAttempt {
  device: DeviceName;
  ok: boolean;
  reason: string;
}

/**
 * What the engine needs of a session: ONNX Runtime's InferenceSession, or the engine's own WebGPU executor
 * (dawn/), which runs the same graphs. Outputs named in `gpuOutputs` at creation stay on the device
 * (location 'gpu-buffer') and are fed back as they are; the others come back on the CPU.
 */
export interface EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: ort.InferenceSession.FetchesType,
  ): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
  /** What the run's log should say about how the session was built (tiles tuned, a fallback taken); or nothing. */
  readonly note?: string | null;
  /** The GPU it runs on, where the backend knows ("NVIDIA H200"; a software adapter says so). */
  readonly adapter?: string;
}

export interface SessionFactory {
  device: DeviceName;
  threads: number;
  create(graph: Graph, opts?: { gpuOutputs?: string[] }): Promise<EngineSession>;
}

export class DeviceError extends Error {
  readonly attempts: DeviceAttempt[];
  constructor(message: string, attempts: DeviceAttempt[]) {
    super(message);
    this.name = 'DeviceError';
    this.attempts = attempts;
  }
}

/** Intra-op threads: the configured count, else one per core. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export interface SessionTuning {
  /**
   * Large activations: no CPU arena. The arena keeps the largest step's memory and grows with
   * fragmentation (baby preset: 3.8 GB after two steps, against a 2.5 GB peak with plain malloc, which
   * also gives the memory back between steps); small models run faster with it.
   */
  lean?: boolean;
  /** The matrix products' arithmetic; f16 (the GPU's matrix units) on the engine's own kernels only. */
  precision?: Precision;
}

export function sessionOptions(
  device: DeviceName,
  threads: number,
  gpuOutputs: string[] = [],
  tuning: SessionTuning = {},
): ort.InferenceSession.SessionOptions {
  const spin = process.env.XAI_LINK_ORT_SPIN;
  const opts: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableCpuMemArena: !tuning.lean,
    // A memory pattern on top of the arena holds a second copy of the peak (2.2 vs 1.4 GB for baby at
    // batch 8) for no measurable speed gain.
    enableMemPattern: false,
    logSeverityLevel: 3,
    extra: {
      session: {
        ...(spin === '0' || spin === '1' ? { intra_op: { allow_spinning: spin } } : {}),
      },
    },
  };
  if (device === 'cpu') {
    opts.executionProviders = ['cpu'];
  } else {
    // The CPU provider stays as a fallback for any node the accelerator does not implement.
    opts.executionProviders = [device, 'cpu'];
    if (gpuOutputs.length > 0 && device === 'webgpu') {
      opts.preferredOutputLocation = Object.fromEntries(gpuOutputs.map((n) => [n, 'gpu-buffer' as const]));
    }
  }
  return opts;
}

function factory(device: DeviceName, threads: number, tuning: SessionTuning): SessionFactory {
  if (device === 'dawn') {
    return {
      device,
      threads,
      // loaded on first use: Dawn is a large native module that CPU-only runs never need
      create: async (graph, o = {}) =>
        (await import('./dawn/session.ts')).DawnSession.create(graph, {
          gpuOutputs: o.gpuOutputs,
          precision: tuning.precision,
        }),
    };
  }
  return {
    device,
    threads,
    create: (graph, o = {}) =>
      ort.InferenceSession.create(graph.encode(), sessionOptions(device, threads, o.gpuOutputs, tuning)),
  };
}

/**
 * Whether WebGPU training keeps its state (parameters, AdamW moments) on the GPU between steps, feeding
 * each step's gpu-buffer outputs back as the next step's inputs: the default. The abort this once caused
 * ("terminate called after throwing an instance of 'char const*'", onnxruntime-node 1.30) came from
 * reading a gpu-buffer tensor with `Tensor.getData()`, which the Node binding cannot do; the runner
 * downloads through a session instead (runner.ts). XAI_LINK_WEBGPU_STATE=host keeps the old round trip
 * through host memory each step, for diagnosis.
 */
export function webgpuStateOnDevice(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.XAI_LINK_WEBGPU_STATE !== 'host';
}

/**
 * The kernel set of the graphs built for a device: the CPU runs ONNX Runtime's contrib kernels fastest;
 * an accelerator gets portable graphs, every node of which its provider implements (graph.ts KernelSet).
 */
export function kernelsFor(device: DeviceName): KernelSet {
  return device === 'cpu' ? 'ort' : 'portable';
}

/** Accelerators first, so the CPU's first step can be weighed against the best of them (selectDevice). */
const AUTO_ORDER: DeviceName[] = ['cuda', 'dml', 'dawn', 'webgpu', 'cpu'];
/** How much slower than the best accelerator's step a CPU's first step (with its one-off allocations) loses outright. */
const CPU_FIRST_STEP_LOSES = 3;

/**
 * Picks the device. Each candidate must create a session for `probeModel` (the real training graph, so
 * an accelerator that cannot run it is skipped) and run it via `probeRun`. With "auto", when more than
 * one device works, each runs one warm-up and one timed step and the fastest wins: a GPU is not always
 * faster (on an H100, ONNX Runtime's WebGPU provider ran cpu-tiny 5x slower than the 16-core CPU). A software
 * adapter is not a candidate for "auto" (f32): it is the CPU itself, only slower.
 */
export async function selectDevice(
  request: DeviceRequest,
  opts: {
    threads?: number;
    /** The training graph as built for a device (see kernelsFor). */
    probeModel: (device: DeviceName) => Graph;
    probeRun: (s: EngineSession, device: DeviceName) => Promise<void>;
    gpuOutputs?: string[];
    tuning?: SessionTuning;
    /** Time a software adapter with the rest under "auto" (tests of the timing on software Vulkan). */
    timeSoftwareAdapters?: boolean;
    /** Under "auto", the device to take without timing when it works (a resumed run's own); else auto as usual. */
    prefer?: DeviceName;
    /**
     * The probe step's matrix-product FLOPs, at least (trainingFlopsPerToken × tokens). Under "auto" a CPU whose
     * products alone would take CPU_FIRST_STEP_LOSES× the best accelerator's step, at the rate this CPU multiplies
     * at (cpuProductRate.ts), is left out without running a step: a gpt2-small step on a CPU takes tens of seconds
     * and, with GPT-2's vocabulary, gigabytes of host memory.
     */
    stepFlops?: number;
  },
): Promise<{
  factory: SessionFactory;
  session: EngineSession;
  attempts: DeviceAttempt[];
  message: string;
}> {
  const threads = opts.threads ?? defaultThreads();
  const precision = opts.tuning?.precision ?? 'f32';
  const problem = precisionProblem(request, precision);
  if (problem) throw new DeviceError(problem, []);
  if (request === 'auto' && opts.prefer && !precisionProblem(opts.prefer, precision)) {
    const { prefer, ...rest } = opts;
    try {
      const kept = await selectDevice(prefer, rest);
      return { ...kept, message: `Kept the device this run trained on. ${kept.message}` };
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      const chosen = await selectDevice('auto', rest);
      return {
        ...chosen,
        attempts: [...e.attempts, ...chosen.attempts],
        message: `${prefer}, which this run trained on, cannot train now (${e.attempts.at(-1)?.reason ?? e.message}). ${chosen.message}`,
      };
    }
  }
  // f16 products: only the engine's kernels have them
  const candidates = precision === 'f16' ? (['dawn'] as const) : request === 'auto' ? AUTO_ORDER : [request];
  const attempts: DeviceAttempt[] = [];
  const usable: { factory: SessionFactory; session: EngineSession; attempt: DeviceAttempt }[] = [];
  // Timing a software adapter would cost minutes of shader compiling to learn that the CPU it emulates a GPU on
  // trains faster directly; named (or for f16, which only dawn has), it is used.
  let software: Promise<string | null> | undefined;
  const skipsSoftware = request === 'auto' && precision === 'f32' && !opts.timeSoftwareAdapters;
  for (const device of candidates) {
    const missing = unavailableHere(device);
    if (missing) {
      attempts.push({ device, ok: false, reason: missing });
      continue;
    }
    if (skipsSoftware && (device === 'dawn' || device === 'webgpu')) {
      software ??= import('./dawn/device.ts').then((m) => m.softwareAdapterName());
      const adapter = await software;
      if (adapter) {
        attempts.push({ device, ok: false, reason: softwareAdapterReason(adapter, device) });
        continue;
      }
    }
    let session: EngineSession | undefined;
    try {
      const f = factory(device, threads, opts.tuning ?? {});
      session = await f.create(opts.probeModel(device), {
        gpuOutputs: device === 'webgpu' || device === 'dawn' ? opts.gpuOutputs : undefined,
      });
      // the CPU runs every graph; an accelerator proves it by running one step
      if (device !== 'cpu') await opts.probeRun(session, device);
      const attempt: DeviceAttempt = {
        device,
        ok: true,
        reason: device === 'cpu' ? `${threads} thread${threads === 1 ? '' : 's'}` : 'ran the training graph',
      };
      attempts.push(attempt);
      usable.push({ factory: f, session, attempt });
    } catch (e) {
      await session?.release().catch(() => undefined);
      attempts.push({
        device,
        ok: false,
        reason: device === 'dml' ? explainFailure('dml', e) : explainFailure(device, e),
      });
    }
  }
  if (usable.length === 0) {
    const tried = attempts.map((a) => `${a.device}: ${a.reason}`).join('; ');
    throw new DeviceError(
      request === 'auto'
        ? `no device could run the training graph (${tried})`
        : `device "${request}" cannot run the training graph: ${tried}`,
      attempts,
    );
  }
  let best = usable[0]!;
  if (usable.length > 1) {
    let bestMs = Infinity;
    for (const u of usable) {
      if (u.factory.device === 'cpu') {
        const floor =
          opts.stepFlops && bestMs < Infinity ? await cpuStepFloor(opts.stepFlops, threads) : null;
        if (floor && floor.ms > CPU_FIRST_STEP_LOSES * bestMs) {
          u.attempt.reason +=
            `, not timed: a step's ${(opts.stepFlops! / 1e9).toFixed(0)} GFLOP of matrix products alone take ` +
            `≥ ${floor.ms.toFixed(0)} ms at the ${floor.gflops.toFixed(0)} GFLOP/s it multiplies at`;
          continue;
        }
        // warm-up (the accelerators had theirs). The CPU comes last: a first step this much slower than the best
        // accelerator's cannot win, and timing a second would cost another slow step (a minute or more for
        // gpt2-small on a laptop's CPU) before the run starts.
        const w0 = performance.now();
        await opts.probeRun(u.session, 'cpu');
        const warmMs = performance.now() - w0;
        if (warmMs > CPU_FIRST_STEP_LOSES * bestMs) {
          u.attempt.reason += `, first step ${warmMs.toFixed(0)} ms`;
          continue;
        }
      }
      const t0 = performance.now();
      await opts.probeRun(u.session, u.factory.device);
      const ms = performance.now() - t0;
      u.attempt.reason += `, ${ms.toFixed(0)} ms/step`;
      if (ms < bestMs) {
        bestMs = ms;
        best = u;
      }
    }
    for (const u of usable) {
      if (u !== best) {
        u.attempt.reason += ' (slower)';
        await u.session.release().catch(() => undefined);
      }
    }
    // ONNX Runtime's Dropout (the CPU's graphs) starts its generator from the graph's seed in each session, and every
    // run advances it: the timed CPU session would draw other masks than `--device cpu` does, and the run's losses
    // would depend on which GPUs the machine has. A fresh session starts where the run must.
    if (best.factory.device === 'cpu') {
      await best.session.release();
      best = { ...best, session: await best.factory.create(opts.probeModel('cpu')) };
    }
  }
  return {
    factory: best.factory,
    session: best.session,
    attempts,
    message:
      describeChoice(best.factory.device, threads, attempts, best.session.adapter) +
      (precision === 'f16' ? ' Matrix products in f16 on the GPU’s matrix units, summed in f32.' : '') +
      (best.session.note ? ` ${best.session.note}` : ''),
  };
}

/** The least time a CPU step of `flops` can take: its products at the rate this CPU multiplies at. */
async function cpuStepFloor(flops: number, threads: number): Promise<{ ms: number; gflops: number }> {
  const { cpuProductGflops } = await import('./cpuProductRate.ts');
  const gflops = await cpuProductGflops(threads);
  return { ms: flops / (gflops * 1e6), gflops };
}

/** Why `auto` passed over a software adapter, and how to train on it all the same. */
const softwareAdapterReason = (adapter: string, device: 'dawn' | 'webgpu'): string =>
  `${adapter} is a software adapter (the CPU running WebGPU), slower than training on the CPU directly; ` +
  `--device ${device} trains on it anyway`;

function describeChoice(
  device: DeviceName,
  threads: number,
  attempts: DeviceAttempt[],
  adapter: string | undefined,
): string {
  const kind =
    device === 'cpu'
      ? `CPU (${threads} thread${threads === 1 ? '' : 's'})`
      : device === 'webgpu'
        ? 'WebGPU'
        : device === 'dawn'
          ? 'WebGPU (engine kernels)'
          : device === 'cuda'
            ? 'CUDA'
            : 'DirectML';
  const what = adapter ? `${kind} on ${adapter}` : kind;
  const chosen = attempts.find((a) => a.ok && a.device === device);
  const notUsed = attempts.filter((a) => a !== chosen);
  const timing = chosen && /ms\/step/.test(chosen.reason) ? ` (${chosen.reason.split(', ').at(-1)})` : '';
  if (notUsed.length === 0) return `Training on ${what}.`;
  return `Training on ${what}${timing}; not used: ${notUsed.map((a) => `${a.device} (${a.reason})`).join(', ')}.`;
}
