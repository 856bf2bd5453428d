import { closeSync, existsSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  presets,
  runConfigSchema,
  type ResolvedModelConfig,
  type RunConfig,
} from '../../shared/engine/config.ts';
import { gptParamLayout } from '../engine/gpt.ts';
import { halfToFloat } from './torchFile.ts';
import { freshGeneratorState, type ImportedModel } from './nanoGptCheckpoint.ts';
import { openRegularFile, readUserFile, UserFileError } from '../util/readUserFile.ts';

/**
 * Hugging Face GPT-2 weights (model.safetensors + config.json of gpt2, gpt2-medium, -large, -xl) into
 * nanoGPT's layout, as nanoGPT's GPT.from_pretrained does: names without the `transformer.` prefix get
 * it, the attention-mask buffers are skipped, and the Conv1D weights (attn.c_attn, attn.c_proj,
 * mlp.c_fc, mlp.c_proj: stored [in, out]) are transposed to Linear's [out, in]. Tensors are read one by
 * one straight into the flat parameter vector (memory ≈ the model once, plus one tensor for transposes).
 */

export class HfImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HfImportError';
  }
}

const TRANSPOSED = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'];
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/** config.json of a GPT-2 checkpoint → the engine's model config (GPT-2 uses biases everywhere). */
export function modelFromHfConfig(path: string): ResolvedModelConfig {
  let text: string;
  try {
    text = readUserFile(path, MAX_CONFIG_BYTES, "a GPT-2 checkpoint's config.json").toString('utf8');
  } catch (e) {
    if (e instanceof UserFileError) throw new HfImportError(e.message);
    throw e;
  }
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new HfImportError(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (c.model_type !== undefined && c.model_type !== 'gpt2')
    throw new HfImportError(
      `${path} describes a ${String(c.model_type)} model; only GPT-2 (model_type "gpt2") imports`,
    );
  const int = (k: string, fallback?: unknown) => {
    const v = c[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
      throw new HfImportError(`${path}: ${k} is missing or not a whole number`);
    return v;
  };
  const model = {
    nLayer: int('n_layer'),
    nHead: int('n_head'),
    nEmbd: int('n_embd'),
    blockSize: int('n_positions', c.n_ctx),
    vocabSize: int('vocab_size'),
    dropout: 0,
    bias: true,
  };
  if (model.nEmbd % model.nHead !== 0) throw new HfImportError(`${path}: n_embd is not divisible by n_head`);
  return model;
}

/** nanoGPT's fine-tuning settings (config/finetune_shakespeare.py) for a run that starts from GPT-2. */
export function finetuneConfig(model: ResolvedModelConfig): RunConfig {
  return runConfigSchema.parse({
    preset: null,
    model,
    train: {
      ...presets['gpt2-small'].train,
      batchSize: 1,
      gradAccumSteps: 32,
      maxIters: 20,
      learningRate: 3e-5,
      minLr: 3e-6,
      warmupIters: 0,
      decayLr: false,
      evalInterval: 5,
      evalIters: 40,
    },
  });
}

/** Reads model.safetensors (with config.json beside it, or at `configPath`). */
export function readHfGpt2(path: string, configPath?: string): ImportedModel {
  const cfgPath = configPath ?? join(dirname(path), 'config.json');
  if (!existsSync(cfgPath))
    throw new HfImportError(`no config.json next to ${path}: pass the model's config.json (--config)`);
  const model = modelFromHfConfig(cfgPath);
  const layout = gptParamLayout(model);
  const params = new Float32Array(layout.total);
  const { fd, size } = openRegularFile(path, 'a .safetensors file');
  const dtypes = new Set<string>();
  try {
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8)
      throw new HfImportError(`${path}: not a safetensors file`);
    const headerLen = Number(lenBuf.readBigUInt64LE());
    if (headerLen <= 0 || headerLen > 100 << 20 || 8 + headerLen > size)
      throw new HfImportError(`${path}: not a safetensors file (bad header length)`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new HfImportError(`${path}: not a safetensors file (bad header)`);
    }
    const base = 8 + headerLen;
    const seen = new Set<string>();
    let scratch = new Uint8Array(0);
    for (const [rawName, raw] of Object.entries(header)) {
      if (rawName === '__metadata__') continue;
      const name = rawName.startsWith('transformer.') ? rawName : `transformer.${rawName}`;
      if (/\.attn\.(bias|masked_bias)$/.test(name) || rawName === 'lm_head.weight') continue;
      const e = raw as Entry;
      const spec = layout.byName.get(name);
      if (!spec)
        throw new HfImportError(`${path}: unexpected tensor ${rawName} for a GPT-2 of this config.json`);
      const bytesPer = BYTES[e.dtype];
      if (!bytesPer) throw new HfImportError(`${path}: ${rawName} is ${e.dtype}; F32, F16 and BF16 import`);
      dtypes.add(e.dtype);
      const transposed = TRANSPOSED.some((s) => name.endsWith(s));
      const want = transposed ? [spec.shape[1]!, spec.shape[0]!] : spec.shape;
      if (!Array.isArray(e.shape) || e.shape.join(',') !== want.join(','))
        throw new HfImportError(`${path}: ${rawName} has shape [${e.shape}], config.json gives [${want}]`);
      const [begin, end] = e.data_offsets;
      if (end - begin !== spec.size * bytesPer || base + end > size)
        throw new HfImportError(`${path}: ${rawName} lies outside the file (truncated?)`);
      const dest = params.subarray(spec.offset, spec.offset + spec.size);
      const direct = e.dtype === 'F32' && !transposed;
      if (!direct && scratch.length < end - begin) scratch = new Uint8Array(end - begin);
      const bytes = direct
        ? new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength)
        : scratch.subarray(0, end - begin);
      readFully(fd, bytes, base + begin, path);
      if (direct) {
        seen.add(name);
        continue;
      }
      const values =
        e.dtype === 'F32' ? new Float32Array(bytes.buffer, 0, spec.size) : toFloat32(e.dtype, bytes);
      if (transposed) {
        const [rows, cols] = [want[0]!, want[1]!]; // [in, out] → dest [out, in]
        transposeInto(values, rows, cols, dest);
      } else dest.set(values);
      seen.add(name);
    }
    const missing = layout.specs.filter((s) => !seen.has(s.name));
    if (missing.length > 0)
      throw new HfImportError(
        `${path} lacks ${missing[0]!.name}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`,
      );
  } finally {
    closeSync(fd);
  }
  const config = finetuneConfig(model);
  return {
    model,
    config,
    hasOptimizer: false,
    datasetName: null,
    notes: [`Hugging Face GPT-2 weights (${[...dtypes].join('/')}), Conv1D weights transposed`],
    state: {
      step: 0,
      params,
      m: new Float32Array(0),
      v: new Float32Array(0),
      rngState: freshGeneratorState(config.train.seed),
      pendingBatch: null,
      bestValLoss: null,
      trainLoss: null,
      valLoss: null,
      tokensSeen: 0,
      elapsedMs: 0,
    },
  };
}

/** dest[c][r] = src[r][c], in 32×32 tiles (a naive loop misses the cache on every write). */
function transposeInto(src: Float32Array, rows: number, cols: number, dest: Float32Array): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) dest[c * rows + r] = src[row + c]!;
      }
    }
  }
}

function readFully(fd: number, dest: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < dest.length) {
    const n = readSync(fd, dest, done, Math.min(dest.length - done, 1 << 30), position + done);
    if (n <= 0) throw new HfImportError(`${path}: unexpected end of file`);
    done += n;
  }
}

function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  const n = bytes.length / 2;
  const out = new Float32Array(n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = v.getUint16(i * 2, true) << 16;
  } else for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
  return out;
}
