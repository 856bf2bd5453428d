/**
 * Reads a model's metadata_props (ModelProto field 14, key/value strings) from ONNX bytes without
 * decoding the graph: top-level fields are skipped by their length, so a large model costs one scan.
 * (onnxruntime-node does not expose custom metadata.)
 */
const decoder = new TextDecoder();

function readVarint(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated ONNX model');
    const byte = b[pos++]!;
    result += (byte & 0x7f) * shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift *= 128;
  }
}

function skipField(b: Uint8Array, pos: number, wire: number): number {
  if (wire === 0) return readVarint(b, pos)[1];
  if (wire === 1) return pos + 8;
  if (wire === 5) return pos + 4;
  if (wire === 2) {
    const [len, p] = readVarint(b, pos);
    return p + len;
  }
  throw new Error(`unsupported protobuf wire type ${wire}`);
}

export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < bytes.length) {
    const [tag, p] = readVarint(bytes, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 14 && wire === 2) {
      const [len, start] = readVarint(bytes, p);
      const end = start + len;
      let key = '';
      let value = '';
      let q = start;
      while (q < end) {
        const [t, q1] = readVarint(bytes, q);
        if ((t & 7) !== 2) {
          q = skipField(bytes, q1, t & 7);
          continue;
        }
        const [l, s] = readVarint(bytes, q1);
        const text = decoder.decode(bytes.subarray(s, s + l));
        if (t >>> 3 === 1) key = text;
        else if (t >>> 3 === 2) value = text;
        q = s + l;
      }
      out[key] = value;
      pos = end;
    } else {
      pos = skipField(bytes, p, wire);
    }
  }
  return out;
}
