/**
 * A minimal, strict protocol-buffers reader: the counterpart of protoWriter.ts, for reading ONNX models
 * that come from elsewhere (IPFS) before ONNX Runtime sees them. Strict means every malformed input is an
 * error that says where: a varint longer than 10 bytes, a length that runs past the end of its message,
 * a truncated fixed-width value, wire types 3/4 (groups, never used by ONNX) or 6/7 (invalid), field 0.
 * Length-delimited values are returned as views (no copy), so reading a model of hundreds of megabytes
 * costs no more than walking its fields.
 */

export class ProtoError extends Error {
  /** Byte offset in the whole buffer where the problem is. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'ProtoError';
    this.offset = offset;
  }
}

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireTypeCode = (typeof WireType)[keyof typeof WireType];

/** One field of a message: its number, its wire type and its value. */
export type ProtoField =
  | { field: number; wireType: 0; value: bigint; offset: number }
  | { field: number; wireType: 1; value: Uint8Array; offset: number }
  | { field: number; wireType: 2; value: Uint8Array; offset: number }
  | { field: number; wireType: 5; value: Uint8Array; offset: number };

const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ProtoReader {
  readonly #buf: Uint8Array;
  /** Offset of `#buf[0]` in the outermost buffer, for error messages. */
  readonly #base: number;
  #pos = 0;

  constructor(bytes: Uint8Array, baseOffset = 0) {
    this.#buf = bytes;
    this.#base = baseOffset;
  }

  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }

  /** The absolute offset (in the outermost buffer) of a position in this reader. */
  absolute(pos = this.#pos): number {
    return this.#base + pos;
  }

  /** A reader over a length-delimited value returned by `next()`, keeping absolute offsets in errors. */
  sub(field: { value: Uint8Array; offset: number }): ProtoReader {
    return new ProtoReader(field.value, field.offset);
  }

  /** Reads one bare varint (as in a packed run); `next()` reads keys and values itself. */
  varint(): bigint {
    const start = this.#pos;
    const buf = this.#buf;
    // Fast path: up to 4 bytes fit in 28 bits.
    let small = 0;
    for (let i = 0; i < 4; i++) {
      if (this.#pos >= buf.length) throw new ProtoError('truncated varint', this.absolute(start));
      const b = buf[this.#pos++]!;
      small |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return BigInt(small >>> 0);
    }
    let value = BigInt(small >>> 0);
    for (let i = 4; i < 10; i++) {
      if (this.#pos >= buf.length) throw new ProtoError('truncated varint', this.absolute(start));
      const b = buf[this.#pos++]!;
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        if (value >= TWO_64) throw new ProtoError('varint does not fit in 64 bits', this.absolute(start));
        return value;
      }
    }
    throw new ProtoError('varint longer than 10 bytes', this.absolute(start));
  }

  #take(n: number, what: string): Uint8Array {
    const start = this.#pos;
    if (n > this.#buf.length - this.#pos) {
      throw new ProtoError(
        `${what}: needs ${n} bytes but only ${this.#buf.length - this.#pos} remain (truncated or corrupt)`,
        this.absolute(start),
      );
    }
    this.#pos += n;
    return this.#buf.subarray(start, start + n);
  }

  /** The next field, or null at the end of the message. */
  next(): ProtoField | null {
    if (this.done) return null;
    const offset = this.absolute();
    const key = this.varint();
    if (key > 0xffffffffn) throw new ProtoError('field key out of range', offset);
    const k = Number(key);
    const field = k >>> 3;
    const wireType = k & 7;
    if (field === 0) throw new ProtoError('field number 0 is invalid', offset);
    switch (wireType) {
      case WireType.VARINT:
        return { field, wireType, value: this.varint(), offset };
      case WireType.I64:
        return { field, wireType, value: this.#take(8, `field ${field} (64-bit)`), offset };
      case WireType.LEN: {
        const lenAt = this.absolute();
        const len = this.varint();
        if (len > BigInt(this.#buf.length - this.#pos)) {
          throw new ProtoError(
            `field ${field}: declared length ${len} runs past the end of its message (${this.#buf.length - this.#pos} bytes left)`,
            lenAt,
          );
        }
        const valueOffset = this.absolute();
        return { field, wireType, value: this.#take(Number(len), `field ${field}`), offset: valueOffset };
      }
      case WireType.I32:
        return { field, wireType, value: this.#take(4, `field ${field} (32-bit)`), offset };
      default:
        throw new ProtoError(`field ${field}: unsupported wire type ${wireType}`, offset);
    }
  }

  /** Iterates over every field of the message. */
  *fields(): Generator<ProtoField> {
    for (let f = this.next(); f !== null; f = this.next()) yield f;
  }
}

// ---- value helpers ---------------------------------------------------------------------------------

/** A varint field's value as a non-negative safe integer (throws above 2^53 − 1). */
export function asUint(f: ProtoField, what: string): number {
  if (f.wireType !== WireType.VARINT)
    throw new ProtoError(`${what}: expected a varint, got wire type ${f.wireType}`, f.offset);
  if (f.value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ProtoError(`${what}: ${f.value} is too large`, f.offset);
  return Number(f.value);
}

/** A varint field's value as a signed int64 (two's complement), as a number; throws outside ±2^53. */
export function asInt64(f: ProtoField, what: string): number {
  if (f.wireType !== WireType.VARINT)
    throw new ProtoError(`${what}: expected a varint, got wire type ${f.wireType}`, f.offset);
  return int64ToNumber(f.value, what, f.offset);
}

function int64ToNumber(raw: bigint, what: string, offset: number): number {
  const v = raw >= TWO_63 ? raw - TWO_64 : raw;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ProtoError(`${what}: ${v} is out of the safe integer range`, offset);
  }
  return Number(v);
}

export function asBytes(f: ProtoField, what: string): Uint8Array {
  if (f.wireType !== WireType.LEN)
    throw new ProtoError(`${what}: expected bytes, got wire type ${f.wireType}`, f.offset);
  return f.value;
}

export function asString(f: ProtoField, what: string): string {
  const bytes = asBytes(f, what);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtoError(`${what}: not valid UTF-8`, f.offset);
  }
}

export function asFloat32(f: ProtoField, what: string): number {
  if (f.wireType !== WireType.I32)
    throw new ProtoError(`${what}: expected a 32-bit float, got wire type ${f.wireType}`, f.offset);
  return new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true);
}

/**
 * A repeated signed int64 field, packed (one LEN field) or not (one VARINT per element): proto3 readers
 * must accept both. Appends to `out`.
 */
export function pushInt64s(f: ProtoField, out: number[], what: string): void {
  if (f.wireType === WireType.VARINT) {
    out.push(asInt64(f, what));
    return;
  }
  const r = new ProtoReader(asBytes(f, what), f.offset);
  // A packed run is a bare sequence of varints.
  while (!r.done) {
    const at = r.absolute();
    out.push(int64ToNumber(r.varint(), what, at));
  }
}

/** A repeated float field, packed or not. Appends to `out`. */
export function pushFloats(f: ProtoField, out: number[], what: string): void {
  if (f.wireType === WireType.I32) {
    out.push(asFloat32(f, what));
    return;
  }
  const bytes = asBytes(f, what);
  if (bytes.length % 4 !== 0)
    throw new ProtoError(`${what}: packed floats of ${bytes.length} bytes`, f.offset);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < bytes.length; i += 4) out.push(view.getFloat32(i, true));
}
