/**
 * The product tuner (productTuning.ts) on the Dawn device: it times every tiling of a graph's products, keeps its
 * choices in the cache file and reads them back, survives a damaged file, and the session runs each product on
 * the tile chosen, with the same bits as untuned. Tuning is forced here: by default a software adapter is not
 * tuned.
 */
import type ort from 'onnxruntime-node';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Graph } from '../graph/graph.ts';
import { dawnDevice } from './device.ts';
import { PRODUCT_TILINGS, productProblem, tilingName } from './kernels/matmul.ts';
import { forgetTunedProducts, productKey, readTuningCache, tuneProducts } from './productTuning.ts';
import { DawnSession } from './session.ts';
import { selectDevice } from '../device.ts';
import { floats } from './testing/rewrites.ts';

/** A Linear with a bias, an Erf (its epilogue), then a product by a second weight: two distinct products. */
function twoProducts(): { g: Graph; feeds: Record<string, ort.Tensor> } {
  const g = new Graph('two_products', { kernels: 'portable' });
  const x = g.input('x', 'float32', [40, 24]);
  const w1 = g.input('w1', 'float32', [36, 24]);
  const b1 = g.input('b1', 'float32', [36]);
  const w2 = g.input('w2', 'float32', [36, 20]);
  const h = g.emit1('Gemm', [x, w1, b1], [40, 36], 'float32', { transB: { int: 1 } });
  const r = g.emit1('Erf', [h], [40, 36], 'float32');
  g.output(g.emit1('MatMul', [r, w2], [40, 20], 'float32'), 'y');
  const feeds = {
    x: floats([40, 24], 1),
    w1: floats([36, 24], 2),
    b1: floats([36], 3),
    w2: floats([36, 20], 4),
  };
  return { g, feeds };
}

const tempCache = async () => join(await mkdtemp(join(tmpdir(), 'xai-tiles-')), 'tiles.json');

async function runWith(
  g: Graph,
  feeds: Record<string, ort.Tensor>,
  opts: { tune: boolean; tuningCache?: string | null },
) {
  const session = await DawnSession.create(g, opts);
  try {
    const out = await session.run(feeds);
    return {
      y: out.y!.data as Float32Array,
      labels: session.dispatchLabels,
      report: session.productTuning,
      note: session.note,
    };
  } finally {
    await session.release();
  }
}

const bitsOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

afterEach(() => {
  forgetTunedProducts();
  vi.restoreAllMocks();
});

