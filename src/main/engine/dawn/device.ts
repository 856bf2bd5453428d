import { create, globals } from 'webgpu';
import { GpuDeviceLostError } from '../gpuErrors.ts';
import type { SubgroupMatrixShape } from './kernels/matmulSubgroup.ts';

/**
 * The engine's own WebGPU device, through Dawn for Node (the `webgpu` package): the backend that runs our WGSL
 * kernels (session.ts) rather than ONNX Runtime's. One device per process (per worker thread), requested with
 * the adapter's largest buffer limits: a GPT's activations need storage bindings far above WebGPU's 128 MiB
 * default.
 */

export interface DawnDevice {
  readonly device: GPUDevice;
  /** What the adapter says it is ("NVIDIA H200", "llvmpipe (LLVM 19…)"), for reports and the System page. */
  readonly adapter: string;
  /** A software rasteriser (the CPU running WebGPU): see isSoftwareAdapter. */
  readonly software: boolean;
  /** Optional features the device was created with (shader-f16, subgroups, timestamp-query when offered). */
  readonly features: readonly string[];
  /**
   * The f16 × f16 → f32 subgroup-matrix fragment the adapter multiplies on its matrix units (tensor cores), for
   * `--precision f16`; null when it has none, or when its subgroup size varies (the kernel lays out its
   * fragments for one size).
   */
  readonly subgroupMatrix: SubgroupMatrixShape | null;
  /** Settles when the device is lost (a driver reset, Windows' TDR, the GPU removed); pending while it works. */
  readonly lost: Promise<GpuDeviceLostError>;
  /** The loss once it has been reported, else null. */
  lostError(): GpuDeviceLostError | null;
}

/** Features the kernels use when the adapter has them; none is required. */
const WANTED_FEATURES = [
  'shader-f16',
  'subgroups',
  'timestamp-query',
  'chromium-experimental-subgroup-matrix',
] as const;

let shared: Promise<DawnDevice> | null = null;
/** Dawn's instance: held for the life of the process, since the device dies with it when it is collected. */
let instance: GPU | null = null;

/**
 * The process's Dawn device, created on first use; rejects with what to install when there is no adapter. Once
 * the device is lost, the next call opens a new one (on the adapter as it is then: after a driver reset it is
 * back).
 */
export function dawnDevice(): Promise<DawnDevice> {
  if (!shared) {
    const opening: Promise<DawnDevice> = openDevice().then(
      (dev) => {
        void dev.lost.then(() => {
          if (shared === opening) shared = null;
        });
        return dev;
      },
      (e: unknown) => {
        if (shared === opening) shared = null;
        throw e;
      },
    );
    shared = opening;
  }
  return shared;
}

/**
 * XAI_LINK_DAWN_UNCHECKED=1 turns off Dawn's bounds clamping on every storage access, its zeroing of workgroup
 * memory and its validation: our kernels guard their own bounds and initialise what they read (the kernel tests
 * run both ways), and on a GPU the clamps sit in the matrix products' inner loops. Off by default until a GPU
 * run has measured what it buys (`npm run bench:kernels -- --full` with and without it).
 */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  // Subgroup matrices are still a Chromium experiment: Dawn offers them only with its unsafe APIs allowed. Only our
  // own WGSL runs on this device, so that exposes nothing to untrusted code.
  const features = ['allow_unsafe_apis'];
  if (env.XAI_LINK_DAWN_UNCHECKED === '1')
    features.push('disable_robustness', 'disable_workgroup_init', 'skip_validation');
  // Dawn rounds GPU timestamps down to 65,536 ns unless told not to (a browser's defence against timing attacks,
  // which no page can mount here). The product tuner and the kernel profile time kernels of tens of microseconds
  // on a GPU: rounded, most would read 0 or 65.5 µs.
  const flags = [
    `enable-dawn-features=${features.join(',')}`,
    'disable-dawn-features=timestamp_quantization',
  ];
  const adapter = gpuAdapterChoice(env);
  return adapter ? [...flags, `adapter=${adapter}`] : flags;
}

/**
 * XAI_LINK_GPU_ADAPTER: part of the name of the GPU to train on, where a machine has more than one ("4090", "Radeon",
 * "Intel"); else the adapter Dawn ranks first for high performance (a discrete GPU before an integrated one). Dawn
 * matches the name as its driver gives it, so two GPUs of one model cannot be told apart this way.
 */
export function gpuAdapterChoice(env: NodeJS.ProcessEnv = process.env): string | null {
  const name = env.XAI_LINK_GPU_ADAPTER?.trim();
  if (!name) return null;
  if (name.includes(','))
    throw new Error(`XAI_LINK_GPU_ADAPTER="${name}": give one adapter's name, or part of it, without commas`);
  return name;
}

