import { describe, expect, it } from 'vitest';
import { GpuDeviceLostError, GpuOutOfMemoryError } from '../engine/gpuErrors.ts';
import { bindingLimitNote, bufferLimitNote, explainFailure } from './executionProviders.ts';

describe('why a device could not train, in a line', () => {
  it('no adapter, from ONNX Runtime or from Dawn', () => {
    const ort =
      'webgpu_context.cc:136 WebGpuContext::Initialize adapter_result.status == wgpu::RequestAdapterStatus::Success was ' +
      'false. Failed to get a WebGPU adapter: No supported adapters';
    expect(explainFailure('webgpu', new Error(ort))).toMatch(/^no WebGPU adapter: no GPU with a Vulkan/);
    const dawn =
      'No WebGPU adapter (Dawn found no Vulkan, Metal or Direct3D 12 device): install the GPU driver';
    expect(explainFailure('dawn', new Error(dawn))).toMatch(/^no WebGPU adapter/);
  });

  it("an adapter's limit is not a missing adapter", () => {
    const tooBig =
      "tensor logits [64, 256, 65] takes 4 MiB, more than this adapter's largest storage binding (128 MiB, llvmpipe)";
    expect(explainFailure('dawn', new Error(tooBig))).toBe(tooBig);
  });

  it("the engine's GPU errors keep what to change", () => {
    const oom = new GpuOutOfMemoryError(
      'NVIDIA GeForce RTX 4060',
      'train_step',
      9.5 * 2 ** 30,
      'VK_ERROR_OUT_OF_DEVICE_MEMORY',
    );
    expect(explainFailure('dawn', oom)).toBe(
      'the GPU (NVIDIA GeForce RTX 4060) ran out of memory for train_step: its buffers take 9.50 GiB ' +
        '(VK_ERROR_OUT_OF_DEVICE_MEMORY): lower train.batchSize (raise train.gradAccumSteps to keep the tokens per ' +
        'step), turn on activation checkpointing (--set train.activationCheckpointing=on), or close the programs that use the GPU',
    );
    expect(explainFailure('dawn', new GpuDeviceLostError('Intel Arc A770', 'unknown', ''))).toMatch(
      /^the GPU device \(Intel Arc A770\) was lost \(unknown\): a GPU driver reset/,
    );
  });
});

describe("the adapter's largest storage binding, as the largest tensor a step may hold", () => {
  it('in MiB or GiB, and in millions of float32 values, naming the tensors it limits', () => {
    const limits = '(the embedding, vocabulary × width; an MLP activation, batch × context × 4·width)';
    expect(bindingLimitNote(128 * 2 ** 20)).toBe(
      `largest storage binding 128 MiB: tensors up to 33.6 M floats ${limits}`,
    );
    expect(bindingLimitNote(2 ** 31)).toBe(
      `largest storage binding 2.0 GiB: tensors up to 537 M floats ${limits}`,
    );
    expect(bindingLimitNote(2 ** 32 - 4)).toBe(
      `largest storage binding 4.0 GiB: tensors up to 1,074 M floats ${limits}`,
    );
  });
});

describe("the adapter's largest buffer, as the largest model it trains", () => {
  it('in GiB, and in millions of float32 parameters', () => {
    expect(bufferLimitNote(2 ** 32 - 1)).toBe('largest buffer 4.0 GiB: models up to 1,074 M parameters');
    expect(bufferLimitNote(256 * 2 ** 20)).toBe('largest buffer 256 MiB: models up to 67.1 M parameters');
  });
});
