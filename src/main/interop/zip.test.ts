import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZipReader, ZipWriter } from './zip.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, zip64: boolean, entries: [string, Uint8Array][]): void {
  const fd = openSync(path, 'w');
  try {
    const w = new ZipWriter(fd, { zip64 });
    for (const [name, data] of entries) w.add(name, data);
    w.finish();
  } finally {
    closeSync(fd);
  }
}

const entries: [string, Uint8Array][] = [
  ['archive/data.pkl', new TextEncoder().encode('pickle bytes')],
  ['archive/data/0', Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)],
  ['archive/version', new TextEncoder().encode('3\n')],
];

describe('ZIP', () => {
  for (const zip64 of [false, true]) {
    it(`reads back what it writes${zip64 ? ' with ZIP64 records' : ''}, data aligned to 64 bytes; Python's zipfile agrees`, () => {
      const path = join(dir, `t${zip64 ? 64 : 32}.zip`);
      write(path, zip64, entries);
      const r = new ZipReader(path);
      try {
        for (const [name, data] of entries) {
          expect(new Uint8Array(r.read(name))).toEqual(data);
          expect(r.entries.get(name)!.dataOffset % 64).toBe(0);
        }
        const part = new Uint8Array(10);
        r.readInto('archive/data/0', 500, part);
        expect([...part]).toEqual([...entries[1]![1].subarray(500, 510)]);
      } finally {
        r.close();
      }
      const py = spawnSync(
        'python3',
        [
          '-c',
          'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.testzip() is None or sys.exit(1); print(",".join(f"{i.filename}:{i.file_size}" for i in z.infolist()))',
          path,
        ],
        { encoding: 'utf8' },
      );
      if (py.error) return; // no Python here
      expect(py.status).toBe(0);
      expect(py.stdout.trim()).toBe(entries.map(([n, d]) => `${n}:${d.length}`).join(','));
    });
  }

  it('says what is wrong with a file that is not a ZIP, or a truncated one', () => {
    const junk = join(dir, 'junk.zip');
    writeFileSync(junk, 'x'.repeat(100));
    expect(() => new ZipReader(junk)).toThrow(/not a ZIP file/);
    const whole = join(dir, 't32.zip');
    const cut = join(dir, 'cut.zip');
    const bytes = readFileSync(whole);
    // keep the central directory, drop part of the data before it
    writeFileSync(cut, Buffer.concat([bytes.subarray(0, 200), bytes.subarray(bytes.length - 300)]));
    expect(() => new ZipReader(cut)).toThrow(/central directory|outside the file|corrupt/);
  });
});
