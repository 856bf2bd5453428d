import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defaultCacheDir } from '../../services/dataDir.ts';
import { writeJsonAtomic } from '../../util/atomicWrite.ts';
import { isSoftwareAdapter, type DawnDevice } from './device.ts';
import { numelOf } from './kernel.ts';
import type { GemmProblem } from './kernels/gemmProblem.ts';
import { kernelTimer } from './kernelTiming.ts';
import {
  chooseTiling,
  gemmKernel,
  PRODUCT_TILINGS,
  tilingByName,
  tilingName,
  type Tiling,
} from './kernels/matmul.ts';

/**
 * Which tile each matrix product runs with, measured on the user's GPU rather than guessed for all of them. The
 * best tile depends on the GPU (how many SMs or CUs, registers, shared memory, the compiler): one NVIDIA, AMD,
 * Intel or Apple GPU's best is another's worst. The first session on an adapter times every tiling of
 * PRODUCT_TILINGS on each distinct product of its graph (the bare product, GPU timestamps,
 * best of a few trials) and keeps the fastest; the choices are cached in a file per machine, so later runs start
 * at once. The tilings give the same bits (matmul.ts), so the choice changes speed only: a run resumed on
 * another machine, or after the cache was cleared, computes exactly what it would have.
 *
 * Software adapters (lavapipe, SwiftShader) are not tuned unless asked: timing there costs minutes and tells
 * nothing about a GPU.
 */

/** XAI_LINK_DAWN_TUNE=0 never tunes, =1 tunes on any adapter; by default every adapter but a software one. */
export function productTuningEnabled(adapter: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.XAI_LINK_DAWN_TUNE === '0') return false;
  if (env.XAI_LINK_DAWN_TUNE === '1') return true;
  return !isSoftwareAdapter(adapter);
}

/**
 * The cache file: XAI_LINK_DAWN_TUNING_CACHE, else the platform's cache folder (a cache, not the user's data:
 * deleting it costs one tuning).
 */
export function tuningCachePath(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.XAI_LINK_DAWN_TUNING_CACHE) return env.XAI_LINK_DAWN_TUNING_CACHE;
  return join(defaultCacheDir(env, platform), 'dawn-product-tiles.json');
}

const tuningFile = z.object({
  version: z.literal(1),
  /** adapter → product key → the tiling chosen and what each measured (ms). */
  adapters: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        /** For people reading the file: "M×N×K", transposes and batch. */
        shape: z.string(),
        tiling: z.string(),
        /** The generator's own guess (chooseTiling), which the chosen one beat or is. */
        generator: z.string(),
        ms: z.record(z.string(), z.number().nonnegative()),
      }),
    ),
  ),
});
type TuningFile = z.infer<typeof tuningFile>;
export type TunedProduct = TuningFile['adapters'][string][string];

/** Reads the cache; a missing file is empty, an unreadable one is reported and then replaced on the next save. */
export async function readTuningCache(path: string): Promise<TuningFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      console.warn(`product tiles: cannot read ${path} (${(e as Error).message}); tuning again`);
    return { version: 1, adapters: {} };
  }
  const damaged = (why: string) => {
    console.warn(`product tiles: ${path} is not a tiling cache (${why}); tuning again`);
    return { version: 1 as const, adapters: {} };
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return damaged((e as Error).message);
  }
  const parsed = tuningFile.safeParse(json);
  return parsed.success ? parsed.data : damaged(parsed.error.message.split('\n')[0]!);
}

/** The problem as the tuner times it: its own bindings, α = 1 and β = 1 (neither changes the cost). */
function bareProblem(p: GemmProblem): GemmProblem {
  const bias = p.bias && p.beta !== 0 ? { ...p.bias, binding: 2 } : null;
  const out = bias ? 3 : 2;
  return { ...p, alpha: 1, beta: bias ? 1 : 0, bias, bindings: { a: 0, b: 1, out, scratch: out + 1 } };
}

/**
 * A product's identity for the cache: a digest of its candidates' WGSL, so that a change to the generator (or to
 * the candidates) retunes by itself.
 */
export function productKey(p: GemmProblem): string {
  const bare = bareProblem(p);
  const shape = JSON.stringify(bare);
  let key = keys.get(shape);
  if (!key) {
    const hash = createHash('sha256');
    for (const tiling of PRODUCT_TILINGS) {
      hash.update(tilingName(tiling));
      for (const pass of gemmKernel(bare, { tiling }).passes) hash.update(pass.code);
    }
    key = hash.digest('hex').slice(0, 24);
    keys.set(shape, key);
  }
  return key;
}
const keys = new Map<string, string>();

