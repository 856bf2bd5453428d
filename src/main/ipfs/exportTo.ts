import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Helia } from '@helia/interface';
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter';
import type { ProgressEventLike } from './concurrency.ts';
import type { SkippedEntry } from './fsSource.ts';

export interface ExportStats {
  bytes: number;
  files: number;
  directories: number;
  skipped: SkippedEntry[];
}

export class UnsafeEntryNameError extends Error {
  constructor(name: string, where: string) {
    super(
      `Refusing to write the entry ${JSON.stringify(name)} in ${where || 'the root'}: a name with "/", "\\", NUL, "." or ".." could write outside the target folder`,
    );
    this.name = 'UnsafeEntryNameError';
  }
}

export class NotUnixFSContentError extends Error {
  constructor(cid: string, type: string) {
    super(`${cid} is ${type} data, not a UnixFS file or directory: export it as a CAR file instead`);
    this.name = 'NotUnixFSContentError';
  }
}

function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/**
 * Writes a UnixFS file or directory tree to `target` (which the caller makes sure is fresh).
 * Every block is read through Helia's blockstore, so it is verified; entry names that could escape
 * the target are refused; symbolic links are skipped and reported (they could point anywhere).
 */
export async function writeUnixfsTo(
  helia: Helia,
  ipfsPath: string,
  target: string,
  options: {
    signal?: AbortSignal;
    offline?: boolean;
    onProgress?: (evt: ProgressEventLike) => void;
    onBytes?: (n: number) => void;
  },
): Promise<ExportStats> {
  const stats: ExportStats = { bytes: 0, files: 0, directories: 0, skipped: [] };
  const root = await exporter(ipfsPath, helia.blockstore, options);

  const write = async (entry: UnixFSEntry, dest: string, rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    if (entry.type === 'directory') {
      await mkdir(dest);
      stats.directories++;
      for await (const child of entry.entries(options)) {
        if (!isSafeName(child.name)) throw new UnsafeEntryNameError(child.name, rel);
        const childEntry = await exporter(child.cid, helia.blockstore, options);
        await write(childEntry, join(dest, child.name), rel === '' ? child.name : `${rel}/${child.name}`);
      }
      return;
    }
    if (entry.type === 'file' && entry.unixfs.type === 'symlink') {
      stats.skipped.push({ path: rel || entry.name, reason: 'symbolic link (not written)' });
      return;
    }
    if (entry.type === 'file' || entry.type === 'raw' || entry.type === 'identity') {
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of entry.content(options)) {
          stats.bytes += chunk.byteLength;
          options.onBytes?.(chunk.byteLength);
          yield chunk;
        }
      };
      await pipeline(Readable.from(counted()), createWriteStream(dest, { flags: 'wx' }), {
        signal: options.signal,
      });
      stats.files++;
      return;
    }
    throw new NotUnixFSContentError(entry.cid.toString(), entry.type);
  };

  await write(root, target, '');
  return stats;
}
