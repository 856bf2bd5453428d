import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenFileWriter } from './tokenFile.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-tokenfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('token files', () => {
  it('writes little-endian uint16 and uint32 with their SHA-256', async () => {
    for (const [dtype, vocab, ids, bytes] of [
      ['uint16', 65536, [1, 258, 65535], [1, 0, 2, 1, 255, 255]],
      ['uint32', 100_000, [1, 70_000], [1, 0, 0, 0, 0x70, 0x11, 1, 0]],
    ] as const) {
      const path = join(dir, `${dtype}.bin`);
      const w = await TokenFileWriter.create(path, dtype, vocab);
      w.push([...ids]);
      const r = await w.close();
      const data = await readFile(path);
      expect([...data]).toEqual(bytes);
      expect(r).toEqual({
        tokens: ids.length,
        bytes: bytes.length,
        sha256: createHash('sha256').update(data).digest('hex'),
      });
    }
  });

  it('spans many chunks and refuses ids outside the vocabulary', async () => {
    const w = await TokenFileWriter.create(join(dir, 'big.bin'), 'uint16', 1000);
    const ids = Array.from({ length: 3_000_000 }, (_, i) => i % 1000);
    w.push(ids);
    expect(ids).toHaveLength(0); // consumed
    await w.drain();
    expect(() => w.push([1000])).toThrow(/outside the vocabulary/);
    const r = await w.close();
    expect(r.tokens).toBe(3_000_000);
    expect(r.bytes).toBe(6_000_000);
    await expect(TokenFileWriter.create(join(dir, 'x.bin'), 'uint16', 70_000)).rejects.toThrow(
      /does not fit/,
    );
  });
});
