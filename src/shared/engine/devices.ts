import { z } from 'zod';

/**
 * Where a run trains: the one list the engine, the API contract, the CLI and the new-run form share.
 *  - cpu: ONNX Runtime's CPU provider;
 *  - webgpu: ONNX Runtime's WebGPU provider (its own WGSL kernels);
 *  - dawn: WebGPU through Dawn with the engine's own kernels (src/main/engine/dawn: tiled matrix products,
 *    fused reductions), for the GPUs where ONNX Runtime's kernels are slow;
 *  - cuda, dml: ONNX Runtime's CUDA and DirectML providers, where installed.
 * "auto" tries each accelerator, times the ones that run the training graph, and takes the fastest.
 */
export const deviceNames = ['cpu', 'webgpu', 'dawn', 'cuda', 'dml'] as const;
export const deviceNameSchema = z.enum(deviceNames);
export type DeviceName = z.infer<typeof deviceNameSchema>;

export const deviceRequestSchema = z.enum(['auto', ...deviceNames]);
export type DeviceRequestName = z.infer<typeof deviceRequestSchema>;

export const isDeviceName = (name: string): name is DeviceName =>
  (deviceNames as readonly string[]).includes(name);
