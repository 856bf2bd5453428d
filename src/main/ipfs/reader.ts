/**
 * Reading UnixFS content (files and directories) with ipfs-unixfs-exporter, loaded on the first read.
 * Blocks are read through Helia's blockstore: verified when local, fetched (and verified) when online.
 */
import type { Helia } from '@helia/interface';
import { exporter } from 'ipfs-unixfs-exporter';
import type { ProgressEventLike } from './concurrency.ts';
import { NotUnixFSContentError } from './exportTo.ts';

export { writeUnixfsTo } from './exportTo.ts';

export interface ReadOptions {
  signal?: AbortSignal;
  offline?: boolean;
  onProgress?: (evt: ProgressEventLike) => void;
}

export class IsADirectoryError extends Error {
  constructor(path: string) {
    super(`${path} is a directory, not a file`);
    this.name = 'IsADirectoryError';
  }
}

/** Type and size of the entry at an IPFS path (`<cid>` or `<cid>/a/b`). */
export async function entryInfo(
  helia: Helia,
  ipfsPath: string,
  options: ReadOptions,
): Promise<{ type: string; size: number }> {
  const entry = await exporter(ipfsPath, helia.blockstore, options);
  return { type: entry.type, size: Number(entry.size) };
}

/** A file's bytes, optionally a range of them. */
export async function* catFile(
  helia: Helia,
  ipfsPath: string,
  options: ReadOptions & { offset?: number; length?: number },
): AsyncGenerator<Uint8Array> {
  const entry = await exporter(ipfsPath, helia.blockstore, options);
  if (entry.type === 'directory') throw new IsADirectoryError(ipfsPath);
  if (entry.type === 'object')
    throw new NotUnixFSContentError(
      entry.cid.toString(),
      `${entry.cid.code === 0x71 ? 'dag-cbor' : 'structured'}`,
    );
  yield* entry.content(options);
}
