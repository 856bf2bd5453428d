import { describe, expect, it } from 'vitest';
import { GpuOutOfMemoryError } from '../gpuErrors.ts';
import { CheckedBuffers } from './checkedBuffers.ts';
import { dawnDevice } from './device.ts';

describe('buffers created with their allocation checked', () => {
  it('a buffer the GPU cannot allocate is an out-of-memory error that names the adapter, the bytes and what to change', async () => {
    const { device, adapter } = await dawnDevice();
    const buffers = new CheckedBuffers(device);
    const small = buffers.create({ size: 1024, usage: GPUBufferUsage.STORAGE });
    await expect(buffers.check(adapter, 'a small graph')).resolves.toBeUndefined();

    // The largest buffer WebGPU allows, until one does not fit: on software Vulkan the first (it allocates at most
    // 4 GiB - 4 at once), on a GPU when its memory is full. Within the limit, so it is not a validation error.
    const size = device.limits.maxBufferSize;
    const big: GPUBuffer[] = [];
    let error: unknown = null;
    while (error === null && big.length < 256) {
      big.push(buffers.create({ size, usage: GPUBufferUsage.STORAGE }));
      error = await buffers.check(adapter, 'the test step').catch((e: unknown) => e);
    }
    for (const b of [small, ...big]) b.destroy();
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    const { message, hint } = error as GpuOutOfMemoryError;
    expect(message).toMatch(
      new RegExp(
        `^the GPU \\(${adapter.replace(/[()+.]/g, '\\$&')}\\) ran out of memory for the test step: its buffers take \\d+\\.\\d\\d GiB \\(.*OUT_OF_DEVICE_MEMORY`,
      ),
    );
    expect(message).toContain(`${((1024 + big.length * size) / 2 ** 30).toFixed(2)} GiB`);
    expect(hint).toMatch(/train\.batchSize.*train\.gradAccumSteps.*activationCheckpointing=on/);
    // what was checked is not reported twice
    await expect(buffers.check(adapter, 'the test step')).resolves.toBeUndefined();
  }, 60_000);
});
