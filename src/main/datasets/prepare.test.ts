import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.ts';
import {
  datasetManifestSchema,
  preparationReportFileSchema,
  preparedManifestSchema,
} from '../../shared/datasets/manifest.ts';
import { gpt2Tokenizer, loadTokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { prepare, readTokens } from './testUtil.ts';

const SHAKESPEARE_PATH = '/work/shared/data/tinyshakespeare.txt';
let SHAKESPEARE: string;
let dir: string;

beforeAll(async () => {
  SHAKESPEARE = await readFile(SHAKESPEARE_PATH, 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'xai-prepare-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('a single document', () => {
  it('char: a text without any newline prepares (the separator is never needed)', async () => {
    const input = join(dir, 'one-line.txt');
    await writeFile(input, 'to be or not to be '.repeat(2000));
    const dest = join(dir, 'one-line');
    await prepare([input], dest, { tokenizer: 'char' });
    const m = preparedManifestSchema.parse(JSON.parse(await readFile(join(dest, 'manifest.json'), 'utf8')));
    expect(m.split.rule).toBe('single-document');
    expect(m.vocabSize).toBe(new Set('to be or not to be ').size);
  });
});

describe('tiny-shakespeare', () => {
  it('char: vocab 65 and nanoGPT’s 1,003,854 / 111,540 tokens; manifest, card and checksums hold', async () => {
    const dest = join(dir, 'shakespeare-char');
    const out = await prepare([SHAKESPEARE_PATH], dest, { tokenizer: 'char' });
    const m = preparedManifestSchema.parse(JSON.parse(await readFile(join(dest, 'manifest.json'), 'utf8')));
    expect(m.vocabSize).toBe(65);
    expect(m.dtype).toBe('uint16');
    expect(m.splits.train).toMatchObject({
      tokens: 1_003_854,
      characters: 1_003_854,
      documents: 1,
      bytes: 2_007_708,
    });
    expect(m.splits.val).toMatchObject({
      tokens: 111_540,
      characters: 111_540,
      documents: 1,
      bytes: 223_080,
    });
    expect(m.split.rule).toBe('single-document');
    expect(m.documentSeparator).toBeNull();
    expect(m.sources).toEqual([
      {
        path: 'tinyshakespeare.txt',
        format: 'text',
        status: 'ok',
        bytes: 1_115_394,
        documents: 1,
        sha256: sha(await readFile(SHAKESPEARE_PATH)),
      },
    ]);
    // Every file but the manifest is listed with its real size and hash.
    expect(Object.keys(m.files).sort()).toEqual([
      'README.md',
      'report.json',
      'tokenizer.json',
      'train.bin',
      'val.bin',
    ]);
    for (const [name, f] of Object.entries(m.files)) {
      const bytes = await readFile(join(dest, name));
      expect({ name, bytes: bytes.length, sha256: sha(bytes) }).toEqual({ name, ...f });
    }
    expect(m.tokenizer.sha256).toBe(m.files['tokenizer.json']!.sha256);
    // The bins decode back to the text, cut where nanoGPT cuts it.
    const tok = await loadTokenizer(JSON.parse(await readFile(join(dest, 'tokenizer.json'), 'utf8')));
    expect(tok.decode(await readTokens(join(dest, 'train.bin')))).toBe(SHAKESPEARE.slice(0, 1_003_854));
    expect(tok.decode(await readTokens(join(dest, 'val.bin')))).toBe(SHAKESPEARE.slice(1_003_854));
    const card = await readFile(join(dest, 'README.md'), 'utf8');
    expect(card).toContain('# test');
    expect(card).toContain('| tokens | 1,003,854 | 111,540 |');
    expect(card).toContain("nanoGPT's prepare.py");
    expect(
      preparationReportFileSchema.parse(JSON.parse(await readFile(join(dest, 'report.json'), 'utf8'))).files,
    ).toHaveLength(1);
    expect(out.manifest).toEqual(m);
    expect(await readdir(dir)).not.toContain(expect.stringContaining('.partial'));
  });

  it('gpt2: nanoGPT’s shakespeare token counts (301,966 / 36,059)', async () => {
    const dest = join(dir, 'shakespeare-gpt2');
    const out = await prepare([SHAKESPEARE_PATH], dest, { tokenizer: 'gpt2' });
    expect(out.manifest.vocabSize).toBe(50257);
    expect(out.manifest.splits.train.tokens).toBe(301_966);
    expect(out.manifest.splits.val.tokens).toBe(36_059);
  });
});

describe('streaming a document larger than the read block', () => {
  // ~3 MB with CRLF, combining marks, emoji and CJK: crosses several 1 MiB read blocks and spool blocks.
  const raw = Array.from(
    { length: 30_000 },
    (_, i) => `Line ${i}: cafe\u0301 👋🏽 中文 it's  ${'x'.repeat(i % 40)}\r\n`,
  ).join('');
  const clean = raw.replace(/\r\n/g, '\n').normalize('NFC');
  const cut = Math.floor([...clean].length * 0.9);
  const trainText = [...clean].slice(0, cut).join('');
  const valText = [...clean].slice(cut).join('');

  it.each(['gpt2', 'bpe:600', 'char'])(
    '%s: the shards are exactly the encoding of the cleaned text',
    async (tokenizer) => {
      const input = join(dir, 'big.txt');
      await writeFile(input, raw);
      const dest = join(dir, `big-${tokenizer.replace(':', '')}`);
      const out = await prepare([input], dest, { tokenizer });
      const tok = await loadTokenizer(JSON.parse(await readFile(join(dest, 'tokenizer.json'), 'utf8')));
      const train = await readTokens(join(dest, 'train.bin'));
      const val = await readTokens(join(dest, 'val.bin'));
      expect(train).toEqual(tok.encode(trainText));
      expect(val).toEqual(tok.encode(valText));
      expect(tok.decode(train) + tok.decode(val)).toBe(clean);
      expect(out.manifest.cleaning.normalizedDocuments).toBe(1);
      if (tokenizer === 'gpt2') expect(train).toEqual((await gpt2Tokenizer()).encode(trainText));
    },
  );
});

describe('multi-document inputs', () => {
  it('jsonl + csv + md in a folder: documents split whole, each followed by the separator', async () => {
    const root = join(dir, 'corpus');
    await mkdir(join(root, 'sub'), { recursive: true });
    const jsonDocs = Array.from({ length: 30 }, (_, i) => `json document number ${i}, with "quotes"`);
    await writeFile(
      join(root, 'a.jsonl'),
      jsonDocs.map((t, i) => JSON.stringify({ id: i, text: t })).join('\n') + '\n',
    );
    await writeFile(
      join(root, 'sub', 'b.csv'),
      'id,body\n1,"csv, with comma"\n2,"csv with\nnewline"\n3,"csv ""quoted"""\n',
    );
    await writeFile(join(root, 'sub', 'c.md'), '# Title\n\nSome markdown.\n');
    const dest = join(dir, 'multi');
    const out = await prepare([root], dest, { tokenizer: 'gpt2', csvColumn: 'body', valRatio: 0.2, seed: 5 });
    const m = out.manifest;
    expect(m.sources.map((s) => [s.path, s.format, s.status, s.documents])).toEqual([
      ['corpus/a.jsonl', 'jsonl', 'ok', 30],
      ['corpus/sub/b.csv', 'csv', 'ok', 3],
      ['corpus/sub/c.md', 'markdown', 'ok', 1],
    ]);
    expect(m.split.rule).toBe('documents');
    expect(m.splits.train.documents + m.splits.val.documents).toBe(34);
    expect(m.splits.val.documents).toBe(7); // round(34 · 0.2)
    expect(m.documentSeparator).toEqual({ text: '<|endoftext|>', ids: [50256] });
    const tok = await gpt2Tokenizer();
    const docsOf = async (file: string): Promise<string[]> => {
      const ids = await readTokens(join(dest, file));
      expect(ids.at(-1)).toBe(50256);
      const docs: string[] = [];
      let cur: number[] = [];
      for (const id of ids) {
        if (id === 50256) {
          docs.push(tok.decode(cur));
          cur = [];
        } else cur.push(id);
      }
      return docs;
    };
    const all = [...(await docsOf('train.bin')), ...(await docsOf('val.bin'))].sort();
    const expected = [
      ...jsonDocs,
      'csv, with comma',
      'csv with\nnewline',
      'csv "quoted"',
      '# Title\n\nSome markdown.\n',
    ].sort();
    expect(all).toEqual(expected);
    expect(m.splits.train.characters + m.splits.val.characters).toBe(
      expected.reduce((s, d) => s + [...d].length, 0),
    );
  });

  it('char over several documents adds "\\n" to the vocabulary and separates with "\\n\\n"', async () => {
    const input = join(dir, 'lines.jsonl');
    await writeFile(input, ['abc', 'bcd', 'cde', 'def'].map((t) => JSON.stringify({ text: t })).join('\n'));
    const out = await prepare([input], join(dir, 'lines-char'), { tokenizer: 'char', valRatio: 0.25 });
    expect(out.manifest.vocabSize).toBe(7); // \n a b c d e f
    expect(out.manifest.documentSeparator).toEqual({ text: '\n\n', ids: [0, 0] });
    expect(out.manifest.splits.train.tokens + out.manifest.splits.val.tokens).toBe(4 * 3 + 4 * 2);
  });
});

describe('bad inputs are reported per file and the rest goes on', () => {
  it('reports every kind with a hint', async () => {
    const root = join(dir, 'messy');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'good.txt'), 'A good plain text file.\n');
    await writeFile(
      join(root, 'latin1.txt'),
      Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x61, 0xef, 0x76, 0x65, 0x0a]),
    ); // "Café naïve" in Latin-1
    await writeFile(join(root, 'binary.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x02]));
    await writeFile(
      join(root, 'utf16.txt'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello', 'utf16le')]),
    );
    await writeFile(join(root, 'empty.txt'), '');
    await writeFile(join(root, 'blank.jsonl'), '\n\n  \n');
    await writeFile(
      join(root, 'records.jsonl'),
      [
        '{"text":"first ok"}',
        '{"body":"no text field"}',
        '{"text": 42}',
        'not json at all',
        '{"text":"second ok"}',
        '{"other":1}',
      ].join('\n'),
    );
    await writeFile(join(root, 'nocolumn.csv'), 'id,content\n1,hello\n');
    await writeFile(join(root, 'broken.csv'), 'text\nfine row\n"never closed\nand more\n');
    await writeFile(join(root, 'short.csv'), 'id,text\n1,has text\n2\n');
    await writeFile(join(root, 'image.png'), Buffer.from([0x89, 0x50]));
    await writeFile(join(root, '.hidden.txt'), 'secret');
    await symlink(join(root, 'does-not-exist.txt'), join(root, 'dangling.txt'));
    const missing = join(dir, 'no-such-input.txt');
    const out = await prepare([root, missing], join(dir, 'messy-out'), { tokenizer: 'char' });

    const byPath = new Map(out.report.files.map((f) => [f.path, f]));
    const kinds = (p: string): string[] => byPath.get(p)!.problems.map((x) => x.kind);
    expect(byPath.get('messy/good.txt')).toMatchObject({ status: 'ok', documents: 1, problems: [] });
    expect(byPath.get('messy/latin1.txt')).toMatchObject({ status: 'skipped', documents: 0 });
    expect(kinds('messy/latin1.txt')).toEqual(['not-utf8']);
    expect(byPath.get('messy/latin1.txt')!.problems[0]!.message).toMatch(/at byte 3/);
    expect(byPath.get('messy/latin1.txt')!.problems[0]!.hint).toMatch(/iconv -f WINDOWS-1252/);
    expect(kinds('messy/binary.txt')).toEqual(['binary']);
    expect(kinds('messy/utf16.txt')).toEqual(['not-utf8']);
    expect(byPath.get('messy/utf16.txt')!.problems[0]!.message).toMatch(/UTF-16/);
    expect(kinds('messy/empty.txt')).toEqual(['empty-file']);
    expect(kinds('messy/blank.jsonl')).toEqual(['empty-file']);
    const records = byPath.get('messy/records.jsonl')!;
    expect(records).toMatchObject({ status: 'partial', documents: 2 });
    expect(records.problems.map((p) => [p.kind, p.count, p.lines])).toEqual([
      ['missing-field', 2, [2, 6]],
      ['not-a-string', 1, [3]],
      ['invalid-json', 1, [4]],
    ]);
    expect(records.problems[0]!.hint).toMatch(/--text-field/);
    expect(kinds('messy/nocolumn.csv')).toEqual(['missing-column']);
    expect(byPath.get('messy/nocolumn.csv')!.problems[0]!.message).toContain('"id", "content"');
    expect(byPath.get('messy/broken.csv')).toMatchObject({ status: 'partial', documents: 1 });
    expect(byPath.get('messy/broken.csv')!.problems[0]!.message).toMatch(/line 3 never ends/);
    expect(byPath.get('messy/short.csv')).toMatchObject({ status: 'partial', documents: 1 });
    expect(kinds('messy/dangling.txt')).toEqual(['not-found']);
    expect(kinds(missing)).toEqual(['not-found']);
    expect(out.report.ignoredInFolders).toEqual({
      count: 2,
      examples: ['messy/.hidden.txt', 'messy/image.png'],
    });
    for (const f of out.report.files) for (const p of f.problems) expect(p.hint.length).toBeGreaterThan(10);

    // What was readable was prepared: good.txt, 2 JSONL records, 1 + 1 CSV rows.
    expect(out.manifest.cleaning.documentsIn).toBe(5);
    expect(out.manifest.import).toMatchObject({ filesRead: 4, filesSkipped: 8, filesPartial: 3 });
    const card = await readFile(join(dir, 'messy-out', 'README.md'), 'utf8');
    expect(card).toContain('Problems while reading');
    expect(card).toContain('not valid UTF-8');
  });

  it('fails clearly, writing nothing, when no input can be used', async () => {
    const dest = join(dir, 'nothing');
    await expect(prepare([join(dir, 'nope.txt')], dest, { tokenizer: 'char' })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      message: expect.stringMatching(/no such file/),
    });
    const empty = join(dir, 'only-empty.txt');
    await writeFile(empty, '');
    await expect(prepare([empty], dest, { tokenizer: 'char' })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/Nothing to tokenize.*empty/),
    });
    const short = join(dir, 'short.txt');
    await writeFile(short, 'tiny');
    await expect(prepare([short], dest, { tokenizer: 'char', minChars: 100 })).rejects.toThrow(
      /all removed by cleaning \(min-chars: 1\)/,
    );
    expect(existsSync(dest)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.partial'))).toEqual([]);
  });
});

