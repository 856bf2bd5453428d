import { Global, PickleError, PyTuple, orderedDictGlobal, unpickle, type GlobalFactory } from './pickle.ts';
import { ZipError, ZipReader } from './zip.ts';

/**
 * PyTorch's checkpoint file (torch.save, the ZIP format of torch ≥ 1.6, as 1.13 and 2.x write it):
 * `<folder>/data.pkl` — the pickled object, whose tensors name their storages by persistent ids —
 * `<folder>/data/<key>` — each storage's raw little-endian bytes — and `<folder>/version`,
 * `<folder>/byteorder` (2.x). The folder's name varies (the file's stem when saved). Tensors are read
 * lazily: the pickle gives each one's storage, offset, shape and strides, and `readTensor` copies the
 * values straight from the file into a float32 destination.
 */

export type TorchDtype =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export const DTYPE_BYTES: Record<TorchDtype, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface StorageRef {
  key: string;
  dtype: TorchDtype;
  /** Elements in the storage. */
  numel: number;
}

/** A tensor of the checkpoint, not yet read. */
export class TorchTensor {
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
  constructor(storage: StorageRef, offset: number, shape: number[], stride: number[]) {
    this.storage = storage;
    this.offset = offset;
    this.shape = shape;
    this.stride = stride;
  }
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export class TorchFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchFileError';
  }
}

const intList = (x: unknown, what: string): number[] => {
  if (!Array.isArray(x) || !x.every((v) => Number.isSafeInteger(v) && (v as number) >= 0))
    throw new PickleError(`${what} is not a list of sizes`);
  return x as number[];
};

function rebuildTensor(args: unknown[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Object) || !('key' in (storage as object)))
    throw new PickleError('a tensor without a storage');
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new PickleError('bad tensor offset');
  const shape = intList(size, 'tensor size');
  const strides = intList(stride, 'tensor stride');
  if (strides.length !== shape.length) throw new PickleError('tensor size and stride differ in length');
  const t = new TorchTensor(storage as StorageRef, offset as number, shape, strides);
  if (t.numel > 0) {
    const last = t.offset + shape.reduce((a, n, i) => a + (n - 1) * strides[i]!, 0);
    if (last >= t.storage.numel) throw new PickleError('a tensor reaches past the end of its storage');
  }
  return t;
}

/** The globals torch.load(weights_only=True) allows that a model checkpoint uses. */
function torchGlobals(): Record<string, GlobalFactory> {
  const g: Record<string, GlobalFactory> = {
    ...orderedDictGlobal,
    'torch._utils._rebuild_tensor_v2': rebuildTensor,
    'torch._utils._rebuild_tensor': rebuildTensor,
    'torch._utils._rebuild_parameter': (args) => args[0],
    'torch._utils._rebuild_parameter_with_state': (args) => args[0],
    // protocol 2 pickles bytes as _codecs.encode(text, 'latin1')
    '_codecs.encode': (args) => {
      const [text, encoding] = args;
      if (typeof text !== 'string') throw new PickleError('_codecs.encode of a non-string');
      if (encoding !== 'latin1' && encoding !== 'latin-1') return new TextEncoder().encode(text);
      return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    },
  };
  for (const name of Object.keys(STORAGE_DTYPES)) g[`torch.${name}`] = () => name;
  for (const d of Object.keys(DTYPE_BYTES)) g[`torch.${d}`] = () => d;
  return g;
}

/** An open PyTorch checkpoint: the unpickled object and reads of its tensors. */
export class TorchFile {
  readonly #zip: ZipReader;
  readonly #prefix: string;
  readonly root: unknown;