describe('product tiles tuned on the device', () => {
  it('times every tiling of each product, saves the choices, and runs with them', async () => {
    const { g, feeds } = twoProducts();
    const cache = await tempCache();
    const tuned = await runWith(g, feeds, { tune: true, tuningCache: cache });
    expect(tuned.report).toMatchObject({ products: 2, timed: 2, cachePath: cache });
    expect(tuned.note).toMatch(
      /^Matrix product tiles tuned for this GPU: 2 products, [0-2] off the default \(2 timed now/,
    );
    const file = await readTuningCache(cache);
    const { adapter } = await dawnDevice();
    const entries = Object.values(file.adapters[adapter]!);
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      expect(Object.keys(e.ms).sort()).toEqual(PRODUCT_TILINGS.map(tilingName).sort());
      expect(Object.values(e.ms).every((ms) => ms > 0)).toBe(true);
      expect(e.tiling in e.ms).toBe(true);
    }
    // each product's dispatch names the tile it ran with, the one chosen
    const chosen = new Set(entries.map((e) => e.tiling));
    const productLabels = tuned.labels.filter((l) => /^(Gemm|MatMul)/.test(l));
    expect(productLabels).toHaveLength(2);
    for (const l of productLabels) expect(chosen.has(l.split(' ').at(-1)!)).toBe(true);

    const untuned = await runWith(g, feeds, { tune: false });
    expect(untuned.report).toBeNull();
    expect(untuned.note).toBeNull();
    expect(bitsOf(tuned.y).equals(bitsOf(untuned.y))).toBe(true);
  });

  it('reads the choices back instead of timing again, and runs each product on the tile the file names', async () => {
    const { g, feeds } = twoProducts();
    const cache = await tempCache();
    await runWith(g, feeds, { tune: true, tuningCache: cache });
    // another process: nothing in memory; the file says 4x8x8 for every product (not what the generator picks)
    forgetTunedProducts();
    const file = await readTuningCache(cache);
    const { adapter } = await dawnDevice();
    for (const e of Object.values(file.adapters[adapter]!)) e.tiling = '4x8x8';
    await writeFile(cache, JSON.stringify(file));
    const again = await runWith(g, feeds, { tune: true, tuningCache: cache });
    expect(again.report).toMatchObject({ products: 2, timed: 0, changed: 2 });
    expect(again.note).toMatch(/2 products, 2 off the default \(from the cache\)/);
    const productLabels = again.labels.filter((l) => /^(Gemm|MatMul)/.test(l));
    expect(productLabels.map((l) => l.split(' ').at(-1))).toEqual(['4x8x8', '4x8x8']);
    const untuned = await runWith(g, feeds, { tune: false });
    expect(untuned.labels.filter((l) => /^(Gemm|MatMul)/.test(l)).some((l) => l.endsWith('4x8x8'))).toBe(
      false,
    );
    expect(bitsOf(again.y).equals(bitsOf(untuned.y))).toBe(true);
  });

  it('a damaged cache file is reported and replaced, not fatal', async () => {
    const { g, feeds } = twoProducts();
    const cache = await tempCache();
    await writeFile(cache, '{"version": 1, "adapters": {"x": {"k": {"tiling": 3}}}');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const run = await runWith(g, feeds, { tune: true, tuningCache: cache });
    expect(warn.mock.calls.flat().join('\n')).toMatch(/not a tiling cache.*tuning again/);
    expect(run.report?.timed).toBe(2);
    const { adapter } = await dawnDevice();
    expect(Object.keys((await readTuningCache(cache)).adapters[adapter]!)).toHaveLength(2);
    expect(JSON.parse(await readFile(cache, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('keys a product by its shape, not by its bias factor, scale or epilogue bindings', async () => {
    const req = (alpha: number, inputs: number) => ({
      opType: 'Gemm',
      inputs: [
        { shape: [40, 24], type: 'f32' as const },
        { shape: [36, 24], type: 'f32' as const },
        ...Array.from({ length: inputs - 2 }, () => ({ shape: [36], type: 'f32' as const })),
      ],
      outputs: [{ shape: [40, 36], type: 'f32' as const }],
      attributes: { transB: 1, alpha },
      constants: [],
    });
    const key = productKey(productProblem(req(1, 3)));
    expect(productKey(productProblem(req(0.5, 3)))).toBe(key);
    expect(productKey(productProblem(req(1, 2)))).not.toBe(key); // no bias: another kernel
    const dev = await dawnDevice();
    const tuned = await tuneProducts(dev, [productProblem(req(1, 3)), productProblem(req(0.5, 3))], null);
    expect(tuned.report).toMatchObject({ products: 1, timed: 1, cachePath: null });
  });

  it('sessions built together time each product once', async () => {
    const dev = await dawnDevice();
    const p = productProblem({
      opType: 'MatMul',
      inputs: [
        { shape: [2, 3, 20, 40], type: 'f32' },
        { shape: [2, 3, 40, 24], type: 'f32' },
      ],
      outputs: [{ shape: [2, 3, 20, 24], type: 'f32' }],
      attributes: {},
      constants: [],
    });
    const both = await Promise.all([tuneProducts(dev, [p], null), tuneProducts(dev, [p], null)]);
    expect(both.map((t) => t.report.timed)).toEqual([1, 0]);
    expect(both[1].tilingFor(p)).toEqual(both[0].tilingFor(p));
  });

  it("the run's first log line says the tiles were tuned", async () => {
    const { g, feeds } = twoProducts();
    const saved = { ...process.env };
    process.env.XAI_LINK_DAWN_TUNE = '1';
    process.env.XAI_LINK_DAWN_TUNING_CACHE = await tempCache();
    try {
      const chosen = await selectDevice('dawn', {
        probeModel: () => g,
        probeRun: async (s) => void (await s.run(feeds)),
      });
      try {
        expect(chosen.message).toMatch(
          /^Training on WebGPU \(engine kernels\) on [^;]+\. Matrix product tiles tuned for this GPU: 2 products/,
        );
      } finally {
        await chosen.session.release();
      }
    } finally {
      process.env = saved;
    }
  });
});
