import { describeAdapter } from '../engine/adapter.ts';
import { gpuLimitSize } from '../engine/gpuErrors.ts';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import type { ExecutionProviderName, ExecutionProviderReport } from '../../shared/api/system.ts';
import { executionProviderNames, executionProviderReportSchema } from '../../shared/api/system.ts';
import { entryPath } from '../util/entryPath.ts';
import { buildProbeModel } from './probeModel.ts';

const PROBE_TIMEOUT_MS = 60_000;

/**
 * Probes in a child process (see probeProvidersChild.ts) so that a GPU driver that crashes, hangs or
 * prints to stderr cannot affect the app. Never rejects: a failed probe reports every provider as unusable.
 */
export function probeExecutionProvidersIsolated(): Promise<ExecutionProviderReport[]> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = fork(entryPath('system/probeProvidersChild'), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    const failAll = (why: string): ExecutionProviderReport[] =>
      executionProviderNames.map((name) => ({
        name,
        usable: false,
        detail: why,
        probeMs: performance.now() - started,
      }));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(failAll(`provider probe could not start: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const parsed = z
        .array(executionProviderReportSchema)
        .safeParse(safeJson(stdout.trim().split('\n').at(-1)));
      if (code === 0 && parsed.success) return resolve(parsed.data);
      const reason =
        signal === 'SIGKILL'
          ? `timed out after ${PROBE_TIMEOUT_MS / 1000} s`
          : `exited with ${signal ?? code}`;
      resolve(failAll(`provider probe ${reason}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

const PLATFORM_ONLY: Partial<Record<ExecutionProviderName, { platform: NodeJS.Platform; label: string }>> = {
  dml: { platform: 'win32', label: 'DirectML is available on Windows only' },
  coreml: { platform: 'darwin', label: 'Core ML is available on macOS only' },
};

/**
 * Tries each execution provider for real: creates a tiny session on it alone and runs it once.
 * A provider counts as usable only if that worked; otherwise the report says why in words a user
 * can act on.
 */
export async function probeExecutionProviders(): Promise<ExecutionProviderReport[]> {
  const model = buildProbeModel();
  const reports: ExecutionProviderReport[] = [];
  for (const name of executionProviderNames) reports.push(await probeOne(name, model));
  return reports;
}

async function probeOne(name: ExecutionProviderName, model: Uint8Array): Promise<ExecutionProviderReport> {
  const started = performance.now();
  const done = (usable: boolean, detail: string): ExecutionProviderReport => ({
    name,
    usable,
    detail,
    probeMs: Math.round((performance.now() - started) * 100) / 100,
  });
  const missing = unavailableHere(name);
  if (missing) return done(false, missing);
  if (name === 'dawn') return probeDawn(done);
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: [name],
      logSeverityLevel: 4,
      intraOpNumThreads: 1,
    });
    const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]);
    const { y } = await session.run({ x });
    const data = y?.data as Float32Array | undefined;
    if (!data || data[3] !== 20) return done(false, 'ran, but returned a wrong result');
    if (name === 'webgpu') {
      const software = await (await import('../engine/dawn/device.ts')).softwareAdapterName();
      const detail =
        `ran a test graph; adapter: ${software ?? (await describeAdapter())}; ` +
        'fp32 training (fp16 products did not pay, docs/benchmarks.md)';
      return software ? { ...done(true, `${detail}; ${SOFTWARE_NOTE}`), software: true } : done(true, detail);
    }
    return done(true, name === 'cpu' ? `${ortThreads()} threads available` : 'ran a test graph');
  } catch (e) {
    return done(false, explainFailure(name, e));
  } finally {
    await session?.release().catch(() => undefined);
  }
}

