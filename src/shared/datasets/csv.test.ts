import { describe, expect, it } from 'vitest';
import { CsvParser, parseCsv } from './csv.ts';
import { LineSplitter, extractField, fieldPaths } from './jsonl.ts';

const TRICKY =
  'id,text,n\r\n1,"hello, world",2\n2,"line one\nline two",3\r\n3,"she said ""hi""",4\n4,,5\n\n5,plain text,6';

describe('CSV parser', () => {
  it('handles quoting, doubled quotes, quoted newlines, CRLF and blank lines', () => {
    const { records, error } = parseCsv(TRICKY);
    expect(error).toBeNull();
    expect(records.map((r) => r.fields)).toEqual([
      ['id', 'text', 'n'],
      ['1', 'hello, world', '2'],
      ['2', 'line one\nline two', '3'],
      ['3', 'she said "hi"', '4'],
      ['4', '', '5'],
      ['5', 'plain text', '6'],
    ]);
    // Line numbers count the newlines inside quotes.
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5, 6, 8]);
  });

  it('gives the same records whatever the chunking', () => {
    const whole = parseCsv(TRICKY).records;
    for (let size = 1; size <= 7; size++) {
      const p = new CsvParser();
      const out: { fields: string[]; line: number }[] = [];
      for (let i = 0; i < TRICKY.length; i += size) p.push(TRICKY.slice(i, i + size), (r) => out.push(r));
      expect(p.end((r) => out.push(r))).toBeNull();
      expect(out, `chunk size ${size}`).toEqual(whole);
    }
  });

  it('reports an unterminated quote with its line, and counts stray quotes', () => {
    const bad = parseCsv('text\nok\n"never closed\nmore');
    expect(bad.error).toMatch(/starts on line 3 never ends/);
    expect(bad.records.map((r) => r.fields)).toEqual([['text'], ['ok']]);
    const p = new CsvParser();
    const out: string[][] = [];
    p.push('a,b\nx"y,"q"z\n', (r) => out.push(r.fields));
    p.end((r) => out.push(r.fields));
    expect(out[1]).toEqual(['x"y', 'qz']);
    expect(p.irregular).toBe(2);
  });

  it('parses TSV', () => {
    expect(parseCsv('a\tb\n"x\ty"\tz', '\t').records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['x\ty', 'z'],
    ]);
  });
});

describe('JSONL', () => {
  it('splits lines across chunks, strips CR, numbers lines', () => {
    const s = new LineSplitter();
    const out: [string, number][] = [];
    for (const c of ['{"a":1}\r', '\n{"a"', ':2}\n\n{"a":3}']) s.push(c, (l, n) => out.push([l, n]));
    s.end((l, n) => out.push([l, n]));
    expect(out).toEqual([
      ['{"a":1}', 1],
      ['{"a":2}', 2],
      ['', 3],
      ['{"a":3}', 4],
    ]);
  });

  it('extracts a (nested) field and says why not', () => {
    expect(extractField({ text: 'hi' }, 'text')).toEqual({ ok: true, text: 'hi' });
    expect(extractField({ meta: { body: 'x' } }, 'meta.body')).toEqual({ ok: true, text: 'x' });
    expect(extractField({ other: 'x' }, 'text')).toEqual({ ok: false, kind: 'missing-field' });
    expect(extractField({ text: 3 }, 'text')).toEqual({ ok: false, kind: 'not-a-string', found: 'number' });
    expect(extractField([1], 'text')).toEqual({ ok: false, kind: 'missing-field' });
    expect(fieldPaths({ text: 'a', meta: { lang: 'en', n: 1 } })).toEqual(['text', 'meta.lang', 'meta.n']);
  });
});
