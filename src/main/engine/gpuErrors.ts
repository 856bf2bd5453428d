/** The GPU errors a run can meet whatever it trains, with what to do about them. Free of Dawn, so CPU code can read them. */

/**
 * The GPU device a session ran on is gone: its driver was reset or updated, the GPU was removed or powered
 * down, or (Windows) a submission ran past the display driver's time limit (TDR, 2 s by default) and the OS
 * reset the GPU. Every buffer on it is gone with it, so the state on the device is lost; what a run saved to
 * disk is not.
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

/** The GPU could not hold a session's buffers (parameters, AdamW moments, the activations of its memory plan). */
export class GpuOutOfMemoryError extends Error {
  readonly hint: string;
  constructor(adapter: string, what: string, bytes: number, detail: string) {
    super(
      `the GPU (${adapter}) ran out of memory for ${what}: its buffers take ${(bytes / 2 ** 30).toFixed(2)} GiB` +
        (detail ? ` (${detail})` : ''),
    );
    this.name = 'GpuOutOfMemoryError';
    this.hint =
      'lower train.batchSize (raise train.gradAccumSteps to keep the tokens per step), turn on activation ' +
      'checkpointing (--set train.activationCheckpointing=on), or close the programs that use the GPU';
  }
}

/** A GPU limit or a tensor against it, as the messages and the System page give them: "128 MiB", "4.0 GiB". */
export function gpuLimitSize(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * A tensor of a step is larger than one storage binding of the adapter (`maxStorageBufferBindingSize`), so no kernel
 * can read it: the embedding (vocabulary × width) or an activation (batch × context × 4·width). Memory is not the
 * issue; the tensor's size is.
 */
export class GpuTensorTooLargeError extends Error {
  readonly hint: string;
  /**
   * `limit` is the adapter's largest storage binding (what a kernel reads), or with `kind` 'buffer' its largest
   * buffer (what holds a whole input or output: the parameters, each AdamW moment).
   */
  constructor(
    adapter: string,
    tensor: string,
    shape: readonly number[],
    bytes: number,
    limit: number,
    kind: 'binding' | 'buffer' = 'binding',
  ) {
    super(
      `tensor ${tensor} [${shape.join(', ')}] takes ${gpuLimitSize(bytes)}, more than this adapter's largest ` +
        `${kind === 'binding' ? 'storage binding' : 'buffer'} (${gpuLimitSize(limit)}, ${adapter}): use a smaller model ` +
        `or batch on this GPU, or another device`,
    );
    this.name = 'GpuTensorTooLargeError';
    this.hint =
      kind === 'binding'
        ? 'lower train.batchSize (raise train.gradAccumSteps to keep the tokens per step) or model.blockSize; an ' +
          'embedding that large needs a smaller vocabulary or width on this GPU'
        : 'the parameters and each AdamW moment are one buffer: train a smaller model on this GPU, or on the CPU';
  }
}

/** Errors about what a step needs, not about how a kernel was written: another form of the kernels needs as much. */
export function isGpuSizeError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'GpuTensorTooLargeError' || e.name === 'GpuOutOfMemoryError');
}