  constructor(path: string) {
    let zip: ZipReader;
    try {
      zip = new ZipReader(path);
    } catch (e) {
      if (e instanceof ZipError)
        throw new TorchFileError(
          `${path} is not a PyTorch checkpoint of the ZIP format (torch.save since PyTorch 1.6): ${e.message}`,
        );
      throw e;
    }
    this.#zip = zip;
    try {
      const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
      if (!pkl) throw new TorchFileError(`${path} has no data.pkl: not a PyTorch checkpoint`);
      this.#prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
      const storages = new Map<string, StorageRef>();
      this.root = unpickle(zip.read(pkl), {
        globals: torchGlobals(),
        persistentLoad: (pid) => {
          // ('storage', storage_type, key, location, numel)
          const t = pid instanceof PyTuple ? pid : null;
          const type = t?.[0] === 'storage' ? t[1] : null;
          const dtype =
            type instanceof Global ? STORAGE_DTYPES[type.qualified.replace(/^torch\./, '')] : undefined;
          if (!t || !dtype) throw new PickleError('a persistent id that is not a tensor storage');
          const key = String(t[2]);
          const numel = t[4];
          if (!Number.isSafeInteger(numel) || (numel as number) < 0)
            throw new PickleError('bad storage size');
          const known = storages.get(key);
          if (known) return known;
          const entry = zip.entries.get(`${this.#prefix}data/${key}`);
          const ref: StorageRef = { key, dtype, numel: numel as number };
          if (!entry || entry.size < ref.numel * DTYPE_BYTES[ref.dtype])
            throw new TorchFileError(`${path}: storage ${key} is missing or shorter than its tensors`);
          storages.set(key, ref);
          return ref;
        },
      });
    } catch (e) {
      zip.close();
      if (e instanceof PickleError) throw new TorchFileError(`${path}: ${e.message}`);
      throw e;
    }
  }

  /**
   * The tensor's values as float32 in `dest` (length = numel), converted from fp16/bf16/fp64/ints,
   * in row-major order whatever its strides. Contiguous float32 tensors are read straight into `dest`.
   */
  readTensor(t: TorchTensor, dest: Float32Array): void {
    const n = t.numel;
    if (dest.length !== n)
      throw new TorchFileError(`readTensor: destination holds ${dest.length}, tensor ${n}`);
    if (n === 0) return;
    const bytesPer = DTYPE_BYTES[t.dtype];
    const name = `${this.#prefix}data/${t.storage.key}`;
    if (isContiguous(t)) {
      if (t.dtype === 'float32') {
        this.#zip.readInto(name, t.offset * 4, new Uint8Array(dest.buffer, dest.byteOffset, n * 4));
        return;
      }
      // convert in chunks (a bounded scratch buffer, never a copy of the whole tensor)
      const chunk = Math.min(n, 1 << 20);
      const scratch = new Uint8Array(chunk * bytesPer);
      for (let i = 0; i < n; i += chunk) {
        const k = Math.min(chunk, n - i);
        const part = scratch.subarray(0, k * bytesPer);
        this.#zip.readInto(name, (t.offset + i) * bytesPer, part);
        convert(t.dtype, part, dest.subarray(i, i + k));
      }
      return;
    }
    // strided: read the span it covers, then gather
    const span = t.shape.reduce((a, s, i) => a + (s - 1) * t.stride[i]!, 0) + 1;
    const raw = new Uint8Array(span * bytesPer);
    this.#zip.readInto(name, t.offset * bytesPer, raw);
    const all = new Float32Array(span);
    convert(t.dtype, raw, all);
    const idx = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let d = 0; d < idx.length; d++) off += idx[d]! * t.stride[d]!;
      dest[i] = all[off]!;
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
  }

  /** A scalar tensor's value (e.g. nanoGPT's best_val_loss, AdamW's step). */
  scalar(t: TorchTensor): number {
    const out = new Float32Array(t.numel);
    if (t.numel !== 1) throw new TorchFileError('expected a one-element tensor');
    if (t.dtype === 'int64') {
      const raw = new Uint8Array(8);
      this.#zip.readInto(`${this.#prefix}data/${t.storage.key}`, t.offset * 8, raw);
      return Number(new DataView(raw.buffer).getBigInt64(0, true));
    }
    this.readTensor(t, out);
    return out[0]!;
  }

  close(): void {
    this.#zip.close();
  }
}

function isContiguous(t: TorchTensor): boolean {
  let expect = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expect) return false;
    expect *= t.shape[d]!;
  }
  return true;
}

/** Little-endian raw values of `dtype` → float32. */
function convert(dtype: TorchDtype, raw: Uint8Array, out: Float32Array): void {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = out.length;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      return;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
      return;
    case 'bfloat16': {
      const u = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) u[i] = v.getUint16(i * 2, true) << 16;
      return;
    }
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
      return;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(i * 8, true));
      return;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, true);
      return;
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, true);
      return;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      return;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i);
      return;
  }
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