/** The engine's own kernels on Dawn: the same test graph, through the executor that trains with them. */
async function probeDawn(
  done: (usable: boolean, detail: string) => ExecutionProviderReport,
): Promise<ExecutionProviderReport> {
  try {
    const [{ DawnSession }, { dawnDevice }, { Graph }, { productTilesStatus }] = await Promise.all([
      import('../engine/dawn/session.ts'),
      import('../engine/dawn/device.ts'),
      import('../engine/graph/graph.ts'),
      import('../engine/dawn/productTuning.ts'),
    ]);
    const g = new Graph('probe', { kernels: 'portable' });
    const x = g.input('x', 'float32', [1, 4]);
    g.output(g.emit1('Add', [g.emit1('Mul', [x, x], [1, 4], 'float32'), x], [1, 4], 'float32'), 'y');
    const session = await DawnSession.create(g);
    try {
      const { y } = await session.run({
        x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]),
      });
      if ((y?.data as Float32Array | undefined)?.[3] !== 20)
        return done(false, 'ran, but returned a wrong result');
    } finally {
      await session.release();
    }
    const dev = await dawnDevice();
    const f16 = dev.features.includes('shader-f16') ? 'shader-f16 available' : 'no shader-f16';
    const sm = dev.subgroupMatrix;
    const units = sm
      ? `f16 matrix units (${sm.m}×${sm.n}×${sm.k} subgroup matrices): --precision f16 available`
      : 'no f16 matrix units: f32 only';
    return {
      ...done(
        true,
        `ran a test graph with the engine's kernels; adapter: ${dev.adapter}; ${f16}; ${units}; ` +
          `${bindingLimitNote(dev.device.limits.maxStorageBufferBindingSize)}; ` +
          `${bufferLimitNote(dev.device.limits.maxBufferSize)}; ` +
          (await productTilesStatus(dev.adapter)) +
          (dev.software ? `; ${SOFTWARE_NOTE}` : ''),
      ),
      precisions: sm ? ['f32', 'f16'] : ['f32'],
      ...(dev.software ? { software: true } : {}),
    };
  } catch (e) {
    return done(false, explainFailure('dawn', e));
  }
}

/**
 * What the adapter's largest storage binding means for a trainer: no single tensor a kernel reads may be larger. The
 * flat parameter and moment vectors are cut into pieces that fit (flatChunks.ts), so the limit falls on the largest
 * tensor of a step: the embedding (vocabulary × width) or an MLP activation (batch × context × 4·width) (README
 * "When the model does not fit in the GPU's memory").
 */
export function bindingLimitNote(bytes: number): string {
  return (
    `largest storage binding ${gpuLimitSize(bytes)}: tensors up to ${millionsOf(bytes / 4)} M floats ` +
    `(the embedding, vocabulary × width; an MLP activation, batch × context × 4·width)`
  );
}

/** The adapter's largest buffer: the parameters and each AdamW moment are one buffer each, so it caps the model. */
export function bufferLimitNote(bytes: number): string {
  return `largest buffer ${gpuLimitSize(bytes)}: models up to ${millionsOf(bytes / 4)} M parameters`;
}

function millionsOf(count: number): string {
  const millions = count / 1e6;
  return millions < 100 ? millions.toFixed(1) : Math.round(millions).toLocaleString('en-US');
}

const SOFTWARE_NOTE =
  'a software adapter (the CPU running WebGPU): slower than the CPU device, so auto (Automatic) leaves it out';

function ortThreads(): number {
  return availableParallelism();
}

const CUDA_NOT_INSTALLED =
  'CUDA provider libraries are not installed (onnxruntime-node was installed with CUDA skipped); see README "GPU"';

/**
 * Why a provider cannot run on this machine, known without asking ONNX Runtime: another platform's, or a library
 * that is not installed. Null when it might run (only a session can tell).
 */
export function unavailableHere(name: ExecutionProviderName): string | null {
  const only = PLATFORM_ONLY[name];
  if (only && process.platform !== only.platform) return only.label;
  if (name === 'cuda' && !cudaProviderInstalled()) return CUDA_NOT_INSTALLED;
  return null;
}

/**
 * Whether onnxruntime-node's CUDA provider library sits next to its binding, where ONNX Runtime loads it from (its
 * installer puts it there only when asked: README "GPU"). Asking ONNX Runtime instead costs a red error on stderr
 * for the missing library before the failure the engine reports anyway. Linux only; elsewhere ONNX Runtime answers.
 */
function cudaProviderInstalled(platform = process.platform, arch = process.arch): boolean {
  if (platform !== 'linux') return true;
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  return existsSync(join(dist, '..', 'bin', 'napi-v6', platform, arch, 'libonnxruntime_providers_cuda.so'));
}

/** Maps ONNX Runtime's low-level messages to what the user can do about them. */
export function explainFailure(name: ExecutionProviderName, e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const firstLine = raw.split('\n')[0]!.slice(0, 300);
  // the engine's GPU errors (gpuErrors.ts) say what happened, and what to change
  const hint = (e as { hint?: unknown } | null)?.hint;
  if (typeof hint === 'string') return `${firstLine}: ${hint}`;
  // not "more than this adapter's largest storage binding": there is an adapter
  if ((name === 'webgpu' || name === 'dawn') && /no (webgpu |supported )?adapter/i.test(raw)) {
    return 'no WebGPU adapter: no GPU with a Vulkan (Linux), D3D12 (Windows) or Metal (macOS) driver was found';
  }
  if (name === 'cuda' && /shared library|providers_shared|providers_cuda/i.test(raw))
    return CUDA_NOT_INSTALLED;
  if (/backend not found|not supported|no available backend/i.test(raw)) {
    return `this build of onnxruntime-node has no ${name} provider`;
  }
  return firstLine;
}