/** Elements each operand spans: the last batch's offset plus one matrix. */
function operandElements(
  rows: number,
  cols: number,
  batch: readonly number[],
  strides: readonly number[],
): number {
  return strides.reduce((end, s, d) => end + s * (batch[d]! - 1), 0) + rows * cols;
}

/** "64×36×40 Bᵀ +bias", "3·20×24×40": what a product is, for the cache file and reports. */
export function describeProblem(p: GemmProblem): string {
  const batch = numelOf(p.batch);
  const flags = [p.transA ? 'Aᵀ' : '', p.transB ? 'Bᵀ' : '', p.bias && p.beta !== 0 ? '+bias' : ''];
  return [`${batch > 1 ? `${batch}·` : ''}${p.m}×${p.n}×${p.k}`, ...flags.filter(Boolean)].join(' ');
}

/** Keep the generator's tile unless another beats it by more than this (timing noise is a few per cent). */
const MARGIN = 0.97;
/** GPU time each measurement aims for: long enough for timestamps and launch jitter to be small next to it. */
const TARGET_MS = 4;
const TRIALS = 3;

/** Times every tiling on one problem; returns each one's best time (ms), failures left out. */
async function timeTilings(dev: DawnDevice, p: GemmProblem): Promise<Record<string, number>> {
  const bare = bareProblem(p);
  const { device } = dev;
  const usage = GPUBufferUsage.STORAGE;
  const size = (elements: number) => Math.max(16, Math.ceil((elements * 4) / 16) * 16);
  // Operands of varied values rather than zeros: a GPU multiplying zeros draws less power and may clock higher
  // than it will in training. Written where they are created (mapped), with no staging copy.
  const filled = (elements: number): GPUBuffer => {
    const buffer = device.createBuffer({ size: size(elements), usage, mappedAtCreation: true });
    const values = new Float32Array(buffer.getMappedRange());
    for (let i = 0; i < values.length; i++) values[i] = ((i * 37) % 251) / 251 - 0.5;
    buffer.unmap();
    return buffer;
  };
  const aRows = p.transA ? p.k : p.m;
  const bRows = p.transB ? p.n : p.k;
  const operands = [
    filled(operandElements(aRows, (p.m * p.k) / aRows, p.batch, p.aBatchStrides)),
    filled(operandElements(bRows, (p.k * p.n) / bRows, p.batch, p.bBatchStrides)),
  ];
  const buffers: GPUBuffer[] = [...operands];
  if (bare.bias) {
    const { rowStride, colStride } = bare.bias;
    buffers.push(
      device.createBuffer({ size: size(rowStride * (p.m - 1) + colStride * (p.n - 1) + 1), usage }),
    );
  }
  buffers.push(device.createBuffer({ size: size(numelOf(p.batch) * p.m * p.n), usage }));
  const ms: Record<string, number> = {};
  try {
    for (const tiling of PRODUCT_TILINGS) {
      const kernel = gemmKernel(bare, { tiling });
      const scratch = (kernel.scratchBytes ?? []).map((bytes) =>
        device.createBuffer({ size: size(bytes / 4), usage }),
      );
      device.pushErrorScope('validation');
      try {
        const timer = await kernelTimer(dev, kernel, [...buffers, ...scratch], tilingName(tiling));
        try {
          const first = await timer.time(1);
          const reps = Math.min(64, Math.max(1, Math.ceil(TARGET_MS / Math.max(first.ms, 1e-3))));
          let best = Infinity;
          for (let i = 0; i < TRIALS; i++) best = Math.min(best, (await timer.time(reps)).ms);
          ms[tilingName(tiling)] = best;
        } finally {
          timer.destroy();
        }
      } catch {
        // a tile this device cannot compile is simply not a candidate
      } finally {
        if (await device.popErrorScope()) delete ms[tilingName(tiling)];
        for (const b of scratch) b.destroy();
      }
    }
  } finally {
    for (const b of buffers) b.destroy();
  }
  return ms;
}

/** The fastest tiling, or the generator's own when none beats it by more than the noise. */
export function fastestTiling(p: GemmProblem, ms: Record<string, number>): Tiling {
  const fallback = chooseTiling(p);
  const mine = ms[tilingName(fallback)];
  let best: [string, number] | null = null;
  for (const [name, t] of Object.entries(ms)) if (!best || t < best[1]) best = [name, t];
  if (!best || (mine !== undefined && best[1] > MARGIN * mine)) return fallback;
  return tilingByName.get(best[0]) ?? fallback;
}

export interface ProductTuningReport {
  readonly adapter: string;
  /** Distinct products of the session. */
  readonly products: number;
  /** Of those, how many were timed now (the others came from the cache or from an earlier session). */
  readonly timed: number;
  /** How many run on a tile other than the generator's guess. */
  readonly changed: number;
  /** Wall-clock seconds the timing took. */
  readonly seconds: number;
  readonly cachePath: string | null;
}

