import { inLaneOrder } from './laneOrder.ts';

/** Pipelines by WGSL source, per device: sessions of one run share their kernels. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

export async function pipelineFor(
  device: GPUDevice,
  code: string,
  what: string,
): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  let p = cache.get(code);
  if (!p) {
    p = device
      .createComputePipelineAsync({
        layout: 'auto',
        compute: { module: device.createShaderModule({ code: inLaneOrder(code) }), entryPoint: 'main' },
      })
      .catch((e: unknown) => {
        cache.delete(code);
        throw new Error(`WebGPU kernel for ${what} did not compile: ${(e as Error).message}`);
      });
    cache.set(code, p);
  }
  return p;
}
