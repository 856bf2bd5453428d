import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Why a file the user named could not be read; the message names the path and says what to give instead. */
export class UserFileError extends Error {
  override name = 'UserFileError';
  readonly reason: 'missing' | 'not-a-file' | 'too-large' | 'unreadable';
  constructor(reason: UserFileError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Reads a file whose path came from a user or a client, at most `maxBytes`.
 *
 * A plain readFileSync trusts the path to be a small regular file. A client can name a folder, a device or a
 * /proc file instead: /dev/zero reports size 0 and never ends, so reading it exhausts memory and aborts the
 * whole process (std::bad_alloc); /proc/self/mem fails with EIO; opening a named pipe waits for a writer.
 * So the file is opened without blocking, the descriptor must be a regular file (fstat: the check and the
 * read see the same file), and the read stops one byte past the limit whatever size the file reports.
 *
 * @param what the kind of file expected, for the message ("the keystore's JSON file").
 */
export function readUserFile(path: string, maxBytes: number, what: string): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    const tooLarge = () =>
      new UserFileError('too-large', `${path} is larger than ${maxBytes} bytes: give ${what}`);
    if (size > maxBytes) throw tooLarge();
    // Sized from the stat (+1 to see the end), grown when the stat lied (a /proc file reports 0).
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > maxBytes) throw tooLarge();
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buf, length, buf.length - length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new UserFileError(
          'unreadable',
          `cannot read ${path} (${code ?? (e as Error).message}): give ${what}`,
        );
      }
      if (n === 0) return buf.subarray(0, length);
      length += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a file the user or a client named, for reading: without blocking, and only if the descriptor is a
 * regular file (a folder, device, socket or pipe is refused and closed). Returns the descriptor, which the
 * caller closes, and the size its fstat reported.
 */
export function openRegularFile(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserFileError('missing', `${path} does not exist`);
    throw new UserFileError(
      'unreadable',
      `cannot open ${path} (${code ?? (e as Error).message}): give ${what}`,
    );
  }
  let info;
  try {
    info = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (info.isFile()) return { fd, size: info.size };
  closeSync(fd);
  const kind = info.isDirectory() ? 'a folder' : 'not a regular file (a device, socket or pipe)';
  throw new UserFileError('not-a-file', `${path} is ${kind}: give ${what}`);
}