describe('determinism', () => {
  async function corpus(): Promise<string> {
    const file = join(dir, 'det.jsonl');
    const lines: string[] = [];
    const doc = (j: number): string =>
      `Document ${j}: ${SHAKESPEARE.slice(j * 500, j * 500 + 400 + (j % 7) * 30)}`;
    // 350 documents, 30 exact copies, 20 near copies (a few words added).
    for (let i = 0; i < 400; i++)
      lines.push(JSON.stringify({ text: i < 380 ? doc(i % 350) : `${doc(i - 380)} and a few more words` }));
    await writeFile(file, lines.join('\n'));
    return file;
  }

  it('same seed → byte-identical files and manifest (but createdAt); another seed → another split', async () => {
    const input = await corpus();
    const opts = { tokenizer: 'bpe:500', dedup: true, nearDup: 0.7, seed: 11 };
    const a = await prepare([input], join(dir, 'det-a'), opts);
    const b = await prepare([input], join(dir, 'det-b'), opts);
    for (const f of ['train.bin', 'val.bin', 'tokenizer.json', 'report.json', 'README.md']) {
      expect(sha(await readFile(join(dir, 'det-a', f))), f).toBe(sha(await readFile(join(dir, 'det-b', f))));
    }
    const strip = (m: Record<string, unknown>) => ({ ...m, createdAt: null });
    expect(strip(a.manifest)).toEqual(strip(b.manifest));
    const ma = (await readFile(join(dir, 'det-a', 'manifest.json'), 'utf8')).replace(
      /"createdAt": "[^"]+"/,
      '',
    );
    const mb = (await readFile(join(dir, 'det-b', 'manifest.json'), 'utf8')).replace(
      /"createdAt": "[^"]+"/,
      '',
    );
    expect(ma).toBe(mb);
    expect(a.manifest.cleaning.steps.find((s) => s.step === 'exact-dedup')!.removedDocuments).toBe(30);
    expect(a.manifest.cleaning.steps.find((s) => s.step === 'near-dedup')!.removedDocuments).toBe(20);
    const c = await prepare([input], join(dir, 'det-c'), { ...opts, seed: 12 });
    expect(c.manifest.splits.val.sha256).not.toBe(a.manifest.splits.val.sha256);
  });
});

