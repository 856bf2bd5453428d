import { PyTuple } from './pickle.ts';

/**
 * A pickle writer (protocol 2, what torch.save writes) for the values of a checkpoint: None, booleans,
 * ints, floats (PyFloat keeps 1.0 a float), strings, lists, tuples (PyTuple), dicts (Map or plain
 * objects), OrderedDicts, and PyTorch tensors (TensorOut), pickled as torch.save does:
 * `torch._utils._rebuild_tensor_v2((storage persistent id), offset, size, stride, False, OrderedDict())`
 * with the persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)`. The storages' bytes are
 * the caller's to write (one ZIP entry per key).
 */

export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export class PyOrderedDict {
  readonly entries: [string, unknown][];
  constructor(entries: [string, unknown][]) {
    this.entries = entries;
  }
}

/** A float32 tensor over (part of) a storage. */
export class TensorOut {
  readonly storageKey: string;
  readonly storageNumel: number;
  readonly offset: number;
  readonly shape: number[];
  constructor(storageKey: string, storageNumel: number, shape: number[], offset = 0) {
    this.storageKey = storageKey;
    this.storageNumel = storageNumel;
    this.shape = shape;
    this.offset = offset;
  }
}

class Out {
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  #ensure(n: number) {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  byte(b: number) {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }
  bytes(b: Uint8Array) {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  u16(v: number) {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }
  i32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.bytes(b);
  }
  result(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

const enc = new TextEncoder();
/** Stands for the global torch.FloatStorage in a storage's persistent id. */
const STORAGE_MARK = Symbol('torch.FloatStorage');

export function pickle(value: unknown): Uint8Array {
  const o = new Out();
  o.byte(0x80);
  o.byte(2); // PROTO 2
  const global = (module: string, name: string) => {
    o.byte(0x63);
    o.bytes(enc.encode(`${module}\n${name}\n`));
  };
  const int = (v: number) => {
    if (v >= 0 && v < 256) {
      o.byte(0x4b); // BININT1
      o.byte(v);
    } else if (v >= 0 && v < 65536) {
      o.byte(0x4d); // BININT2
      o.u16(v);
    } else if (v >= -(2 ** 31) && v < 2 ** 31) {
      o.byte(0x4a); // BININT
      o.i32(v);
    } else {
      // LONG1: little-endian two's complement
      let x = BigInt(v);
      const bytes: number[] = [];
      while (x !== 0n && x !== -1n) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
      }
      const neg = v < 0;
      if (bytes.length === 0 || ((bytes.at(-1)! & 0x80) !== 0) !== neg) bytes.push(neg ? 0xff : 0);
      o.byte(0x8a);
      o.byte(bytes.length);
      o.bytes(Uint8Array.from(bytes));
    }
  };
  const float = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    o.byte(0x47);
    o.bytes(b);
  };
  const str = (s: string) => {
    const b = enc.encode(s);
    o.byte(0x58);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length, true);
    o.bytes(len);
    o.bytes(b);
  };
  const tuple = (items: unknown[]) => {
    o.byte(0x28); // MARK
    for (const x of items) write(x);
    o.byte(0x74); // TUPLE
  };
  const dictItems = (entries: Iterable<[unknown, unknown]>) => {
    o.byte(0x28);
    for (const [k, v] of entries) {
      write(k);
      write(v);
    }
    o.byte(0x75); // SETITEMS
  };
  const write = (v: unknown): void => {
    if (v === null || v === undefined) o.byte(0x4e);
    else if (v === true) o.byte(0x88);
    else if (v === false) o.byte(0x89);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) int(v);
      else float(v);
    } else if (v instanceof PyFloat) float(v.value);
    else if (typeof v === 'string') str(v);
    else if (v instanceof PyTuple) tuple([...v]);
    else if (Array.isArray(v)) {
      o.byte(0x5d); // EMPTY_LIST
      if (v.length > 0) {
        o.byte(0x28);
        for (const x of v) write(x);
        o.byte(0x65); // APPENDS
      }
    } else if (v instanceof TensorOut) {
      global('torch._utils', '_rebuild_tensor_v2');
      o.byte(0x28);
      tuple(['storage', STORAGE_MARK, v.storageKey, 'cpu', v.storageNumel]);
      o.byte(0x51); // BINPERSID
      int(v.offset);
      tuple(v.shape);
      const stride = v.shape.map((_, i) => v.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      tuple(stride);
      o.byte(0x89); // requires_grad False
      write(new PyOrderedDict([])); // backward hooks
      o.byte(0x74);
      o.byte(0x52); // REDUCE
    } else if (v === STORAGE_MARK) global('torch', 'FloatStorage');
    else if (v instanceof PyOrderedDict) {
      global('collections', 'OrderedDict');
      o.byte(0x29); // EMPTY_TUPLE
      o.byte(0x52);
      if (v.entries.length > 0) dictItems(v.entries);
    } else if (v instanceof Map) {
      o.byte(0x7d);
      if (v.size > 0) dictItems(v.entries());
    } else if (typeof v === 'object') {
      o.byte(0x7d);
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length > 0) dictItems(entries);
    } else throw new Error(`pickle: cannot write a ${typeof v}`);
  };
  write(value);
  o.byte(0x2e); // STOP
  return o.result();
}
