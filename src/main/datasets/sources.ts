import { createHash } from 'node:crypto';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { CsvParser } from '../../shared/datasets/csv.ts';
import { extractField, LineSplitter } from '../../shared/datasets/jsonl.ts';
import type { FileProblem, FileProblemKind, FileReport, InputFormat } from '../../shared/datasets/report.ts';

/**
 * Finding the input files and reading documents out of them, streaming: a file is read in 1 MiB
 * blocks, decoded as strict UTF-8, parsed as it arrives, and never held whole.
 *
 * Documents: a .txt/.md file is one document; a .jsonl line is one (its `textField`); a .csv/.tsv row
 * is one (its `csvColumn`, found by header). Every problem is reported per file with what to do; a
 * problem in one file never stops the others.
 */
export interface SourceFile {
  abs: string;
  /** Relative to the input given: the file's name, or folder/…/file. */
  display: string;
  format: InputFormat;
  bytes: number;
}

export interface ResolvedInputs {
  files: SourceFile[];
  /** Inputs that could not be used at all (not found, unreadable, unsupported). */
  problems: FileReport[];
  ignored: { count: number; examples: string[] };
  /** The walk stopped at `maxEntries`: files and counts are a lower bound. */
  truncated: boolean;
}

const EXTENSIONS: Record<string, InputFormat> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.tsv': 'tsv',
};
export const SUPPORTED_EXTENSIONS = Object.keys(EXTENSIONS);

export function formatOf(path: string): InputFormat | null {
  return EXTENSIONS[extname(path).toLowerCase()] ?? null;
}

export function skippedFile(
  path: string,
  bytes: number,
  kind: FileProblemKind,
  message: string,
  hint: string,
  format: InputFormat | null = null,
): FileReport {
  return {
    path,
    format,
    status: 'skipped',
    bytes,
    documents: 0,
    sha256: null,
    problems: [{ kind, message, count: 1, hint }],
  };
}

function errnoProblem(display: string, e: unknown): FileReport {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return skippedFile(
      display,
      0,
      'not-found',
      `${display}: no such file or folder`,
      'Check the path (spelling, current directory); it was left out.',
    );
  }
  return skippedFile(
    display,
    0,
    'unreadable',
    `${display}: cannot be read (${code ?? (e as Error).message})`,
    code === 'EACCES' || code === 'EPERM'
      ? 'Give your user read permission on it (chmod/chown), or leave it out.'
      : 'Check that it is a regular file or folder you can read.',
  );
}

/** Expands the inputs (files and folders, folders recursively, in name order) into the files to read. */
export async function resolveInputs(
  inputs: readonly string[],
  signal?: AbortSignal,
  /** Stop walking folders after this many entries (an inspection of "/" must not walk the whole disk). */
  maxEntries = Infinity,
): Promise<ResolvedInputs> {
  let entriesSeen = 0;
  let truncated = false;
  const files: SourceFile[] = [];
  const problems: FileReport[] = [];
  const ignored = { count: 0, examples: [] as string[] };
  const seen = new Set<string>();
  const ignore = (display: string): void => {
    ignored.count++;
    if (ignored.examples.length < 10) ignored.examples.push(display);
  };

  const addFile = async (abs: string, display: string, size: number, explicit: boolean): Promise<void> => {
    const real = await realpath(abs).catch(() => abs);
    if (seen.has(real)) return;
    seen.add(real);
    const format = formatOf(abs);
    if (format === null && !explicit) return ignore(display);
    // A file named explicitly with an unknown extension is read as plain text (and checked like one).
    files.push({ abs, display, format: format ?? 'text', bytes: size });
  };

  const walk = async (dir: string, display: string, visited: Set<string>): Promise<void> => {
    signal?.throwIfAborted();
    const real = await realpath(dir).catch(() => dir);
    if (visited.has(real)) return; // a symlink loop
    visited.add(real);
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch (e) {
      problems.push(errnoProblem(display, e));
      return;
    }
    for (const name of entries) {
      if (++entriesSeen > maxEntries) {
        truncated = true;
        return;
      }
      const abs = join(dir, name);
      const shown = `${display}/${name}`;
      if (name.startsWith('.')) {
        ignore(shown);
        continue;
      }
      let st;
      try {
        st = await stat(abs);
      } catch (e) {
        problems.push(errnoProblem(shown, e));
        continue;
      }
      if (st.isDirectory()) await walk(abs, shown, visited);
      else if (st.isFile()) await addFile(abs, shown, st.size, false);
      else ignore(shown);
    }
  };

  for (const input of inputs) {
    const abs = resolve(input);
    const display = basename(abs) || abs;
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      problems.push(errnoProblem(input, e));
      continue;
    }
    if (st.isDirectory()) await walk(abs, display, new Set());
    else if (st.isFile()) await addFile(abs, display, st.size, true);
    else
      problems.push(
        skippedFile(
          input,
          0,
          'unsupported-type',
          `${input}: not a regular file or folder`,
          'Give text files (.txt, .md, .jsonl, .csv, .tsv) or folders of them.',
        ),
      );
  }
  return { files, problems, ignored, truncated };
}

