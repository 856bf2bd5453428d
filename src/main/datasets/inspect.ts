import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { InspectResult } from '../../shared/api/datasets.ts';
import { parseCsv } from '../../shared/datasets/csv.ts';
import { fieldPaths, LineSplitter } from '../../shared/datasets/jsonl.ts';
import type { InputFormat } from '../../shared/datasets/report.ts';
import { formatOf, readSource, resolveInputs, type DocumentSink } from './sources.ts';

const HEAD_BYTES = 256 << 10;
const SAMPLES = 3;
const SAMPLE_CHARS = 500;
/** Entries an inspection walks in a folder: enough for any dataset folder, and "/" answers in seconds. */
export const INSPECT_MAX_ENTRIES = 20_000;

/** A look at an input before importing it: reads at most the first 256 KiB of a file. */
export async function inspectPath(
  path: string,
  opts: { textField: string; csvColumn: string },
): Promise<InspectResult> {
  const abs = resolve(path);
  const base: InspectResult = {
    path: abs,
    kind: 'missing',
    bytes: 0,
    format: null,
    fields: [],
    textFieldFound: null,
    samples: [],
    problems: [],
    directory: null,
  };
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    const r = await resolveInputs([abs]);
    return {
      ...base,
      problems: r.problems.flatMap((p) => p.problems),
      kind: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'other',
    };
  }
  if (st.isDirectory()) {
    const r = await resolveInputs([abs], undefined, INSPECT_MAX_ENTRIES);
    const byFormat: Record<string, number> = {};
    for (const f of r.files) byFormat[f.format] = (byFormat[f.format] ?? 0) + 1;
    return {
      ...base,
      kind: 'directory',
      bytes: r.files.reduce((s, f) => s + f.bytes, 0),
      problems: r.problems.flatMap((p) => p.problems),
      directory: {
        files: r.files.length,
        bytes: r.files.reduce((s, f) => s + f.bytes, 0),
        byFormat,
        ignored: r.ignored.count,
        truncated: r.truncated,
        examples: r.files.slice(0, 20).map((f) => ({ path: f.display, format: f.format, bytes: f.bytes })),
      },
    };
  }
  if (!st.isFile()) return { ...base, kind: 'other' };
  const format: InputFormat = formatOf(abs) ?? 'text';
  const samples: string[] = [];
  let current = '';
  const sink: DocumentSink = {
    open() {
      current = '';
    },
    write(text) {
      if (current.length < SAMPLE_CHARS) current += text.slice(0, SAMPLE_CHARS - current.length);
    },
    close() {
      if (samples.length < SAMPLES) samples.push(current);
    },
    discard() {
      // A text file cut at the inspection limit: its beginning is still the sample.
      if (samples.length < SAMPLES && current) samples.push(current);
    },
    drain: async () => undefined,
  };
  const file = { abs, display: abs, format, bytes: st.size };
  const report = await readSource(file, { ...opts, maxBytes: HEAD_BYTES, maxDocuments: 1000 }, sink);
  const { fields, found } = await headFields(abs, format, opts);
  return {
    ...base,
    kind: 'file',
    bytes: st.size,
    format,
    fields,
    textFieldFound: found,
    samples,
    problems: report.problems,
  };
}

async function headFields(
  abs: string,
  format: InputFormat,
  opts: { textField: string; csvColumn: string },
): Promise<{ fields: string[]; found: boolean | null }> {
  if (format !== 'jsonl' && format !== 'csv' && format !== 'tsv') return { fields: [], found: null };
  const handle = await open(abs, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(64 << 10);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    text = new TextDecoder('utf-8').decode(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  if (format === 'jsonl') {
    const fields = new Set<string>();
    const lines = new LineSplitter();
    let seen = 0;
    lines.push(text, (line) => {
      if (seen >= 20 || !line.trim()) return;
      try {
        for (const f of fieldPaths(JSON.parse(line))) fields.add(f);
        seen++;
      } catch {
        // reported by the reader
      }
    });
    return { fields: [...fields], found: fields.has(opts.textField) };
  }
  const firstLineEnd = text.search(/\r?\n/);
  const { records } = parseCsv(
    firstLineEnd >= 0 ? text.slice(0, firstLineEnd + 1) : text,
    format === 'tsv' ? '\t' : ',',
  );
  const header = records[0]?.fields ?? [];
  return {
    fields: header,
    found: header.some((h) => h.trim().toLowerCase() === opts.csvColumn.trim().toLowerCase()),
  };
}
