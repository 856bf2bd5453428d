/**
 * JSON Lines: one JSON object per line; the document is the string at a named field (a dotted path
 * such as "meta.text" reaches into nested objects). Blank lines are ignored.
 */
export class LineSplitter {
  readonly maxLineChars: number;
  #buf = '';
  #line = 1;
  #skipping = false;
  /** Lines dropped for being longer than maxLineChars (their numbers). */
  readonly tooLong: number[] = [];

  constructor(maxLineChars = 64 << 20) {
    this.maxLineChars = maxLineChars;
  }

  push(text: string, emit: (line: string, lineNo: number) => void): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const part = text.slice(start, nl);
      if (!this.#skipping) emit(stripCR(this.#buf + part), this.#line);
      this.#buf = '';
      this.#skipping = false;
      this.#line++;
      start = nl + 1;
    }
    if (this.#skipping) return;
    this.#buf += text.slice(start);
    if (this.#buf.length > this.maxLineChars) {
      this.tooLong.push(this.#line);
      this.#buf = '';
      this.#skipping = true;
    }
  }

  end(emit: (line: string, lineNo: number) => void): void {
    if (!this.#skipping && this.#buf !== '') emit(stripCR(this.#buf), this.#line);
    this.#buf = '';
  }
}

function stripCR(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

export type FieldResult =
  { ok: true; text: string } | { ok: false; kind: 'missing-field' | 'not-a-string'; found?: string };

/** The string at `path` ("text", "meta.text") of a parsed JSON value. */
export function extractField(value: unknown, path: string): FieldResult {
  let v: unknown = value;
  for (const key of path.split('.')) {
    if (
      v === null ||
      typeof v !== 'object' ||
      Array.isArray(v) ||
      !Object.prototype.hasOwnProperty.call(v, key)
    )
      return { ok: false, kind: 'missing-field' };
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === 'string') return { ok: true, text: v };
  return {
    ok: false,
    kind: 'not-a-string',
    found: v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v,
  };
}

/** Field paths of a JSON object (nested up to 3 levels), for inspect's "fields" list. */
export function fieldPaths(value: unknown, prefix = '', depth = 0): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2)
      out.push(...fieldPaths(v, path, depth + 1));
    else out.push(path);
  }
  return out;
}
