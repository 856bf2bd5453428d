import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maxTokenId, openTokens, sampleBatch } from './data.ts';
import { deriveSeed, Rng } from './rng.ts';
import { readSafetensors, readSafetensorsHeader, writeSafetensorsAtomic } from './safetensors.ts';
import { readdirSync, readFileSync, truncateSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'xai-engine-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('token files and batches', () => {
  const tokens = Uint16Array.from({ length: 1000 }, (_, i) => (i * 7) % 300);
  const file = join(dir, 'tokens.bin');
  writeFileSync(file, new Uint8Array(tokens.buffer));

  it('reads uint16 tokens the same in memory and window by window', () => {
    const mem = openTokens(file, 'uint16', 100, 500);
    const disk = openTokens(file, 'uint16', 100, 500, 0);
    const a = new Int32Array(50);
    const b = new Int32Array(50);
    mem.read(123, 50, a, 0);
    disk.read(123, 50, b, 0);
    expect(Array.from(a)).toEqual(Array.from(tokens.subarray(223, 273)));
    expect(b).toEqual(a);
    expect(maxTokenId(disk)).toBe(299);
    disk.close();
  });

  it("samples nanoGPT's batches: y is x shifted by one, windows inside the data, reproducible from the seed", () => {
    const src = openTokens(file, 'uint16');
    const B = 8;
    const T = 16;
    const draw = (rng: Rng) => {
      const x = new Int32Array(B * T);
      const y = new Int32Array(B * T);
      sampleBatch(rng, src, B, T, x, y, new Int32Array(T + 1));
      return { x, y };
    };
    const rng = new Rng(42);
    const first = draw(rng);
    const state = rng.getState();
    const second = draw(rng);
    for (let b = 0; b < B; b++) {
      const start = tokens.indexOf(first.x[b * T]!);
      expect(start).toBeGreaterThanOrEqual(0);
      for (let t = 0; t < T - 1; t++) expect(first.y[b * T + t]).toBe(first.x[b * T + t + 1]);
    }
    expect(draw(new Rng(state))).toEqual(second);
    expect(draw(new Rng(42))).toEqual(first);
    expect(second).not.toEqual(first);
  });

  it('draws every offset in [0, len − T) and no other', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 20000; i++) seen.add(rng.randint(37));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    expect(deriveSeed(1, 'eval', 10, 'val')).not.toBe(deriveSeed(1, 'eval', 10, 'train'));
    expect(deriveSeed(1, 'eval', 10, 'val')).toBe(deriveSeed(1, 'eval', 10, 'val'));
  });
});

describe('safetensors', () => {
  it('round-trips tensors and metadata, header padded to 8 bytes, no temp file left behind', () => {
    const path = join(dir, 'ckpt', 'a.safetensors');
    const w = Float32Array.from({ length: 6 }, (_, i) => i / 3);
    writeSafetensorsAtomic(
      path,
      {
        w: { dtype: 'F32', shape: [2, 3], data: w },
        n: { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, -2n]) },
      },
      { step: '7' },
    );
    const bytes = readFileSync(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    expect(headerLen % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString());
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    const f = readSafetensors(path);
    expect(f.metadata).toEqual({ step: '7' });
    expect(f.tensors.w!.data).toEqual(w);
    expect(Array.from(f.tensors.n!.data as BigInt64Array)).toEqual([1n, -2n]);
    expect(readSafetensorsHeader(path)).toEqual({ metadata: { step: '7' }, names: ['w', 'n'] });
    expect(readdirSync(join(dir, 'ckpt'))).toEqual(['a.safetensors']);
    truncateSync(path, bytes.length - 4);
    expect(() => readSafetensors(path)).toThrow(/outside the file/);
  });
});
