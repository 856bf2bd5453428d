import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Helia } from '@helia/interface';
import { CarBlockIterator, CarWriter } from '@ipld/car';
import { createUnsafe } from 'multiformats/block';
import { CID } from 'multiformats/cid';
import type { ProgressEventLike } from './concurrency.ts';
import { readFileChunks } from './fsSource.ts';
import { blockMatchesCid } from './repoBlockstore.ts';

export interface BlockReadOptions {
  signal?: AbortSignal;
  /** Never ask the network: a missing block fails at once. */
  offline?: boolean;
  onProgress?: (evt: ProgressEventLike) => void;
}

const IDENTITY = 0x00;

export async function readBlock(helia: Helia, cid: CID, options: BlockReadOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of helia.blockstore.get(cid, options)) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The CIDs a block links to, decoded with its codec (dag-pb, raw, dag-cbor, dag-json…). */
export async function linksOf(helia: Helia, cid: CID, bytes: Uint8Array): Promise<CID[]> {
  const codec = await helia.getCodec(cid.code);
  const block = createUnsafe({ bytes, cid, codec });
  const out: CID[] = [];
  for (const [, link] of block.links()) out.push(link);
  return out;
}

/**
 * Visits every block of a DAG once, depth-first in link order (the order `ipfs dag export` uses),
 * reading each through Helia's blockstore, so local blocks are verified and, online, missing ones
 * are fetched. Identity CIDs carry their data and are not visited.
 */
export async function* walkDag(
  helia: Helia,
  root: CID,
  options: BlockReadOptions,
): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
  const seen = new Set<string>();
  const stack: CID[] = [root];
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const cid = stack.pop()!;
    if (cid.multihash.code === IDENTITY) continue;
    const key = cid.multihash.bytes.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    const bytes = await readBlock(helia, cid, options);
    yield { cid, bytes };
    const links = await linksOf(helia, cid, bytes);
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!);
  }
}

/** True when every block of the DAG is in the local repository (nothing is fetched). */
export async function hasWholeDag(helia: Helia, root: CID, signal?: AbortSignal): Promise<boolean> {
  try {
    for await (const _ of walkDag(helia, root, { offline: true, signal })) {
      // visiting is the check
    }
    return true;
  } catch (e) {
    if (isMissingBlockError(e)) return false;
    throw e;
  }
}

export function isMissingBlockError(e: unknown): boolean {
  const name = (e as Error | null)?.name;
  return name === 'BlockNotFoundWhileOfflineError' || name === 'NotFoundError';
}

export interface CarExportResult {
  blocks: number;
  bytes: number;
}

/** Streams the DAG under `root` into a CARv1 file with `root` as its only root. */
export async function exportCarFile(
  helia: Helia,
  root: CID,
  file: string,
  options: BlockReadOptions & { onBlock?: (blocks: number, bytes: number) => void },
): Promise<CarExportResult> {
  const { writer, out } = CarWriter.create([root]);
  const sink = pipeline(Readable.from(out), createWriteStream(file, { flags: 'wx' }));
  let blocks = 0;
  let payload = 0;
  try {
    for await (const { cid, bytes } of walkDag(helia, root, options)) {
      await writer.put({ cid, bytes });
      blocks++;
      payload += bytes.byteLength;
      options.onBlock?.(blocks, payload);
    }
  } catch (e) {
    // End the stream so the file handle closes; the caller removes the partial file.
    await writer.close().catch(() => undefined);
    await sink.catch(() => undefined);
    throw e;
  }
  await writer.close();
  await sink;
  return { blocks, bytes: (await stat(file)).size };
}

export class InvalidCarBlockError extends Error {
  constructor(cid: CID, file: string) {
    super(
      `Block ${cid.toString()} in ${file} does not hash to its CID: the CAR file is corrupt or was tampered with; nothing after it was imported`,
    );
    this.name = 'InvalidCarBlockError';
  }
}

export interface CarImportResult {
  roots: CID[];
  blocks: number;
  bytes: number;
}

/** Reads a CAR (v1 or v2) as a stream and stores each block after checking it against its CID. */
export async function importCarFile(
  helia: Helia,
  file: string,
  options: { signal?: AbortSignal; onBlock?: (blocks: number, bytes: number) => void },
): Promise<CarImportResult> {
  const input = readFileChunks(file, () => {}, options.signal);
  let iterator: CarBlockIterator;
  try {
    iterator = await CarBlockIterator.fromIterable(input);
  } catch (e) {
    await input.return(undefined);
    if ((e as NodeJS.ErrnoException).code) throw e;
    const error = new Error(`${file} is not a CAR file: ${(e as Error).message}`, { cause: e });
    error.name = 'NotACarFileError';
    throw error;
  }
  const roots = await iterator.getRoots();
  let blocks = 0;
  let bytes = 0;
  async function* verified(): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
    for await (const block of iterator) {
      const cid = CID.asCID(block.cid) ?? CID.decode(block.cid.bytes);
      if (!(await blockMatchesCid(cid, block.bytes))) throw new InvalidCarBlockError(cid, file);
      blocks++;
      bytes += block.bytes.byteLength;
      options.onBlock?.(blocks, bytes);
      yield { cid, bytes: block.bytes };
    }
  }
  try {
    for await (const _ of helia.blockstore.putMany(verified(), { signal: options.signal })) {
      // stored
    }
  } finally {
    await input.return(undefined);
  }
  return { roots: roots.map((r) => CID.asCID(r) ?? CID.decode(r.bytes)), blocks, bytes };
}
