/**
 * The GPU device a session ran on is gone: its driver was reset or updated, the GPU was removed or powered
 * down, or (Windows) a submission ran past the display driver's time limit (TDR, 2 s by default) and the OS
 * reset the GPU. Every buffer on it is gone with it, so the state on the device is lost; what a run saved to
 * disk is not. Kept free of Dawn so that CPU code (the training worker) can recognise it without loading it.
 */
export class GpuDeviceLostError extends Error {
  readonly hint: string;
  readonly adapter: string;
  /** WebGPU's GPUDeviceLostReason: "destroyed" or "unknown" (a reset, a removal, a crash of the driver). */
  readonly reason: string;
  constructor(adapter: string, reason: string, detail: string) {
    super(`the GPU device (${adapter}) was lost (${reason}${detail ? `: ${detail}` : ''})`);
    this.name = 'GpuDeviceLostError';
    this.adapter = adapter;
    this.reason = reason;
    this.hint =
      'a GPU driver reset or update, the GPU removed or powered down, or on Windows a submission longer than ' +
      "the driver's time limit (TDR): if it repeats, lower train.batchSize or model.blockSize, or train with --device cpu";
  }
}

export function isGpuDeviceLost(e: unknown): e is GpuDeviceLostError {
  return e instanceof Error && e.name === 'GpuDeviceLostError';
}
