import { countCodePoints, toWellFormed } from '../tokenizers/text.ts';
import { TextHash64 } from './hash.ts';
import { MinHasher, NearDuplicateIndex, type MinHashDocument } from './minhash.ts';
import type { CleaningReport, CleaningStepReport, RemovalStep } from './report.ts';

/**
 * Cleaning, one document at a time, in order: normalisation (CRLF/CR → LF, lone surrogates → U+FFFD,
 * Unicode NFC), optional lower-casing, then the removal steps: empty (only whitespace), shorter than
 * minChars, longer than maxChars, exact duplicate of an earlier document (64-bit hash of the cleaned
 * text), near-duplicate of an earlier one (MinHash + LSH). The first occurrence is kept.
 *
 * Text arrives in chunks (a document may be larger than memory); `push` returns the cleaned text to
 * store, `end` says whether the document is kept. Chunks are cleaned up to their last newline, so
 * NFC, CRLF and lower-casing never see a character cut from its context.
 *
 * Characters are code points, as Python's len() counts them.
 */
export interface CleaningOptions {
  lowercase: boolean;
  minChars: number;
  maxChars: number | null;
  dedup: boolean;
  /** Jaccard similarity threshold in (0, 1], or null for no near-duplicate removal. */
  nearDup: number | null;
  seed: number;
  numPerm?: number;
}

export type Verdict =
  | { kept: true; characters: number }
  | { kept: false; characters: number; reason: RemovalStep; duplicateOf?: number; similarity?: number };

const STEP_DESCRIPTIONS: Record<RemovalStep, string> = {
  empty: 'documents with nothing but whitespace',
  'min-chars': 'documents shorter than the minimum length',
  'max-chars': 'documents longer than the maximum length',
  'exact-dedup': 'exact duplicates of an earlier document (after normalisation)',
  'near-dedup': 'near-duplicates of an earlier document (MinHash/LSH Jaccard similarity ≥ threshold)',
};
const MAX_EXAMPLES = 5;
const PREVIEW_CHARS = 80;
/** With no newline for this long, a chunk is cut at a space instead (or anywhere, as a last resort). */
const MAX_PENDING = 1 << 20;

export class DocumentCleaner {
  readonly options: CleaningOptions;
  readonly #describe: (doc: number) => string;
  readonly #hashes = new Map<string, number>();
  readonly #minHasher: MinHasher | null;
  readonly #index: NearDuplicateIndex | null;
  readonly #steps: Map<RemovalStep, CleaningStepReport>;
  #docsIn = 0;
  #charsIn = 0;
  #docsOut = 0;
  #charsOut = 0;
  #normalized = 0;
  #lowercased = 0;

  /** @param describe names a document for the report ("file.jsonl:12") */
  constructor(options: CleaningOptions, describe: (doc: number) => string) {
    this.options = options;
    this.#describe = describe;
    this.#minHasher =
      options.nearDup === null ? null : new MinHasher({ seed: options.seed, numPerm: options.numPerm });
    this.#index =
      options.nearDup === null ? null : new NearDuplicateIndex(options.nearDup, this.#minHasher!.numPerm);
    const enabled: Record<RemovalStep, boolean> = {
      empty: true,
      'min-chars': options.minChars > 0,
      'max-chars': options.maxChars !== null,
      'exact-dedup': options.dedup,
      'near-dedup': options.nearDup !== null,
    };
    this.#steps = new Map(
      (Object.keys(STEP_DESCRIPTIONS) as RemovalStep[]).map((step) => [
        step,
        {
          step,
          enabled: enabled[step],
          description: STEP_DESCRIPTIONS[step],
          removedDocuments: 0,
          removedCharacters: 0,
          examples: [],
        },
      ]),
    );
  }