/** Where the documents of a file go. A document is opened, written (in pieces) and closed or discarded. */
export interface DocumentSink {
  open(line: number | null): void;
  write(text: string): void;
  close(): void;
  /** Drops the open document (the file broke in the middle of it). */
  discard(): void;
  /** Called between blocks: lets the sink flush (and the event loop breathe). */
  drain(): Promise<void>;
}

export interface ReadOptions {
  textField: string;
  csvColumn: string;
  signal?: AbortSignal;
  /** Bytes read so far in this file (progress). */
  onBytes?: (n: number) => void;
  /** Stop after this many bytes (inspect reads only the head; no problem is reported for the cut). */
  maxBytes?: number;
  /** Stop after this many documents. */
  maxDocuments?: number;
}

const BLOCK = 1 << 20;
const MAX_LINES_LISTED = 5;

class ProblemLog {
  readonly #map = new Map<FileProblemKind, FileProblem>();

  add(kind: FileProblemKind, message: string, hint: string, line?: number): void {
    const p = this.#map.get(kind);
    if (p) {
      p.count++;
      if (line !== undefined && p.lines && p.lines.length < MAX_LINES_LISTED) p.lines.push(line);
      return;
    }
    this.#map.set(kind, { kind, message, count: 1, hint, ...(line === undefined ? {} : { lines: [line] }) });
  }

  list(): FileProblem[] {
    return [...this.#map.values()].map((p) => ({
      ...p,
      message: !p.lines
        ? p.message
        : p.count > 1
          ? `${p.message} (${p.count} records, first on lines ${p.lines.join(', ')})`
          : `${p.message} (line ${p.lines[0]})`,
    }));
  }
}

