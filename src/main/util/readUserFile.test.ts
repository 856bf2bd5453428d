import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUserFile, UserFileError } from './readUserFile.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-read-user-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function reasonOf(path: string, maxBytes = 1000): string {
  try {
    readUserFile(path, maxBytes, 'a text file');
  } catch (e) {
    expect(e).toBeInstanceOf(UserFileError);
    expect((e as Error).message).toContain(path);
    return (e as UserFileError).reason;
  }
  return 'read';
}

describe('readUserFile', () => {
  it('reads a regular file whole, up to and including the limit', () => {
    writeFileSync(join(dir, 'ok.txt'), 'x'.repeat(1000));
    expect(readUserFile(join(dir, 'ok.txt'), 1000, 'a text file').toString()).toBe('x'.repeat(1000));
    writeFileSync(join(dir, 'empty.txt'), '');
    expect(readUserFile(join(dir, 'empty.txt'), 1000, 'a text file').length).toBe(0);
  });

  it('refuses a file over the limit', () => {
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(1001));
    expect(reasonOf(join(dir, 'big.txt'))).toBe('too-large');
  });

  it('names a missing file, a folder, and devices that would never end or fail to read', () => {
    expect(reasonOf(join(dir, 'absent.txt'))).toBe('missing');
    expect(reasonOf(dir)).toBe('not-a-file');
    expect(reasonOf('/dev/zero')).toBe('not-a-file');
    expect(reasonOf('/dev/null')).toBe('not-a-file');
  });

  it('a named pipe is refused without waiting for a writer', () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    expect(reasonOf(fifo)).toBe('not-a-file');
  });

  it('a /proc file that reports size 0 is read to its end, and still bounded by the limit', () => {
    expect(readUserFile('/proc/self/status', 1 << 20, 'a text file').toString()).toMatch(/^Name:/);
    expect(reasonOf('/proc/self/status', 16)).toBe('too-large');
    expect(reasonOf('/proc/self/mem')).toBe('unreadable');
  });
});
