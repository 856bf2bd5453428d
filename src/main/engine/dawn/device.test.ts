import { describe, expect, it } from 'vitest';
import { dawnFlags, gpuAdapterChoice, isSoftwareAdapter, subgroupMatrixOf } from './device.ts';
import { productPrecision } from './session.ts';

const f16ToF32 = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
const features = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'];

describe('the f16 matrix units a Dawn adapter offers', () => {
  it("takes the adapter's f16 × f16 → f32 fragment and its subgroup size", () => {
    const info = {
      subgroupMinSize: 32,
      subgroupMaxSize: 32,
      subgroupMatrixConfigs: [{ ...f16ToF32, resultComponentType: 'f16' }, f16ToF32],
    };
    expect(subgroupMatrixOf(features, info)).toEqual({ m: 16, n: 16, k: 16, subgroupSize: 32 });
  });

  it('none without the feature, without shader-f16, with a varying subgroup size or only other types', () => {
    const info = { subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [f16ToF32] };
    expect(subgroupMatrixOf(['shader-f16', 'subgroups'], info)).toBeNull();
    expect(subgroupMatrixOf(['chromium-experimental-subgroup-matrix'], info)).toBeNull();
    expect(subgroupMatrixOf(features, { ...info, subgroupMinSize: 16, subgroupMaxSize: 64 })).toBeNull();
    const ints = { componentType: 'i8', resultComponentType: 'i32', M: 8, N: 8, K: 8 };
    expect(subgroupMatrixOf(features, { ...info, subgroupMatrixConfigs: [ints] })).toBeNull();
  });

  it('allows unsafe APIs (subgroup matrices are experimental), keeps timestamps unrounded and drops the bounds clamps only when asked', () => {
    const exact = 'disable-dawn-features=timestamp_quantization';
    expect(dawnFlags({})).toEqual(['enable-dawn-features=allow_unsafe_apis', exact]);
    expect(dawnFlags({ XAI_LINK_DAWN_UNCHECKED: '1' })).toEqual([
      'enable-dawn-features=allow_unsafe_apis,disable_robustness,disable_workgroup_init,skip_validation',
      exact,
    ]);
  });

  it('XAI_LINK_GPU_ADAPTER picks the adapter by part of its name; blank is the default, a list is refused', () => {
    expect(dawnFlags({ XAI_LINK_GPU_ADAPTER: ' RTX 4090 ' }).at(-1)).toBe('adapter=RTX 4090');
    expect(gpuAdapterChoice({})).toBeNull();
    expect(gpuAdapterChoice({ XAI_LINK_GPU_ADAPTER: '  ' })).toBeNull();
    expect(dawnFlags({ XAI_LINK_GPU_ADAPTER: '' })).toHaveLength(2);
    expect(() => gpuAdapterChoice({ XAI_LINK_GPU_ADAPTER: 'RTX 4090,RTX 3090' })).toThrow(
      /one adapter's name/,
    );
  });

  it('XAI_LINK_DAWN_PRECISION picks the products: f32 by default, f16 when asked, anything else refused', () => {
    expect(productPrecision({})).toBe('f32');
    expect(productPrecision({ XAI_LINK_DAWN_PRECISION: 'f16' })).toBe('f16');
    expect(() => productPrecision({ XAI_LINK_DAWN_PRECISION: 'bf16' })).toThrow(/use f32 or f16/);
  });
});

describe('software adapters', () => {
  it('are the CPU running WebGPU, by the fallback flag or by name; GPUs are not', () => {
    for (const name of [
      'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
      'SwiftShader Device (Subzero)',
      'Microsoft Basic Render Driver',
    ])
      expect(isSoftwareAdapter(name), name).toBe(true);
    for (const name of [
      'NVIDIA H200',
      'AMD Radeon RX 7900 XTX (RADV NAVI31)',
      'Intel(R) Arc(TM) A770 Graphics',
      'Apple M3 Max',
    ])
      expect(isSoftwareAdapter(name), name).toBe(false);
    expect(isSoftwareAdapter('some new rasteriser', true)).toBe(true);
  });
});
