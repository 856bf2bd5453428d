import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ImportCandidate } from 'ipfs-unixfs-importer';

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ScannedFile {
  /** Path below the added root, '/'-separated. */
  rel: string;
  abs: string;
  size: number;
}

export interface ScanResult {
  abs: string;
  /** The name the root gets in the DAG (the file or directory's own name). */
  name: string;
  kind: 'file' | 'directory';
  files: ScannedFile[];
  /** Sub-directories below the root, '/'-separated, parents before children. */
  directories: string[];
  totalBytes: number;
  skipped: SkippedEntry[];
}

/**
 * Lists what adding `path` will import, before any byte is read: the total gives the job a real
 * progress bar. Like `ipfs add -r`: names starting with "." are left out unless `hidden`, symbolic
 * links below the root are not followed, sockets/FIFOs/devices are skipped; every skip is reported.
 * Entries are sorted by name so two scans of the same tree give the same order.
 */
export async function scanPath(
  path: string,
  opts: { hidden?: boolean; signal?: AbortSignal } = {},
): Promise<ScanResult> {
  const abs = resolve(path);
  let rootStat;
  try {
    rootStat = await stat(abs);
  } catch (e) {
    throw withCode(e, `Cannot add ${abs}: ${describeFsError(e)}`);
  }
  const name = basename(abs) || 'root';
  const result: ScanResult = {
    abs,
    name,
    kind: 'file',
    files: [],
    directories: [],
    totalBytes: 0,
    skipped: [],
  };
  if (rootStat.isFile()) {
    result.files.push({ rel: '', abs, size: rootStat.size });
    result.totalBytes = rootStat.size;
    return result;
  }
  if (!rootStat.isDirectory()) {
    const err = withCode(
      null,
      `Cannot add ${abs}: it is neither a file nor a folder (a device, socket or pipe); give a regular file or a folder`,
    );
    err.name = 'NotAFileOrFolderError';
    throw err;
  }
  result.kind = 'directory';

  const stack: { abs: string; rel: string }[] = [{ abs, rel: '' }];
  while (stack.length > 0) {
    opts.signal?.throwIfAborted();
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir.abs, { withFileTypes: true });
    } catch (e) {
      throw withCode(e, `Cannot read directory ${dir.abs}: ${describeFsError(e)}`);
    }
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    const subdirs: { abs: string; rel: string }[] = [];
    for (const entry of entries) {
      const rel = dir.rel === '' ? entry.name : `${dir.rel}/${entry.name}`;
      const entryAbs = join(dir.abs, entry.name);
      if (!opts.hidden && entry.name.startsWith('.')) {
        result.skipped.push({
          path: rel,
          reason: 'hidden (name starts with "."); include it with hidden / --hidden',
        });
      } else if (entry.isDirectory()) {
        result.directories.push(rel);
        subdirs.push({ abs: entryAbs, rel });
      } else if (entry.isFile()) {
        const s = await stat(entryAbs).catch((e: unknown) => {
          throw withCode(e, `Cannot add ${entryAbs}: ${describeFsError(e)}`);
        });
        result.files.push({ rel, abs: entryAbs, size: s.size });
        result.totalBytes += s.size;
      } else if (entry.isSymbolicLink()) {
        result.skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
      } else {
        result.skipped.push({
          path: rel,
          reason: 'not a regular file or directory (socket, FIFO or device)',
        });
      }
    }
    // Depth-first, in name order: push in reverse so the first name is visited first.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return result;
}

/** Streams a file in 1 MiB reads, reporting each read's size. */
export async function* readFileChunks(
  file: string,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024, signal });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onBytes(chunk.byteLength);
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    // EIO (/proc/self/mem), a disk error…: the user's file, not the repository, failed.
    throw withCode(e, `Cannot read ${file}: ${describeFsError(e)}`);
  }
}

/**
 * The importer's input for a scanned tree: files, plus the folders that have nothing in them (a
 * folder with content is created from its entries' paths; naming it too would store an extra,
 * unreferenced empty-folder block, which `ipfs add` does not).
 */
export async function* importCandidates(
  scan: ScanResult,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<ImportCandidate> {
  if (scan.kind === 'file') {
    yield { path: scan.name, content: readFileChunks(scan.abs, onBytes, signal) };
    return;
  }
  const parents = new Set<string>();
  for (const rel of [...scan.directories, ...scan.files.map((f) => f.rel)]) {
    const cut = rel.lastIndexOf('/');
    parents.add(cut === -1 ? '' : rel.slice(0, cut));
  }
  if (!parents.has('')) yield { path: scan.name };
  for (const dir of scan.directories) if (!parents.has(dir)) yield { path: `${scan.name}/${dir}` };
  for (const file of scan.files)
    yield { path: `${scan.name}/${file.rel}`, content: readFileChunks(file.abs, onBytes, signal) };
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return e instanceof Error ? e.message : String(e);
}

/**
 * An Error about the file or folder being read (not the repository), named SourceFsError, whose `code` is
 * the fs error code (ENOENT…), so callers can map it to an API error.
 */
function withCode(cause: unknown, message: string): Error {
  const err = new Error(message, { cause }) as NodeJS.ErrnoException;
  err.name = 'SourceFsError';
  err.code = (cause as NodeJS.ErrnoException | null)?.code ?? 'EINVAL';
  return err;
}
