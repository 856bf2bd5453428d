import { access, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AbortOptions } from '@libp2p/interface';
import { NextToLast } from 'blockstore-fs/sharding';
import type { Blockstore, InputPair, Pair } from 'interface-blockstore';
import { DeleteFailedError, NotFoundError, OpenFailedError, PutFailedError } from 'interface-store';
import { CID } from 'multiformats/cid';
import { sha256, sha512 } from 'multiformats/hashes/sha2';
import type { MultihashHasher } from 'multiformats/hashes/interface';
import { isProcessAlive } from '../util/processAlive.ts';

/** A block whose bytes on disk do not hash to its CID. The message names the CID. */
export class CorruptBlockError extends Error {
  readonly cid: string;
  readonly movedTo: string | null;

  constructor(cid: CID, file: string, movedTo: string | null) {
    super(
      `Block ${cid.toString()} is corrupt: its content does not hash to its CID (file ${file} was changed or damaged on disk` +
        `${movedTo ? `; it was moved aside to ${movedTo}` : ''}). Add the original content again, import it from a CAR or fetch it from a peer to repair it.`,
    );
    this.name = 'CorruptBlockError';
    this.cid = cid.toString();
    this.movedTo = movedTo;
  }
}

const HASHERS = new Map<number, MultihashHasher>([
  [sha256.code, sha256],
  [sha512.code, sha512],
]);

export function hasherFor(code: number): MultihashHasher {
  const h = HASHERS.get(code);
  if (!h)
    throw new Error(
      `Unsupported multihash 0x${code.toString(16)}: XAI-Link verifies sha2-256 and sha2-512 blocks only`,
    );
  return h;
}

/** Checks bytes against a CID's multihash (identity CIDs carry their bytes and always match). */
export async function blockMatchesCid(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code === 0x00) return equalBytes(cid.multihash.digest, bytes);
  const digest = await hasherFor(cid.multihash.code).digest(bytes);
  return equalBytes(digest.digest, cid.multihash.digest);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

const PUT_MANY_CONCURRENCY = 16;
const RAW_CODE = 0x55;
/**
 * Blocks are written here first and renamed into their shard folder. One folder (not a temp file next to
 * each block) lets a restart find what a killed writer left with one readdir instead of walking every
 * shard. Not a shard name: those are two base32 characters.
 */
export const STAGING_DIR = '.staging';

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
    throw e;
  }
}

