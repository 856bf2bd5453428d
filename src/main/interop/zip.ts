import { closeSync, readSync, writeSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { openRegularFile } from '../util/readUserFile.ts';

/**
 * The ZIP container of PyTorch checkpoints (torch.save since 1.6): stored (uncompressed) entries whose
 * data PyTorch aligns to 64 bytes with a padding extra field, ZIP64 records when the file or an entry
 * passes 4 GiB. The reader reads the central directory only and hands out where each entry's bytes lie,
 * so tensors are read straight from the file into their destination; the writer streams entries one by
 * one (no archive in memory).
 */

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute file offset of the entry's (compressed) bytes. */
  dataOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
/** Entries above this size are never inflated into memory (PyTorch stores tensors uncompressed). */
const MAX_INFLATE = 256 << 20;

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  if (done !== length) throw new ZipError(`unexpected end of file at byte ${position + done}`);
  return buf;
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('a ZIP64 size or offset is too large');
  return Number(v);
}

/** An open ZIP file: its entries by name, and reads of their bytes. */
export class ZipReader {
  readonly fd: number;
  readonly size: number;
  readonly entries = new Map<string, ZipEntry>();
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    ({ fd: this.fd, size: this.size } = openRegularFile(path, 'a PyTorch checkpoint (ckpt.pt)'));
    try {
      this.#readDirectory();
    } catch (e) {
      closeSync(this.fd);
      if (e instanceof ZipError) throw new ZipError(`${path}: ${e.message}`);
      throw e;
    }
  }

  #readDirectory(): void {
    const tailLen = Math.min(this.size, 22 + 0xffff);
    if (tailLen < 22) throw new ZipError('not a ZIP file (too short)');
    const tail = readAt(this.fd, tailLen, this.size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError('not a ZIP file (no end of central directory)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const eocdAbs = this.size - tailLen + eocd;
    if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
      if (eocdAbs < 20) throw new ZipError('ZIP64 locator missing');
      const loc = readAt(this.fd, 20, eocdAbs - 20);
      if (loc.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) throw new ZipError('ZIP64 locator missing');
      const z64 = readAt(this.fd, 56, u64(loc, 8));
      if (z64.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw new ZipError('bad ZIP64 end of central directory');
      count = u64(z64, 32);
      cdSize = u64(z64, 40);
      cdOffset = u64(z64, 48);
    }
    if (cdOffset + cdSize > this.size) throw new ZipError('the central directory lies outside the file');
    const cd = readAt(this.fd, cdSize, cdOffset);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG)
        throw new ZipError('corrupt central directory');
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // ZIP64 extended information: the fields that were 0xFFFFFFFF, in this order
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === U32_MAX) {
            size = u64(cd, q);
            q += 8;
          }
          if (compressedSize === U32_MAX) {
            compressedSize = u64(cd, q);
            q += 8;
          }
          if (localOffset === U32_MAX) localOffset = u64(cd, q);
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      const local = readAt(this.fd, 30, localOffset);
      if (local.readUInt32LE(0) !== LOCAL_SIG) throw new ZipError(`corrupt local header of ${name}`);
      const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      if (dataOffset + compressedSize > this.size)
        throw new ZipError(`${name} lies outside the file (truncated?)`);
      if (method !== 0 && method !== 8) throw new ZipError(`${name} uses compression method ${method}`);
      this.entries.set(name, { name, method, compressedSize, size, dataOffset });
    }
  }

  /** A whole (small) entry's bytes. */
  read(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) throw new ZipError(`${this.path} has no ${name}`);
    if (e.method === 0) return readAt(this.fd, e.size, e.dataOffset);
    if (e.size > MAX_INFLATE) throw new ZipError(`${name} is compressed and too large to read`);
    const out = inflateRawSync(readAt(this.fd, e.compressedSize, e.dataOffset));
    if (out.length !== e.size) throw new ZipError(`${name}: inflated size differs from the directory's`);
    return out;
  }

  /** Copies `length` bytes of a stored entry from `offset` into `dest` (no intermediate buffer). */
  readInto(name: string, offset: number, dest: Uint8Array): void {
    const e = this.entries.get(name);
    if (!e) throw new ZipError(`${this.path} has no ${name}`);
    if (offset + dest.length > e.size) throw new ZipError(`${name}: read past its end`);
    if (e.method !== 0) {
      dest.set(this.read(name).subarray(offset, offset + dest.length));
      return;
    }
    let done = 0;
    while (done < dest.length) {
      const chunk = Math.min(dest.length - done, 1 << 30);
      const n = readSync(this.fd, dest, done, chunk, e.dataOffset + offset + done);
      if (n <= 0) throw new ZipError(`${this.path}: unexpected end of file in ${name}`);
      done += n;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Writes a ZIP of stored entries to an open file descriptor, each entry's data aligned to `align` bytes
 * (PyTorch's 64, so its reader can map tensors), with ZIP64 records where sizes or offsets need them.
 */
export class ZipWriter {
  readonly #fd: number;
  readonly #align: number;
  #offset = 0;
  readonly #central: Buffer[] = [];
  #count = 0;

  readonly #forceZip64: boolean;

  /** `zip64: true` writes ZIP64 records even for small entries (tests of the > 4 GiB layout). */
  constructor(fd: number, opts: { align?: number; zip64?: boolean } = {}) {
    this.#fd = fd;
    this.#align = opts.align ?? 64;
    this.#forceZip64 = opts.zip64 ?? false;
  }

  #write(buf: Uint8Array): void {
    let done = 0;
    while (done < buf.length)
      done += writeSync(this.#fd, buf, done, Math.min(buf.length - done, 1 << 30), this.#offset + done);
    this.#offset += buf.length;
  }

  /** Adds an entry whose content is the concatenation of `parts`. */
  add(name: string, parts: Uint8Array | Uint8Array[]): void {
    const chunks = Array.isArray(parts) ? parts : [parts];
    let crc = 0;
    let size = 0;
    for (const c of chunks) {
      crc = crc32(c, crc);
      size += c.length;
    }
    const nameBytes = Buffer.from(name, 'utf8');
    const localOffset = this.#offset;
    const zip64 = this.#forceZip64 || size >= U32_MAX || localOffset >= U32_MAX;
    // local header: ZIP64 sizes in the extra field when needed, then padding ("FB" as PyTorch) to align the data
    const z64Local = zip64 ? 20 : 0;
    const base = localOffset + 30 + nameBytes.length + z64Local;
    const pad = (this.#align - ((base + 4) % this.#align)) % this.#align;
    const padLen = 4 + pad;
    const local = Buffer.alloc(30 + nameBytes.length + z64Local + padLen);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time/date: fixed, so the same checkpoint gives the same bytes
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(zip64 ? U32_MAX : size, 18);
    local.writeUInt32LE(zip64 ? U32_MAX : size, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(z64Local + padLen, 28);
    nameBytes.copy(local, 30);
    let q = 30 + nameBytes.length;
    if (zip64) {
      local.writeUInt16LE(0x0001, q);
      local.writeUInt16LE(16, q + 2);
      local.writeBigUInt64LE(BigInt(size), q + 4);
      local.writeBigUInt64LE(BigInt(size), q + 12);
      q += 20;
    }
    local.writeUInt16LE(0x4246, q);
    local.writeUInt16LE(pad, q + 2);
    this.#write(local);
    for (const c of chunks) this.#write(c);

    const cdZip64 = zip64 ? 4 + 24 : 0;
    const cd = Buffer.alloc(46 + nameBytes.length + cdZip64);
    cd.writeUInt32LE(CENTRAL_SIG, 0);
    cd.writeUInt16LE(zip64 ? 45 : 20, 4);
    cd.writeUInt16LE(zip64 ? 45 : 20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(0, 10);
    cd.writeUInt32LE(0, 12);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(zip64 ? U32_MAX : size, 20);
    cd.writeUInt32LE(zip64 ? U32_MAX : size, 24);
    cd.writeUInt16LE(nameBytes.length, 28);
    cd.writeUInt16LE(cdZip64, 30);
    cd.writeUInt32LE(zip64 ? U32_MAX : localOffset, 42);
    nameBytes.copy(cd, 46);
    if (zip64) {
      const z = 46 + nameBytes.length;
      cd.writeUInt16LE(0x0001, z);
      cd.writeUInt16LE(24, z + 2);
      cd.writeBigUInt64LE(BigInt(size), z + 4);
      cd.writeBigUInt64LE(BigInt(size), z + 12);
      cd.writeBigUInt64LE(BigInt(localOffset), z + 20);
    }
    this.#central.push(cd);
    this.#count++;
  }

  /** Writes the central directory and the end records. */
  finish(): void {
    const cdOffset = this.#offset;
    for (const c of this.#central) this.#write(c);
    const cdSize = this.#offset - cdOffset;
    const needZip64 = this.#forceZip64 || this.#count >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
    if (needZip64) {
      const z64Offset = this.#offset;
      const z = Buffer.alloc(56);
      z.writeUInt32LE(ZIP64_EOCD_SIG, 0);
      z.writeBigUInt64LE(44n, 4);
      z.writeUInt16LE(45, 12);
      z.writeUInt16LE(45, 14);
      z.writeBigUInt64LE(BigInt(this.#count), 24);
      z.writeBigUInt64LE(BigInt(this.#count), 32);
      z.writeBigUInt64LE(BigInt(cdSize), 40);
      z.writeBigUInt64LE(BigInt(cdOffset), 48);
      this.#write(z);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(ZIP64_LOCATOR_SIG, 0);
      loc.writeBigUInt64LE(BigInt(z64Offset), 8);
      loc.writeUInt32LE(1, 16);
      this.#write(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(EOCD_SIG, 0);
    end.writeUInt16LE(Math.min(this.#count, 0xffff), 8);
    end.writeUInt16LE(Math.min(this.#count, 0xffff), 10);
    end.writeUInt32LE(needZip64 ? U32_MAX : cdSize, 12);
    end.writeUInt32LE(needZip64 ? U32_MAX : cdOffset, 16);
    this.#write(end);
  }
}
