/**
 * A streaming CSV parser (RFC 4180): fields separated by the delimiter, records by CRLF, LF or CR;
 * a quoted field may hold delimiters, newlines and doubled quotes (""). Text arrives in chunks of any
 * size; complete records come out as they finish. Lenient with what RFC 4180 forbids but real files
 * contain (a quote inside an unquoted field, text after a closing quote): kept as text and counted.
 */
export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
}

export class CsvParser {
  readonly delimiter: string;
  readonly maxRecordChars: number;
  #field = '';
  #fields: string[] = [];
  #recordChars = 0;
  #inQuotes = false;
  /** Just read a quote inside a quoted field: the next char decides (another quote, or end of field). */
  #quotePending = false;
  /** The current field started with a quote and that quote has closed. */
  #closedQuote = false;
  #fieldStarted = false;
  #afterCR = false;
  #line = 1;
  #recordLine = 1;
  /** Records that broke the rules (kept leniently). */
  irregular = 0;
  /** Records dropped because they were longer than maxRecordChars (first lines). */
  readonly tooLong: number[] = [];
  #skipping = false;

  constructor(delimiter = ',', maxRecordChars = 64 << 20) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
      throw new Error(`bad CSV delimiter ${JSON.stringify(delimiter)}`);
    this.delimiter = delimiter;
    this.maxRecordChars = maxRecordChars;
  }

  push(text: string, emit: (r: CsvRecord) => void): void {
    const d = this.delimiter;
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i]!;
      if (this.#afterCR) {
        this.#afterCR = false;
        if (c === '\n') {
          i++;
          continue;
        }
      }
      if (this.#inQuotes) {
        if (this.#quotePending) {
          this.#quotePending = false;
          if (c === '"') {
            this.#append('"');
            i++;
            continue;
          }
          this.#inQuotes = false;
          this.#closedQuote = true;
          continue; // re-read c outside the quotes
        }
        const q = text.indexOf('"', i);
        const end = q < 0 ? n : q;
        const chunk = text.slice(i, end);
        this.#countLines(chunk);
        this.#append(chunk);
        i = end;
        if (q >= 0) {
          this.#quotePending = true;
          i++;
        }
        continue;
      }
      if (c === d) {
        this.#endField();
        i++;
      } else if (c === '\n' || c === '\r') {
        this.#endRecord(emit);
        this.#line++;
        if (c === '\r') this.#afterCR = true;
        i++;
      } else if (c === '"' && !this.#fieldStarted) {
        this.#inQuotes = true;
        this.#fieldStarted = true;
        i++;
      } else {
        if (c === '"' || this.#closedQuote) {
          this.irregular++;
          this.#closedQuote = false;
        }
        // Plain run up to the next special character.
        let j = i + 1;
        while (j < n) {
          const cj = text[j]!;
          if (cj === d || cj === '\n' || cj === '\r' || cj === '"') break;
          j++;
        }
        this.#fieldStarted = true;
        this.#append(text.slice(i, j));
        i = j;
      }
    }
  }

  /** The input ended; returns an error message when it ended inside a quoted field. */
  end(emit: (r: CsvRecord) => void): string | null {
    if (this.#inQuotes && !this.#quotePending) {
      const line = this.#recordLine;
      this.#reset();
      return `a quoted field that starts on line ${line} never ends (missing closing quote)`;
    }
    this.#inQuotes = false;
    this.#quotePending = false;
    if (this.#fieldStarted || this.#fields.length > 0) this.#endRecord(emit);
    return null;
  }

  #append(s: string): void {
    if (this.#skipping) return;
    this.#recordChars += s.length;
    if (this.#recordChars > this.maxRecordChars) {
      this.#skipping = true;
      this.tooLong.push(this.#recordLine);
      this.#field = '';
      this.#fields = [];
      return;
    }
    this.#field += s;
  }

  #countLines(s: string): void {
    for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) this.#line++;
    // A lone CR inside quotes also ends a line; CRLF was counted once by its LF.
    for (let k = s.indexOf('\r'); k >= 0; k = s.indexOf('\r', k + 1)) if (s[k + 1] !== '\n') this.#line++;
  }

  #endField(): void {
    if (!this.#skipping) this.#fields.push(this.#field);
    this.#field = '';
    this.#fieldStarted = false;
    this.#closedQuote = false;
  }

  #endRecord(emit: (r: CsvRecord) => void): void {
    this.#endField();
    const fields = this.#fields;
    const line = this.#recordLine;
    const skipped = this.#skipping;
    this.#reset();
    this.#recordLine = this.#line + 1;
    // A blank line is not a record.
    if (skipped || (fields.length === 1 && fields[0] === '')) return;
    emit({ fields, line });
  }

  #reset(): void {
    this.#fields = [];
    this.#field = '';
    this.#fieldStarted = false;
    this.#closedQuote = false;
    this.#inQuotes = false;
    this.#quotePending = false;
    this.#recordChars = 0;
    this.#skipping = false;
  }
}

/** Parses a whole CSV text (tests, previews). */
export function parseCsv(text: string, delimiter = ','): { records: CsvRecord[]; error: string | null } {
  const p = new CsvParser(delimiter);
  const records: CsvRecord[] = [];
  p.push(text, (r) => records.push(r));
  const error = p.end((r) => records.push(r));
  return { records, error };
}
