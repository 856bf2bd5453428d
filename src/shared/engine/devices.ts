import { z } from 'zod';

/**
 * Where a run trains: the one list the engine, the API contract, the CLI and the new-run form share.
 *  - cpu: ONNX Runtime's CPU provider;
 *  - webgpu: ONNX Runtime's WebGPU provider (its own WGSL kernels);
 *  - dawn: WebGPU through Dawn with the engine's own kernels (src/main/engine/dawn: tiled matrix products,
 *    fused reductions), for the GPUs where ONNX Runtime's kernels are slow;
 *  - cuda, dml: ONNX Runtime's CUDA and DirectML providers, where installed.
 * "auto" tries each accelerator, times the ones that run the training graph, and takes the fastest; a software
 * WebGPU adapter (the CPU running WebGPU: lavapipe, SwiftShader, WARP) is not one of them.
 */
export const deviceNames = ['cpu', 'webgpu', 'dawn', 'cuda', 'dml'] as const;
export const deviceNameSchema = z.enum(deviceNames);
export type DeviceName = z.infer<typeof deviceNameSchema>;

export const deviceRequestSchema = z.enum(['auto', ...deviceNames]);
export type DeviceRequestName = z.infer<typeof deviceRequestSchema>;

export const isDeviceName = (name: string): name is DeviceName =>
  (deviceNames as readonly string[]).includes(name);

/**
 * The arithmetic of a run's matrix products:
 *  - f32: nanoGPT's fp32 (the default; every device, parity with the CPU);
 *  - f16: the products' operands rounded to f16 on the GPU's matrix units (tensor cores), summed in f32, each block
 *    of an operand scaled by a power of two first so that gradients keep f16's precision; parameters, AdamW and
 *    everything else stay fp32. The engine's own kernels only (`dawn`), on an adapter that offers f16 subgroup
 *    matrices (System lists it).
 */
export const precisions = ['f32', 'f16'] as const;
export const precisionSchema = z.enum(precisions);
export type Precision = z.infer<typeof precisionSchema>;

/** Why a device cannot train at this precision, or null when it can ("auto" with f16 means dawn). */
export function precisionProblem(device: DeviceRequestName, precision: Precision): string | null {
  if (precision === 'f32' || device === 'dawn' || device === 'auto') return null;
  return `precision f16 runs on the engine's own kernels (device "dawn", on a GPU with f16 matrix units), not on "${device}"`;
}
