import { GpuOutOfMemoryError } from '../gpuErrors.ts';

/**
 * Buffers created each in an out-of-memory error scope of its own. Dawn reports a failed allocation only later,
 * asynchronously, and hands back an invalid buffer meanwhile: bound into a kernel, that fails with a validation
 * error that does not say why. The scope is pushed and popped around the one creation, so no other work on the
 * device falls into it.
 */
export class CheckedBuffers {
  readonly #device: GPUDevice;
  readonly #failures: Promise<GPUError | null>[] = [];
  #bytes = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  create(descriptor: GPUBufferDescriptor): GPUBuffer {
    this.#device.pushErrorScope('out-of-memory');
    const buffer = this.#device.createBuffer(descriptor);
    this.#failures.push(this.#device.popErrorScope());
    this.#bytes += descriptor.size;
    return buffer;
  }

  /** Bytes of every buffer created so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Rejects with GpuOutOfMemoryError when a creation since the last check failed; `bytes` (counted only then) is
   * what `what` needs. Nothing created since the last check: nothing to wait for.
   */
  async check(adapter: string, what: string, bytes = () => this.#bytes): Promise<void> {
    if (this.#failures.length === 0) return;
    const failures = await Promise.all(this.#failures.splice(0));
    const failed = failures.find((f) => f !== null);
    if (failed) throw new GpuOutOfMemoryError(adapter, what, bytes(), failed.message.split('\n')[0]!.trim());
  }
}
