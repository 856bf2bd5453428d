/**
 * Times one kernel on the Dawn device: its passes repeated in a single compute pass, measured by the GPU's own
 * timestamps when the device has them (else the wall clock from submission to completion, which includes the
 * launch). Used by the product tuner (productTuning.ts) and `npm run bench:kernels`.
 */
import type { DawnDevice } from './device.ts';
import type { Kernel } from './kernel.ts';
import { pipelineFor } from './pipelines.ts';

export interface KernelTime {
  /** Milliseconds per repetition, by `clock`. */
  readonly ms: number;
  readonly clock: 'gpu' | 'wall';
  /** Submission to completion per repetition: launch overheads included, a check on the timestamps. */
  readonly wallMs: number;
}

export interface KernelTimer {
  /** Runs the kernel `reps` times back to back and returns the time of one. */
  time(reps: number): Promise<KernelTime>;
  /** Frees the timer's query buffers (not the kernel's buffers, which the caller owns). */
  destroy(): void;
}

/**
 * Compiles the kernel's passes (through the session's pipeline cache, so a kernel timed here is compiled once
 * for the sessions too) and binds them to `buffers`, indexed by binding number as in kernel.ts.
 */
export async function kernelTimer(
  dev: DawnDevice,
  kernel: Kernel,
  buffers: readonly (GPUBuffer | null)[],
  what: string,
): Promise<KernelTimer> {
  const { device, features } = dev;
  const stages = await Promise.all(
    kernel.passes.map(async (pass) => {
      const pipeline = await pipelineFor(device, pass.code, what);
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: pass.bindings.map((binding) => {
          const buffer = buffers[binding];
          if (!buffer) throw new Error(`${what}: a pass binds ${binding}, which has no buffer`);
          return { binding, resource: { buffer } };
        }),
      });
      return { pipeline, bindGroup, workgroups: pass.workgroups };
    }),
  );
  const querySet = features.includes('timestamp-query')
    ? device.createQuerySet({ type: 'timestamp', count: 2 })
    : null;
  const resolved = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  return {
    async time(reps: number): Promise<KernelTime> {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass(
        querySet
          ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }
          : {},
      );
      for (let i = 0; i < reps; i++)
        for (const s of stages) {
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.bindGroup);
          pass.dispatchWorkgroups(...s.workgroups);
        }
      pass.end();
      if (querySet) {
        encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
      }
      const t0 = performance.now();
      device.queue.submit([encoder.finish()]);
      let gpuMs = 0;
      if (querySet) {
        await readback.mapAsync(GPUMapMode.READ);
        const [begin, end] = new BigInt64Array(readback.getMappedRange().slice(0));
        readback.unmap();
        gpuMs = Number(end! - begin!) / 1e6;
      } else await device.queue.onSubmittedWorkDone();
      const wallMs = (performance.now() - t0) / reps;
      // timestamps of 0 (an implementation that ignores them) fall back to the wall clock
      return gpuMs > 0 ? { ms: gpuMs / reps, clock: 'gpu', wallMs } : { ms: wallMs, clock: 'wall', wallMs };
    },
    destroy() {
      resolved.destroy();
      readback.destroy();
      querySet?.destroy();
    },
  };
}