async function concat(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface RepoSize {
  blocks: number;
  bytes: number;
}

/**
 * The on-disk blockstore of the repository, in blockstore-fs's layout (one file per block, named by
 * the base32 multihash, Kubo-style next-to-last/2 shard folders; blockstore-fs/sharding computes the
 * names) with every read verified. Helia only verifies blocks that come from the network; a block
 * read from disk is trusted, so a damaged or edited file would be served silently. Here each read is
 * hashed and compared with its CID; a mismatch is moved aside (so adding or fetching the content
 * again repairs the repository) and raises CorruptBlockError.
 *
 * blockstore-fs itself is not used: its put stalls on concurrent writes of one block (see put), its
 * get streams each block in 64 KiB reads, and its getAll needs a glob library at start-up.
 */
export class RepoBlockstore implements Blockstore {
  readonly root: string;
  readonly #staging: string;
  readonly #sharding = new NextToLast();
  readonly #pending = new Map<string, Promise<CID>>();
  readonly #madeDirs = new Set<string>();
  #tmpCounter = 0;

  constructor(root: string) {
    this.root = root;
    this.#staging = join(root, STAGING_DIR);
  }

  async open(): Promise<void> {
    try {
      await mkdir(this.#staging, { recursive: true });
      await access(this.root, 0o2 /* W_OK */);
    } catch (e) {
      throw new OpenFailedError(`Cannot open the blockstore at ${this.root}: ${(e as Error).message}`);
    }
    await this.#sweepStaging();
  }

  /**
   * Removes the half-written blocks of processes that died (a kill between write and rename). Other live
   * processes may share the repository, so a file whose writer is still running is left alone; the pid
   * is the first part of its name.
   */
  async #sweepStaging(): Promise<void> {
    for (const name of await readdirOrEmpty(this.#staging)) {
      const pid = Number(name.slice(0, name.indexOf('-')));
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) continue;
      await rm(join(this.#staging, name), { force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#madeDirs.clear();
  }

  /** Where a block lives on disk (for diagnostics and tests). */
  fileFor(cid: CID): string {
    const { dir, file } = this.#sharding.encode(cid);
    return join(this.root, dir, file);
  }

  async has(key: CID, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    return access(this.fileFor(key)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Writes a block to a unique temporary file and renames it into place. (blockstore-fs's own put
   * uses one fixed temp name per block and retries a failed rename 10 times, 100 ms apart, so two
   * concurrent writes of the same block, e.g. two empty folders or two identical files in one add,
   * stall for a second.) The temporary file is in the staging folder, swept of dead writers' files at
   * open. Concurrent puts of one block share a single write; shard folders are created once. Blocks are
   * not fsynced: a block torn by a crash fails verification when read and is moved aside, like any
   * other corrupt block.
   */
  put(
    key: CID,
    val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<CID> {
    const file = this.fileFor(key);
    const pending = this.#pending.get(file);
    if (pending) return pending;
    const write = this.#write(key, file, val, options).finally(() => this.#pending.delete(file));
    this.#pending.set(file, write);
    return write;
  }

  async *putMany(
    source: Iterable<InputPair> | AsyncIterable<InputPair>,
    options?: AbortOptions,
  ): AsyncGenerator<CID> {
    const inFlight: Promise<CID>[] = [];
    for await (const { cid, bytes } of source) {
      inFlight.push(this.put(cid, bytes, options));
      if (inFlight.length >= PUT_MANY_CONCURRENCY) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  }

  async #write(
    key: CID,
    file: string,
    val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<CID> {
    options?.signal?.throwIfAborted();
    const bytes = val instanceof Uint8Array ? val : await concat(val);
    const dir = dirname(file);
    if (!this.#madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#madeDirs.add(dir);
    }
    const tmp = join(this.#staging, `${process.pid}-${++this.#tmpCounter}.tmp`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      // Another process stored the same block meanwhile (Windows refuses to rename over it): fine.
      if (
        await access(file).then(
          () => true,
          () => false,
        )
      )
        return key;
      throw new PutFailedError(`Could not store block ${key.toString()} in ${dir}: ${(e as Error).message}`);
    }
    return key;
  }

  async *get(key: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(key, options);
  }

  /** Reads a whole block (one read call, not a 64 KiB stream) and verifies it. */
  async getBytes(key: CID, options?: AbortOptions): Promise<Uint8Array> {
    options?.signal?.throwIfAborted();
    const file = this.fileFor(key);
    let buf: Buffer;
    try {
      buf = await readFile(file, { signal: options?.signal });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`Block ${key.toString()} is not in the repository`);
      throw e;
    }
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (!(await blockMatchesCid(key, bytes))) {
      const aside = `${file}.corrupt-${Date.now()}`;
      let movedTo: string | null = aside;
      try {
        await rename(file, aside);
      } catch {
        movedTo = null;
      }
      throw new CorruptBlockError(key, file, movedTo);
    }
    return bytes;
  }

  async *getMany(source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const cid of source) yield { cid, bytes: this.get(cid, options) };
  }

  async delete(key: CID, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    try {
      await unlink(this.fileFor(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new DeleteFailedError(`Could not delete block ${key.toString()}: ${(e as Error).message}`);
    }
  }

  async *deleteMany(source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid, options);
      yield cid;
    }
  }

  /**
   * Every block, by walking the shard folders. The CIDs come back as CIDv1 raw (the files are keyed by
   * multihash, like Kubo's flatfs, so the codec is not recorded); pins and gc only look at multihashes.
   */
  async *getAll(options?: AbortOptions): AsyncGenerator<Pair> {
    for (const shard of await readdirOrEmpty(this.root)) {
      for (const name of await readdirOrEmpty(join(this.root, shard))) {
        options?.signal?.throwIfAborted();
        if (!name.endsWith(this.#sharding.extension)) continue;
        let cid: CID;
        try {
          cid = CID.createV1(RAW_CODE, this.#sharding.decode(name).multihash);
        } catch {
          continue; // not a block file
        }
        yield { cid, bytes: this.get(cid, options) };
      }
    }
  }

  /** Counts block files and their bytes by walking the shard folders (no block is read). */
  async size(): Promise<RepoSize> {
    let blocks = 0;
    let bytes = 0;
    for (const shard of await readdirOrEmpty(this.root)) {
      const names = (await readdirOrEmpty(join(this.root, shard))).filter((n) =>
        n.endsWith(this.#sharding.extension),
      );
      const sizes = await Promise.all(
        names.map((n) =>
          stat(join(this.root, shard, n)).then(
            (s) => s.size,
            () => -1,
          ),
        ),
      );
      for (const s of sizes) {
        if (s < 0) continue;
        blocks++;
        bytes += s;
      }
    }
    return { blocks, bytes };
  }
}