interface SubgroupMatrixConfig {
  readonly componentType: string;
  readonly resultComponentType: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

/** The adapter's f16 → f32 fragment shape, if it has one and a fixed subgroup size (see DawnDevice). */
export function subgroupMatrixOf(
  features: readonly string[],
  info: {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    subgroupMatrixConfigs?: readonly SubgroupMatrixConfig[];
  },
): SubgroupMatrixShape | null {
  if (!features.includes('chromium-experimental-subgroup-matrix') || !features.includes('shader-f16'))
    return null;
  const size = info.subgroupMaxSize ?? 0;
  if (!size || info.subgroupMinSize !== size) return null;
  const config = (info.subgroupMatrixConfigs ?? []).find(
    (c) => c.componentType === 'f16' && c.resultComponentType === 'f32',
  );
  return config ? { m: config.M, n: config.N, k: config.K, subgroupSize: size } : null;
}

/**
 * A software adapter: the CPU running WebGPU (Mesa's lavapipe, SwiftShader, Windows' WARP). What CI's GPU tests
 * run on, and what a Linux desktop without a GPU (or without its driver) may offer: exact, but always slower
 * than training on that same CPU directly, so `--device auto` leaves it out. Dawn flags such an adapter as a
 * fallback one; the names catch drivers that do not say so.
 */
export const isSoftwareAdapter = (adapter: string, fallback = false): boolean =>
  fallback || /llvmpipe|lavapipe|swiftshader|software|basic render driver|\bwarp\b/i.test(adapter);

/**
 * What an adapter is: its own name ("NVIDIA H200", "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)") reads best, vendor + device
 * id else; and whether it is a software one (GPUAdapterInfo.isFallbackAdapter, where Dawn for Node has it, or the
 * name).
 */
function adapterOf(info: GPUAdapterInfo): { name: string; software: boolean } {
  const name =
    info.description.trim() || [info.vendor, info.device].filter(Boolean).join(' ') || 'unknown adapter';
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { name, software: isSoftwareAdapter(name, fallback) };
}

/**
 * The adapter the engine's kernels would train on, without opening a device on it (cheap: no device memory, no
 * queue); rejects as dawnDevice does when there is none.
 */
export async function dawnAdapter(): Promise<{ name: string; software: boolean }> {
  return adapterOf((await requestAdapter()).info);
}

/**
 * The adapter's name when WebGPU here is a software one, else null: a GPU, or no adapter at all (whoever opens
 * it then says why). ONNX Runtime's WebGPU provider is Dawn too and ranks adapters the same way (high performance
 * first), so this answers for both backends.
 */
export async function softwareAdapterName(): Promise<string | null> {
  const adapter = await dawnAdapter().catch(() => null);
  return adapter?.software ? adapter.name : null;
}

async function requestAdapter(): Promise<GPUAdapter> {
  // The WebGPU constants (GPUBufferUsage, GPUMapMode, GPUShaderStage) are globals in a browser; Dawn for Node
  // hands them out instead.
  for (const [k, v] of Object.entries(globals as Record<string, unknown>))
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = (instance ??= create(dawnFlags()));
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    // Dawn for Node refuses an adapter name that matches none, listing those it found
    const choice = gpuAdapterChoice();
    if (!choice) throw e;
    const found = [...(e as Error).message.matchAll(/name: '([^']*)'/g)].map((m) => m[1]!);
    throw new Error(
      `no GPU adapter's name contains "${choice}" (XAI_LINK_GPU_ADAPTER, case matters): ` +
        (found.length > 0
          ? `this machine has ${found.map((n) => `"${n}"`).join(', ')}`
          : 'this machine has none'),
      { cause: e },
    );
  }
  if (!adapter) {
    throw new Error(
      'No WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 device): install the GPU driver, or on a ' +
        'machine without a GPU the software Vulkan driver (bash scripts/webgpu/install-software-vulkan.sh, then ' +
        'run through node scripts/webgpu/env.ts)',
    );
  }
  return adapter;
}

async function openDevice(): Promise<DawnDevice> {
  const adapter = await requestAdapter();
  const { limits } = adapter;
  const request = (wanted: readonly string[]) =>
    adapter.requestDevice({
      requiredFeatures: wanted as GPUFeatureName[],
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
      },
    });
  let features = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await request(features);
  } catch (e) {
    // An experimental feature the adapter lists but cannot enable must not cost the f32 kernels their device.
    if (!features.includes('chromium-experimental-subgroup-matrix')) throw e;
    features = features.filter((f) => f !== 'chromium-experimental-subgroup-matrix');
    console.warn(
      `WebGPU: no f16 subgroup matrices on this device (${(e as Error).message}): f32 products only`,
    );
    device = await request(features);
  }
  device.addEventListener('uncapturederror', (e) => {
    console.error(`WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
  });
  const info = adapter.info;
  const { name: adapterName, software } = adapterOf(info);
  let lostError: GpuDeviceLostError | null = null;
  const lost = device.lost.then((why) => {
    lostError = new GpuDeviceLostError(adapterName, why.reason ?? 'unknown', why.message.trim());
    console.error(`WebGPU: ${lostError.message}`);
    return lostError;
  });
  return {
    device,
    adapter: adapterName,
    software,
    features,
    subgroupMatrix: subgroupMatrixOf(features, info),
    lost,
    lostError: () => lostError,
  };
}
