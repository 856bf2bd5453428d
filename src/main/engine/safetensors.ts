import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openRegularFile } from '../util/readUserFile.ts';

/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}},
 * padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
 */

export type SafeDtype = 'F32' | 'I64' | 'I32' | 'U8';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

interface HeaderEntry {
  dtype: SafeDtype;
  shape: number[];
  data_offsets: [number, number];
}

const elemBytes: Record<SafeDtype, number> = { F32: 4, I64: 8, I32: 4, U8: 1 };

/**
 * Writes a safetensors file atomically: a temp file in the same directory, written tensor by tensor
 * (no concatenated copy of the data), fsync, rename over the target, fsync of the directory. A crash
 * at any point leaves the previous file intact.
 */
export function writeSafetensorsAtomic(
  path: string,
  tensors: Record<string, SafeTensor>,
  metadata: Record<string, string> = {},
): void {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * elemBytes[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  const rawLen = Buffer.byteLength(json);
  json += ' '.repeat((8 - (rawLen % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(headerBytes.length));

  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, lenBuf);
    writeAll(fd, headerBytes);
    for (const name of names) {
      const d = tensors[name]!.data;
      writeAll(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (process.platform !== 'win32') {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Record<string, SafeTensor>;
}

/** Reads a whole safetensors file, checking that every tensor lies inside the file. */
export function readSafetensors(
  path: string,
  opts: { only?: (name: string) => boolean } = {},
): SafetensorsFile {
  const { fd, size } = openRegularFile(path, 'a .safetensors checkpoint');
  try {
    if (size < 8) throw new Error(`${path}: not a safetensors file (too short)`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE());
    if (headerLen <= 0 || 8 + headerLen > size)
      throw new Error(`${path}: not a safetensors file (bad header length)`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    const header = JSON.parse(headerBuf.toString('utf8')) as Record<
      string,
      HeaderEntry | Record<string, string>
    >;
    const base = 8 + headerLen;
    const out: SafetensorsFile = {
      metadata: (header.__metadata__ as Record<string, string>) ?? {},
      tensors: {},
    };
    for (const [name, e] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      if (opts.only && !opts.only(name)) continue;
      const entry = e as HeaderEntry;
      const [begin, end] = entry.data_offsets;
      const bytesPer = elemBytes[entry.dtype];
      if (bytesPer === undefined) throw new Error(`${path}: ${name} has unsupported dtype ${entry.dtype}`);
      const n = entry.shape.reduce((a, b) => a * b, 1);
      if (end - begin !== n * bytesPer || base + end > size)
        throw new Error(`${path}: ${name} lies outside the file (truncated?)`);
      const buf = new ArrayBuffer(end - begin);
      const bytes = new Uint8Array(buf);
      let done = 0;
      while (done < bytes.length) {
        const r = readSync(fd, bytes, done, bytes.length - done, base + begin + done);
        if (r <= 0) throw new Error(`${path}: unexpected end of file in ${name}`);
        done += r;
      }
      const data =
        entry.dtype === 'F32'
          ? new Float32Array(buf)
          : entry.dtype === 'I64'
            ? new BigInt64Array(buf)
            : entry.dtype === 'I32'
              ? new Int32Array(buf)
              : bytes;
      out.tensors[name] = { dtype: entry.dtype, shape: entry.shape, data };
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a safetensors file is not whole (cut short, a header that does not parse, a tensor outside the file),
 * or null, reading only the header: cheap enough to check a large checkpoint before it is used.
 */
export function safetensorsDamage(path: string): string | null {
  try {
    const { fd, size } = openRegularFile(path, 'a .safetensors checkpoint');
    try {
      const lenBuf = Buffer.alloc(8);
      if (readSync(fd, lenBuf, 0, 8, 0) !== 8) return 'shorter than a header';
      const headerLen = Number(lenBuf.readBigUInt64LE());
      if (headerLen <= 0 || 8 + headerLen > size) return 'its header is cut short';
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      const header = JSON.parse(headerBuf.toString('utf8')) as Record<string, HeaderEntry>;
      for (const [name, e] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        if (8 + headerLen + e.data_offsets[1] > size) return `tensor ${name} lies past the end of the file`;
      }
      return null;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

/** Only the header: metadata and tensor names, without reading any tensor data. */
export function readSafetensorsHeader(path: string): { metadata: Record<string, string>; names: string[] } {
  const { fd } = openRegularFile(path, 'a .safetensors checkpoint');
  try {
    const lenBuf = Buffer.alloc(8);
    if (readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error(`${path}: not a safetensors file (too short)`);
    const headerLen = Number(lenBuf.readBigUInt64LE());
    if (headerLen <= 0 || headerLen > 100 << 20)
      throw new Error(`${path}: not a safetensors file (bad header length)`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    const header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    return {
      metadata: (header.__metadata__ as Record<string, string>) ?? {},
      names: Object.keys(header).filter((k) => k !== '__metadata__'),
    };
  } finally {
    closeSync(fd);
  }
}
