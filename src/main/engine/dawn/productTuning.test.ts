import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseTiling, tilingName } from './kernels/matmul.ts';
import {
  describeProblem,
  fastestTiling,
  productTilesStatus,
  productTuningEnabled,
  readTuningCache,
  tuningCachePath,
} from './productTuning.ts';
import { plainProblem } from './testing/gemmProblems.ts';

afterEach(() => vi.restoreAllMocks());

describe('product tuning: when, where, and which', () => {
  it('tunes GPUs by default, not software adapters, and obeys XAI_LINK_DAWN_TUNE', () => {
    expect(productTuningEnabled('NVIDIA H200', {})).toBe(true);
    expect(productTuningEnabled('AMD Radeon RX 7900 XTX', {})).toBe(true);
    expect(productTuningEnabled('llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', {})).toBe(false);
    expect(productTuningEnabled('SwiftShader Device (Subzero)', {})).toBe(false);
    expect(productTuningEnabled('NVIDIA H200', { XAI_LINK_DAWN_TUNE: '0' })).toBe(false);
    expect(productTuningEnabled('llvmpipe', { XAI_LINK_DAWN_TUNE: '1' })).toBe(true);
  });

  it("keeps the cache in the platform's cache folder unless told otherwise", () => {
    expect(tuningCachePath({ XAI_LINK_DAWN_TUNING_CACHE: '/x/tiles.json' }, 'linux')).toBe('/x/tiles.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: '/c' }, 'linux')).toBe('/c/XAI-Link/dawn-product-tiles.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: 'relative' }, 'linux')).toMatch(
      /\/\.cache\/XAI-Link\/dawn-product-tiles\.json$/,
    );
    expect(tuningCachePath({}, 'darwin')).toMatch(/Library\/Caches\/XAI-Link\/dawn-product-tiles\.json$/);
    expect(tuningCachePath({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toContain('XAI-Link');
  });

  it("takes the fastest tiling only when it beats the generator's by more than the noise", () => {
    const p = plainProblem(2048, 2048, 384); // 256 tiles of 128×128
    const mine = tilingName(chooseTiling(p));
    expect(mine).toBe('8x8x8');
    expect(tilingName(fastestTiling(p, { '8x8x8': 1, '4x8x8': 0.5 }))).toBe('4x8x8');
    expect(tilingName(fastestTiling(p, { '8x8x8': 1, '4x8x8': 0.99 }))).toBe('8x8x8');
    // the generator's own failed to compile: the fastest of the others
    expect(tilingName(fastestTiling(p, { '8x4x8': 2, '4x4x16': 3 }))).toBe('8x4x8');
    // nothing measured: the generator's
    expect(tilingName(fastestTiling(p, {}))).toBe('8x8x8');
  });

  it('describes a product for people reading the cache', () => {
    expect(
      describeProblem(
        plainProblem(64, 36, 40, { transB: true, beta: 1, bias: { binding: 2, rowStride: 0, colStride: 1 } }),
      ),
    ).toBe('64×36×40 Bᵀ +bias');
    expect(describeProblem(plainProblem(20, 24, 40, { batch: [2, 3], transA: true }))).toBe('6·20×24×40 Aᵀ');
  });

  it('reads a missing cache as empty, and a damaged one as empty with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-tiles-'));
    expect(await readTuningCache(join(dir, 'none.json'))).toEqual({ version: 1, adapters: {} });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (const text of ['{ not json', '{"version": 2, "adapters": {}}', '[]']) {
      await writeFile(join(dir, 'bad.json'), text);
      expect(await readTuningCache(join(dir, 'bad.json'))).toEqual({ version: 1, adapters: {} });
    }
    expect(warn).toHaveBeenCalledTimes(3);
    expect(String(warn.mock.calls[0]![0])).toMatch(/bad\.json is not a tiling cache/);
  });

  it('says on the System page whether the tiles are tuned, and for how many products', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-tiles-'));
    const env = { XAI_LINK_DAWN_TUNING_CACHE: join(dir, 'tiles.json') };
    expect(await productTilesStatus('llvmpipe (LLVM 15)', env)).toMatch(/not tuned on a software adapter/);
    expect(await productTilesStatus('NVIDIA H200', { ...env, XAI_LINK_DAWN_TUNE: '0' })).toMatch(/not tuned/);
    expect(await productTilesStatus('NVIDIA H200', env)).toMatch(/timed on this GPU when it first trains/);
    const entry = (tiling: string) => ({ shape: '1×1×1', tiling, generator: '4x4x16', ms: { [tiling]: 1 } });
    await writeFile(
      env.XAI_LINK_DAWN_TUNING_CACHE,
      JSON.stringify({ version: 1, adapters: { 'NVIDIA H200': { a: entry('8x8x16'), b: entry('4x4x16') } } }),
    );
    expect(await productTilesStatus('NVIDIA H200', env)).toMatch(
      /tuned on this GPU for 2 products, 1 off the default/,
    );
  });
});