  /** Starts document `doc` (the caller's id, used in the report and for duplicates). */
  begin(doc: number): CleanDocument {
    return new CleanDocument(this, doc, this.#minHasher?.begin() ?? null);
  }

  /** @internal */
  normalize(raw: string, stats: { normalized: boolean; lowercased: boolean }): string {
    let t = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
    t = toWellFormed(t).text.normalize('NFC');
    if (t !== raw) stats.normalized = true;
    if (this.options.lowercase) {
      const lower = t.toLowerCase();
      if (lower !== t) stats.lowercased = true;
      t = lower;
    }
    return t;
  }

  /** @internal */
  decide(
    doc: number,
    d: {
      characters: number;
      rawCharacters: number;
      nonSpace: boolean;
      hash: string;
      sig: MinHashDocument | null;
      preview: string;
      normalized: boolean;
      lowercased: boolean;
    },
  ): Verdict {
    this.#docsIn++;
    this.#charsIn += d.rawCharacters;
    if (d.normalized) this.#normalized++;
    if (d.lowercased) this.#lowercased++;
    const o = this.options;
    const remove = (reason: RemovalStep, duplicateOf?: number, similarity?: number): Verdict => {
      const step = this.#steps.get(reason)!;
      step.removedDocuments++;
      step.removedCharacters += d.characters;
      if (step.examples.length < MAX_EXAMPLES) {
        step.examples.push({
          document: this.#describe(doc),
          preview: d.preview,
          ...(duplicateOf === undefined ? {} : { duplicateOf: this.#describe(duplicateOf) }),
          ...(similarity === undefined ? {} : { similarity: Math.round(similarity * 1000) / 1000 }),
        });
      }
      return {
        kept: false,
        characters: d.characters,
        reason,
        ...(duplicateOf === undefined ? {} : { duplicateOf }),
        ...(similarity === undefined ? {} : { similarity }),
      };
    };
    if (!d.nonSpace) return remove('empty');
    if (d.characters < o.minChars) return remove('min-chars');
    if (o.maxChars !== null && d.characters > o.maxChars) return remove('max-chars');
    if (o.dedup) {
      const first = this.#hashes.get(d.hash);
      if (first !== undefined) return remove('exact-dedup', first);
    }
    if (this.#index && d.sig) {
      const sig = d.sig.finish();
      const hit = sig ? this.#index.check(sig, doc) : null;
      if (hit) return remove('near-dedup', hit.duplicateOf, hit.similarity);
    }
    if (o.dedup) this.#hashes.set(d.hash, doc);
    this.#docsOut++;
    this.#charsOut += d.characters;
    return { kept: true, characters: d.characters };
  }

  report(): CleaningReport {
    return {
      documentsIn: this.#docsIn,
      charactersIn: this.#charsIn,
      documentsOut: this.#docsOut,
      charactersOut: this.#charsOut,
      normalizedDocuments: this.#normalized,
      lowercasedDocuments: this.#lowercased,
      steps: [...this.#steps.values()].map((s) => ({ ...s, examples: [...s.examples] })),
      nearDuplicates:
        this.#index && this.#minHasher
          ? {
              threshold: this.#index.threshold,
              numPerm: this.#minHasher.numPerm,
              bands: this.#index.bands,
              rows: this.#index.rows,
              shingleWords: this.#minHasher.shingleWords,
            }
          : null,
    };
  }
}

export class CleanDocument {
  readonly #cleaner: DocumentCleaner;
  readonly #doc: number;
  readonly #sig: MinHashDocument | null;
  readonly #hash = new TextHash64();
  readonly #stats = { normalized: false, lowercased: false };
  #pending = '';
  #characters = 0;
  #rawCharacters = 0;
  #nonSpace = false;
  #preview = '';
  #ended = false;

  constructor(cleaner: DocumentCleaner, doc: number, sig: MinHashDocument | null) {
    this.#cleaner = cleaner;
    this.#doc = doc;
    this.#sig = sig;
  }

  /** Feeds raw text; returns the cleaned text that is final so far (possibly ''). */
  push(raw: string): string {
    const buf = this.#pending + raw;
    let cut = buf.lastIndexOf('\n') + 1;
    if (cut === 0 && buf.length > MAX_PENDING) {
      cut = buf.lastIndexOf(' ') + 1;
      if (cut === 0) cut = safeCodePointCut(buf, buf.length - 1);
    }
    if (cut === 0) {
      this.#pending = buf;
      return '';
    }
    this.#pending = buf.slice(cut);
    return this.#take(cut === buf.length ? buf : buf.slice(0, cut));
  }

  /** Ends the document: returns the last cleaned text and whether the document is kept. */
  end(raw = ''): { text: string; verdict: Verdict } {
    if (this.#ended) throw new Error('document already ended');
    this.#ended = true;
    const text = this.#take(this.#pending + raw);
    this.#pending = '';
    const verdict = this.#cleaner.decide(this.#doc, {
      characters: this.#characters,
      rawCharacters: this.#rawCharacters,
      nonSpace: this.#nonSpace,
      hash: this.#hash.digest(),
      sig: this.#sig,
      preview: this.#preview,
      normalized: this.#stats.normalized,
      lowercased: this.#stats.lowercased,
    });
    return { text, verdict };
  }

  #take(raw: string): string {
    if (raw === '') return '';
    this.#rawCharacters += countCodePoints(raw);
    const t = this.#cleaner.normalize(raw, this.#stats);
    this.#characters += countCodePoints(t);
    if (!this.#nonSpace && /\S/.test(t)) this.#nonSpace = true;
    if (this.#preview.length < PREVIEW_CHARS)
      this.#preview = (this.#preview + t).slice(0, PREVIEW_CHARS).replace(/[\uD800-\uDBFF]$/, '');
    this.#hash.update(t);
    this.#sig?.update(t);
    return t;
  }
}

/** An index ≤ `at` that does not split a surrogate pair. */
function safeCodePointCut(s: string, at: number): number {
  const c = s.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff && at > 0 ? at - 1 : at;
}