export interface ProductTuning {
  readonly tilingFor: (p: GemmProblem) => Tiling | undefined;
  readonly report: ProductTuningReport;
}

/** Choices already made in this process: the step, micro-step, evaluation and sampling graphs share products. */
const known = new Map<string, TunedProduct>();

/**
 * Tiles for these products on this device: from this process's earlier sessions, else from the cache file, else
 * timed now (and then saved, merged with what another process may have saved meanwhile). `cachePath` null keeps
 * the choices in memory only.
 */
export function tuneProducts(
  dev: DawnDevice,
  problems: readonly GemmProblem[],
  cachePath: string | null,
): Promise<ProductTuning> {
  // One tuning at a time: sessions built together (a run's step and evaluation graphs) would time the same
  // products twice, each disturbing the other's timings; the second finds the first's choices instead.
  const next = tuning.then(() => tune(dev, problems, cachePath));
  tuning = next.catch(() => undefined);
  return next;
}
let tuning: Promise<unknown> = Promise.resolve();

async function tune(
  dev: DawnDevice,
  problems: readonly GemmProblem[],
  cachePath: string | null,
): Promise<ProductTuning> {
  const t0 = performance.now();
  const distinct = new Map<string, GemmProblem>();
  for (const p of problems) {
    const key = productKey(p);
    if (!distinct.has(key)) distinct.set(key, p);
  }
  const memo = (key: string) => `${dev.adapter}\n${key}`;
  let missing = [...distinct.keys()].filter((k) => !known.has(memo(k)));
  if (missing.length > 0 && cachePath) {
    const cached = (await readTuningCache(cachePath)).adapters[dev.adapter] ?? {};
    for (const k of missing)
      if (cached[k] && tilingByName.has(cached[k].tiling)) known.set(memo(k), cached[k]);
    missing = missing.filter((k) => !known.has(memo(k)));
  }
  const fresh: Record<string, TunedProduct> = {};
  for (const k of missing) {
    const p = distinct.get(k)!;
    const ms = await timeTilings(dev, p);
    const entry = {
      shape: describeProblem(p),
      tiling: tilingName(fastestTiling(p, ms)),
      generator: tilingName(chooseTiling(p)),
      ms,
    };
    fresh[k] = entry;
    known.set(memo(k), entry);
  }
  if (missing.length > 0 && cachePath) {
    const file = await readTuningCache(cachePath);
    file.adapters[dev.adapter] = { ...file.adapters[dev.adapter], ...fresh };
    try {
      await writeJsonAtomic(cachePath, file);
    } catch (e) {
      console.warn(
        `product tiles: cannot save ${cachePath} (${(e as Error).message}); they will be timed again`,
      );
    }
  }
  const tilingFor = (p: GemmProblem): Tiling | undefined => {
    const entry = known.get(memo(productKey(p)));
    return entry ? tilingByName.get(entry.tiling) : undefined;
  };
  let changed = 0;
  for (const [k, p] of distinct) if (known.get(memo(k))!.tiling !== tilingName(chooseTiling(p))) changed++;
  return {
    tilingFor,
    report: {
      adapter: dev.adapter,
      products: distinct.size,
      timed: missing.length,
      changed,
      seconds: (performance.now() - t0) / 1000,
      cachePath,
    },
  };
}

/** A run's log line about its tiles (DawnSession.note, bench:kernels --tuned). */
export const describeTuning = (r: ProductTuningReport): string =>
  `Matrix product tiles tuned for this GPU: ${r.products} products, ${r.changed} off the default ` +
  `(${r.timed > 0 ? `${r.timed} timed now, in ${r.seconds.toFixed(1)} s` : 'from the cache'}).`;

/** What `xai-link info` and the System page say about the product tiles on this adapter. */
export async function productTilesStatus(
  adapter: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (!productTuningEnabled(adapter, env))
    return env.XAI_LINK_DAWN_TUNE === '0'
      ? "matrix product tiles not tuned (XAI_LINK_DAWN_TUNE=0): the generator's guesses"
      : 'matrix product tiles not tuned on a software adapter (XAI_LINK_DAWN_TUNE=1 tunes them)';
  const path = tuningCachePath(env);
  const entries = Object.values((await readTuningCache(path)).adapters[adapter] ?? {});
  if (entries.length === 0) return 'matrix product tiles: timed on this GPU when it first trains';
  const changed = entries.filter((e) => e.tiling !== e.generator).length;
  return `matrix product tiles tuned on this GPU for ${entries.length} products, ${changed} off the default (${path})`;
}

/** Forgets this process's choices (tests: a second tuning then reads the file). */
export function forgetTunedProducts(): void {
  known.clear();
}
