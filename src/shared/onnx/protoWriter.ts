/**
 * A minimal protocol-buffers writer: just the wire types ONNX needs (varint, 32-bit, length-delimited).
 * Hand-written because a training graph carries megabytes of initializers and a generic reflection-based
 * encoder would copy them several times; here bytes are appended once into a growing buffer.
 */
const textEncoder = new TextEncoder();

export class ProtoWriter {
  #buf = new Uint8Array(1024);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Unsigned or non-negative varint; negative int64 values are written as 10-byte two's complement. */
  varint(value: number | bigint): this {
    let v = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
    if (v < 0n) v = (1n << 64n) + v;
    this.#reserve(10);
    if (v < 0x80000000n) {
      let n = Number(v);
      while (n > 0x7f) {
        this.#buf[this.#len++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.#buf[this.#len++] = n;
      return this;
    }
    while (v > 0x7fn) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
    return this;
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): this {
    return this.varint((field << 3) | wireType);
  }

  uint64Field(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  floatField(field: number, value: number): this {
    this.tag(field, 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#len, 4).setFloat32(0, value, true);
    this.#len += 4;
    return this;
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, 2).varint(bytes.length);
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, textEncoder.encode(value));
  }

  /** A nested message, written by `build` into its own writer and then embedded. */
  messageField(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    return this.bytesField(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytesField(field, bytes);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
