/**
 * A restricted reader of Python pickles (protocols 0–5), for files that are untrusted input: nanoGPT's
 * ckpt.pt (inside PyTorch's ZIP) and meta.pkl. Like `torch.load(weights_only=True)` it builds only
 * data: dicts, lists, tuples, numbers, strings, bytes, None, booleans, and the few globals a caller
 * allows (PyTorch's tensor rebuilders and storage types, OrderedDict). Any other global — `os.system`,
 * `builtins.eval`, a class to instantiate — is refused with an error naming it, before anything is
 * called: nothing in the file ever runs.
 *
 * Python values map to: dict → Map (keys may be ints), list → array, tuple → PyTuple (an array),
 * int → number (bigint beyond 2^53), float → number, str → string, bytes → Uint8Array.
 */

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** A Python tuple (kept apart from lists only by its class). */
export class PyTuple extends Array<unknown> {}

/** What a caller makes of an allowed global: called with REDUCE's / NEWOBJ's arguments. */
export type GlobalFactory = (args: unknown[]) => unknown;

export interface UnpickleOptions {
  /** Allowed globals by "module.name" (everything else is refused). */
  globals?: Record<string, GlobalFactory>;
  /** BINPERSID / PERSID: the persistent id (PyTorch's storage tuples). Refused when absent. */
  persistentLoad?: (pid: unknown) => unknown;
}

/** An allowed global, on the stack until REDUCE / NEWOBJ calls it (or passed as a value, as PyTorch's storage types are). */
export class Global {
  readonly qualified: string;
  readonly make: GlobalFactory;
  constructor(qualified: string, make: GlobalFactory) {
    this.qualified = qualified;
    this.make = make;
  }
}

function tuple(items: unknown[]): PyTuple {
  const t = new PyTuple();
  for (const x of items) t.push(x);
  return t;
}

/** Python's dict keys: ints, strings, tuples of those (compared by value). */
function dictKey(k: unknown): unknown {
  if (typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean' || k === null) return k;
  if (typeof k === 'bigint') return Number.isSafeInteger(Number(k)) ? Number(k) : k;
  if (k instanceof PyTuple) return JSON.stringify(k);
  throw new PickleError(`unsupported dict key of type ${typeof k}`);
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function unpickle(data: Uint8Array, opts: UnpickleOptions = {}): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const allowed = opts.globals ?? {};
  let p = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (p + n > data.length) throw new PickleError('truncated pickle');
  };
  const u8 = () => (need(1), data[p++]!);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(data.length)) throw new PickleError('truncated pickle');
    return Number(v);
  };
  const bytes = (n: number) => {
    need(n);
    p += n;
    return data.subarray(p - n, p);
  };
  const line = () => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) throw new PickleError('truncated pickle');
    const s = new TextDecoder('latin1').decode(data.subarray(p, end));
    p = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array) => {
    try {
      return textDecoder.decode(b);
    } catch {
      throw new PickleError('a string is not valid UTF-8');
    }
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks.at(-1)!))
      throw new PickleError('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError('no MARK on the stack');
    return stack.splice(m);
  };
  const lookupGlobal = (module: string, name: string) => {
    const q = `${module}.${name}`;
    const make = allowed[q];
    if (!make)
      throw new PickleError(
        `refusing to load global ${q}: the file asks to run code, which a checkpoint never needs (only tensors, numbers, strings and containers are read)`,
      );
    return new Global(q, make);
  };
  const call = (fn: unknown, args: unknown) => {
    if (!(fn instanceof Global)) throw new PickleError('REDUCE on something that is not an allowed global');
    if (!Array.isArray(args)) throw new PickleError(`arguments of ${fn.qualified} are not a tuple`);
    return fn.make([...args]);
  };
  const intOf = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw new PickleError('SETITEM on something that is not a dict');
    if (items.length % 2 !== 0) throw new PickleError('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.set(dictKey(items[i]), items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || target instanceof PyTuple)
      throw new PickleError('APPEND on something that is not a list');
    for (const x of items) target.push(x);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME
        p += 8;
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError('malformed pickle (stack at STOP)');
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const x = pop();
        appendItems(top(), [x]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x90: {
        // ADDITEMS (sets read as lists)
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(intOf(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) throw new PickleError('negative LONG4 length');
        stack.push(intOf(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): also True/False as 01/00
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else {
          const n = Number(s);
          if (!Number.isInteger(n)) throw new PickleError(`bad INT ${s.slice(0, 20)}`);
          stack.push(n);
        }
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^-?\d+$/.test(s)) throw new PickleError(`bad LONG ${s.slice(0, 20)}`);
        const v = BigInt(s);
        stack.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const n = Number(line());
        stack.push(n);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(bytes(u64())));
        break;
      case 0x54: // BINSTRING (py2 str: latin-1)
        stack.push(new TextDecoder('latin1').decode(bytes(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()).slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) throw new PickleError(`memo ${k} is not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(lookupGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw new PickleError('STACK_GLOBAL needs two strings');
        stack.push(lookupGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: the state of an object built from an allowed global (OrderedDict's __dict__, e.g.
        // state_dict's _metadata) carries nothing this reader needs
        pop();
        top();
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad)
          throw new PickleError('the pickle references external data (persistent id)');
        stack.push(opts.persistentLoad(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!opts.persistentLoad)
          throw new PickleError('the pickle references external data (persistent id)');
        stack.push(opts.persistentLoad(pid));
        break;
      }
      case 0x30: // POP
        if (marks.length > 0 && marks.at(-1) === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x69: // INST: instantiates a class by name
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new PickleError(
          `refusing pickle opcode 0x${op.toString(16)} (it instantiates classes or extensions)`,
        );
      default:
        throw new PickleError(`unknown pickle opcode 0x${op.toString(16)} at byte ${p - 1}`);
    }
  }
}

/** A field of a pickled dict (Map), or undefined. */
export function field(d: unknown, key: string | number): unknown {
  return d instanceof Map ? d.get(key) : undefined;
}

/** The global "collections.OrderedDict": an empty dict that SETITEMS fills. */
export const orderedDictGlobal: Record<string, GlobalFactory> = {
  'collections.OrderedDict': () => new Map(),
};