/** Reads one file's documents into `sink`; returns the file's report. */
export async function readSource(
  file: SourceFile,
  opts: ReadOptions,
  sink: DocumentSink,
): Promise<FileReport> {
  const problems = new ProblemLog();
  const sha = createHash('sha256');
  let documents = 0;
  let bytesRead = 0;
  let complete = false;
  const report = (): FileReport => {
    const list = problems.list();
    const status = documents === 0 ? 'skipped' : list.length > 0 ? 'partial' : 'ok';
    return {
      path: file.display,
      format: file.format,
      status,
      bytes: file.bytes,
      documents,
      sha256: complete ? sha.digest('hex') : null,
      problems: list,
    };
  };

  let handle;
  try {
    handle = await open(file.abs, 'r');
  } catch (e) {
    const r = errnoProblem(file.display, e);
    return { ...r, format: file.format, bytes: file.bytes };
  }
  try {
    const parser = makeParser(file, opts, sink, problems, () => documents++);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const buf = Buffer.allocUnsafe(BLOCK);
    let first = true;
    let stopped = false;
    for (;;) {
      opts.signal?.throwIfAborted();
      const want = opts.maxBytes === undefined ? BLOCK : Math.min(BLOCK, opts.maxBytes - bytesRead);
      if (want <= 0) {
        stopped = true;
        break;
      }
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buf, 0, want, null));
      } catch (e) {
        problems.add(
          'unreadable',
          `${file.display}: reading failed after ${bytesRead} bytes (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          'Check the disk and the file; the part before the error was kept.',
        );
        parser.abort();
        return report();
      }
      if (n === 0) break;
      const bytes = buf.subarray(0, n);
      if (first) {
        first = false;
        const kind = sniff(bytes);
        if (kind) {
          problems.add(kind.kind, `${file.display}: ${kind.message}`, kind.hint);
          return report();
        }
      }
      const nul = bytes.indexOf(0);
      if (nul >= 0) {
        problems.add(
          'binary',
          `${file.display}: a NUL byte at byte ${bytesRead + nul}: this is not a text file`,
          'Leave binary files out of the inputs, or export their text first.',
        );
        parser.abort();
        return report();
      }
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: true });
      } catch {
        const at = bytesRead + firstInvalidUtf8(bytes);
        problems.add(
          'not-utf8',
          `${file.display}: not valid UTF-8 at byte ${at}${documents > 0 ? `; the ${documents} documents before it were kept, the rest of the file was skipped` : ''}`,
          encodingHint(file.display, bytes),
        );
        parser.abort();
        return report();
      }
      sha.update(bytes);
      bytesRead += n;
      opts.onBytes?.(bytesRead);
      parser.push(text);
      await sink.drain();
      if (opts.maxDocuments !== undefined && documents >= opts.maxDocuments) {
        stopped = true;
        break;
      }
    }
    if (stopped) {
      parser.abort();
      return report();
    }
    if (bytesRead === 0) {
      problems.add(
        'empty-file',
        `${file.display}: the file is empty`,
        'Nothing to import; leave it out or fill it.',
      );
      return report();
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      problems.add(
        'not-utf8',
        `${file.display}: ends in the middle of a UTF-8 character (truncated file?)`,
        'Check that the file was copied completely; re-save it as UTF-8.',
      );
      parser.abort();
      return report();
    }
    complete = true;
    parser.push(tail);
    parser.end();
    await sink.drain();
    if (documents === 0 && problems.list().length === 0) {
      problems.add(
        'empty-file',
        `${file.display}: no documents in it (only blank lines?)`,
        'Nothing to import; leave it out or fill it.',
      );
    }
    return report();
  } finally {
    await handle.close();
  }
}

interface Parser {
  push(text: string): void;
  end(): void;
  abort(): void;
}

function makeParser(
  file: SourceFile,
  opts: ReadOptions,
  sink: DocumentSink,
  problems: ProblemLog,
  counted: () => void,
): Parser {
  const whole = (text: string, line: number | null): void => {
    sink.open(line);
    sink.write(text);
    sink.close();
    counted();
  };
  switch (file.format) {
    case 'text':
    case 'markdown': {
      let opened = false;
      let any = false;
      return {
        push(text) {
          if (!opened) {
            sink.open(null);
            opened = true;
          }
          if (text) any = true;
          sink.write(text);
        },
        end() {
          if (opened) {
            sink.close();
            if (any) counted();
          }
          opened = false;
        },
        abort() {
          if (opened) sink.discard();
          opened = false;
        },
      };
    }
    case 'jsonl': {
      const lines = new LineSplitter();
      const field = opts.textField;
      const onLine = (line: string, lineNo: number): void => {
        if (line.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (e) {
          problems.add(
            'invalid-json',
            `${file.display}: lines that are not valid JSON (${(e as Error).message.slice(0, 80)})`,
            'Fix or remove those lines: each line must be one JSON object.',
            lineNo,
          );
          return;
        }
        const r = extractField(value, field);
        if (r.ok) whole(r.text, lineNo);
        else if (r.kind === 'missing-field') {
          problems.add(
            'missing-field',
            `${file.display}: records without a "${field}" field`,
            `Name the field that holds the text with --text-field (API: textField); records without it are skipped.`,
            lineNo,
          );
        } else {
          problems.add(
            'not-a-string',
            `${file.display}: records whose "${field}" is not a string (found ${r.found})`,
            'Only string fields become documents; convert the others or pick another --text-field.',
            lineNo,
          );
        }
      };
      return {
        push: (text) => lines.push(text, onLine),
        end() {
          lines.end(onLine);
          for (const line of lines.tooLong)
            problems.add(
              'record-too-long',
              `${file.display}: lines longer than 64 MiB`,
              'Split such records; they were skipped.',
              line,
            );
        },
        abort: () => undefined,
      };
    }
    case 'csv':
    case 'tsv': {
      const parser = new CsvParser(file.format === 'tsv' ? '\t' : ',');
      let column = -1;
      let header: string[] | null = null;
      let failed = false;
      const onRecord = (r: { fields: string[]; line: number }): void => {
        if (failed) return;
        if (header === null) {
          header = r.fields;
          column = findColumn(header, opts.csvColumn);
          if (column < 0) {
            failed = true;
            problems.add(
              'missing-column',
              `${file.display}: no column "${opts.csvColumn}" in the header (columns: ${header.map((h) => JSON.stringify(h)).join(', ')})`,
              'Name the column that holds the text with --csv-column (API: csvColumn); the first row must be the header.',
            );
          }
          return;
        }
        const value = r.fields[column];
        if (value === undefined) {
          problems.add(
            'missing-field',
            `${file.display}: rows with fewer fields than the header`,
            'Those rows lack the text column and were skipped; check the delimiter and the quoting.',
            r.line,
          );
          return;
        }
        whole(value, r.line);
      };
      return {
        push: (text) => parser.push(text, onRecord),
        end() {
          const err = parser.end(onRecord);
          if (err)
            problems.add(
              'malformed-csv',
              `${file.display}: ${err}`,
              'Close the quote (a literal quote inside a quoted field is written ""); the broken record was skipped.',
            );
          if (parser.irregular > 0) {
            problems.add(
              'malformed-csv',
              `${file.display}: ${parser.irregular} fields with stray quotes (kept as text)`,
              'Quote fields that contain quotes and double the inner quotes ("") so they read as intended.',
            );
          }
          for (const line of parser.tooLong)
            problems.add(
              'record-too-long',
              `${file.display}: records longer than 64 MiB (unbalanced quotes?)`,
              'Check the quoting; such records were skipped.',
              line,
            );
        },
        abort: () => undefined,
      };
    }
  }
}

function findColumn(header: string[], name: string): number {
  const exact = header.indexOf(name);
  if (exact >= 0) return exact;
  const norm = (s: string): string => s.trim().toLowerCase();
  return header.findIndex((h) => norm(h) === norm(name));
}

/** Whole-file verdicts from the first block: UTF-16/32 byte-order marks, binary signatures. */
function sniff(bytes: Uint8Array): { kind: FileProblemKind; message: string; hint: string } | null {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    return {
      kind: 'not-utf8',
      message: 'UTF-16 encoded (byte-order mark), not UTF-8',
      hint: 'Re-save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 in > out), then import it.',
    };
  }
  const head = bytes.subarray(0, 8192);
  if (head.indexOf(0) >= 0) {
    return {
      kind: 'binary',
      message: 'contains NUL bytes: a binary file, not text',
      hint: 'Leave binary files (images, archives, PDFs, models) out of the inputs, or export their text first.',
    };
  }
  return null;
}

function encodingHint(display: string, bytes: Uint8Array): string {
  // Bytes 0x80–0xFF that are not valid UTF-8 sequences are most often Latin-1 / Windows-1252 text.
  let high = 0;
  for (let i = 0; i < Math.min(bytes.length, 65536); i++) if (bytes[i]! >= 0x80) high++;
  const guess = high > 0 ? 'It looks like Latin-1/Windows-1252 text' : 'It is not UTF-8';
  return `${guess}: convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 "${display}" > converted.txt, and import the converted file.`;
}

/** Offset of the first byte that breaks UTF-8 in `b` (b.length if the block only ends mid-character). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return b.length;
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}