describe('atomic output', () => {
  it('a cancelled prepare leaves nothing behind', async () => {
    const dest = join(dir, 'cancelled');
    const ac = new AbortController();
    const err = await prepare(
      [SHAKESPEARE_PATH],
      dest,
      { tokenizer: 'bpe:2000' },
      {
        signal: ac.signal,
        onStage: (stage) => {
          if (stage === 'Training BPE') ac.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('CANCELLED');
    expect(existsSync(dest)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it('never touches an existing dataset', async () => {
    const dest = join(dir, 'existing');
    await prepare([SHAKESPEARE_PATH], dest, { tokenizer: 'char' });
    const before = await readFile(join(dest, 'manifest.json'), 'utf8');
    await expect(prepare([SHAKESPEARE_PATH], dest, { tokenizer: 'gpt2' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await readFile(join(dest, 'manifest.json'), 'utf8')).toBe(before);
    // An empty folder (e.g. made by a file picker) is fine.
    const emptyDir = join(dir, 'empty-target');
    await mkdir(emptyDir);
    await prepare([SHAKESPEARE_PATH], emptyDir, { tokenizer: 'char', valRatio: 0.2 });
    expect(
      datasetManifestSchema.parse(JSON.parse(await readFile(join(emptyDir, 'manifest.json'), 'utf8'))).splits
        .val.tokens,
    ).toBe(223_079);
  });
});
