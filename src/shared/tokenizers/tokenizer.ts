import { z } from 'zod';
import { ByteBpe } from './byteBpe.ts';
import { BpeTrainer } from './bpeTrainer.ts';
import { CharTokenizer, CodePointSet } from './charTokenizer.ts';
import { GPT2_EOT, GPT2_EOT_TEXT, GPT2_VOCAB_SIZE, loadGpt2 } from './gpt2.ts';
import { GPT2_PATTERN, splitPieces } from './pretokenize.ts';
import { lenientUtf8Decoder, utf8Encoder } from './text.ts';

/**
 * The three tokenizers behind one interface, and tokenizer.json, the file a dataset keeps its
 * tokenizer in. Pure (no node:*): the renderer's tokenizer preview uses the same code.
 *
 * tokenizer.json (format "xai-link-tokenizer", version 1), by kind:
 * - char: `chars` — the vocabulary; a character's id is its index (nanoGPT's itos).
 * - bpe:  `merges` — [left, right] id pairs in order; merge i creates id 256 + i. Ids 0..255 are the
 *         bytes 0..255. `specialTokens` maps "<|endoftext|>" to the last id. `pattern` is the GPT-2
 *         pre-tokenizer regex (JavaScript "u" flag syntax).
 * - gpt2: the GPT-2 encoding (js-tiktoken's ranks, shipped with the app): nothing else to store.
 */
export const TOKENIZER_FILE_FORMAT = 'xai-link-tokenizer';
export const TOKENIZER_FILE_VERSION = 1;
export const BPE_MIN_VOCAB = 258;
export const BPE_MAX_VOCAB = 262_144;
export const END_OF_TEXT = GPT2_EOT_TEXT;

const header = { format: z.literal(TOKENIZER_FILE_FORMAT), version: z.literal(TOKENIZER_FILE_VERSION) };

export const charTokenizerFileSchema = z.object({
  ...header,
  kind: z.literal('char'),
  vocabSize: z.number().int().positive(),
  chars: z.array(z.string()),
});

export const bpeTokenizerFileSchema = z.object({
  ...header,
  kind: z.literal('bpe'),
  vocabSize: z.number().int().min(BPE_MIN_VOCAB).max(BPE_MAX_VOCAB),
  pattern: z.string(),
  merges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
  specialTokens: z.record(z.string(), z.number().int().nonnegative()),
});

export const gpt2TokenizerFileSchema = z.object({
  ...header,
  kind: z.literal('gpt2'),
  vocabSize: z.literal(GPT2_VOCAB_SIZE),
  encoding: z.literal('gpt2'),
  /** The package whose ranks define the encoding. */
  source: z.string(),
});

export const tokenizerFileSchema = z.discriminatedUnion('kind', [
  charTokenizerFileSchema,
  bpeTokenizerFileSchema,
  gpt2TokenizerFileSchema,
]);
export type TokenizerFile = z.infer<typeof tokenizerFileSchema>;
export type TokenizerKindName = TokenizerFile['kind'];

/** "char", "gpt2" or "bpe:<vocab size>", as the CLI and the API take it. */
export type TokenizerSpec = { kind: 'char' } | { kind: 'gpt2' } | { kind: 'bpe'; vocabSize: number };

export const TOKENIZER_SPEC_PATTERN = /^(char|gpt2|bpe:\d+)$/;

export function parseTokenizerSpec(spec: string): TokenizerSpec {
  if (spec === 'char' || spec === 'gpt2') return { kind: spec };
  const m = /^bpe:(\d+)$/.exec(spec);
  if (m) {
    const vocabSize = Number(m[1]);
    if (vocabSize < BPE_MIN_VOCAB || vocabSize > BPE_MAX_VOCAB) {
      throw new Error(
        `a bpe vocabulary has ${BPE_MIN_VOCAB} to ${BPE_MAX_VOCAB} tokens (256 bytes + merges + <|endoftext|>), not ${vocabSize}`,
      );
    }
    return { kind: 'bpe', vocabSize };
  }
  throw new Error(`unknown tokenizer "${spec}": use char, gpt2 or bpe:<vocab size> (e.g. bpe:4096)`);
}

export function formatTokenizerSpec(spec: TokenizerSpec): string {
  return spec.kind === 'bpe' ? `bpe:${spec.vocabSize}` : spec.kind;
}

/** A token of an encoded sample, for the preview that colours tokens. */
export interface TokenPiece {
  id: number;
  /** The token's text; a token that holds part of a character's UTF-8 bytes shows U+FFFD. */
  text: string;
  /** UTF-16 range of the sample this token covers (tokens sharing one character overlap). */
  start: number;
  end: number;
}

export interface StreamEncoder {
  push(text: string, out: number[]): void;
  end(out: number[]): void;
}

export interface Tokenizer {
  readonly kind: TokenizerKindName;
  readonly vocabSize: number;
  /** Encodes ordinary text (a special token's text inside it is encoded as text). */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  /** Same ids as encode(whole text), for text that arrives in chunks. */
  streamEncoder(): StreamEncoder;
  /** The <|endoftext|> id (bpe, gpt2), or null (char). */
  readonly endOfText: number | null;
  /** UTF-8 bytes of one token. */
  tokenBytes(id: number): Uint8Array;
  toFile(): TokenizerFile;
}

class CharTok implements Tokenizer {
  readonly kind = 'char';
  readonly endOfText = null;
  readonly #t: CharTokenizer;

  constructor(t: CharTokenizer) {
    this.#t = t;
  }
  get vocabSize(): number {
    return this.#t.vocabSize;
  }
  get chars(): readonly string[] {
    return this.#t.chars;
  }
  encode(text: string): number[] {
    return this.#t.encode(text);
  }
  decode(ids: ArrayLike<number>): string {
    return this.#t.decode(ids);
  }
  streamEncoder(): StreamEncoder {
    let offset = 0;
    return {
      push: (text, out) => {
        offset = this.#t.encodeInto(text, out, offset);
      },
      end: () => undefined,
    };
  }
  tokenBytes(id: number): Uint8Array {
    return utf8Encoder.encode(this.#t.decode([id]));
  }
  toFile(): TokenizerFile {
    return {
      format: TOKENIZER_FILE_FORMAT,
      version: TOKENIZER_FILE_VERSION,
      kind: 'char',
      vocabSize: this.vocabSize,
      chars: [...this.#t.chars],
    };
  }
}

class BpeTok implements Tokenizer {
  readonly kind: 'bpe' | 'gpt2';
  readonly endOfText: number;
  readonly #bpe: ByteBpe;
  readonly #file: TokenizerFile;

  constructor(kind: 'bpe' | 'gpt2', bpe: ByteBpe, endOfText: number, file: TokenizerFile) {
    this.kind = kind;
    this.#bpe = bpe;
    this.endOfText = endOfText;
    this.#file = file;
  }
  get vocabSize(): number {
    return this.#bpe.vocabSize;
  }
  encode(text: string): number[] {
    return this.#bpe.encode(text);
  }
  decode(ids: ArrayLike<number>): string {
    return this.#bpe.decode(ids);
  }
  streamEncoder(): StreamEncoder {
    return this.#bpe.streamEncoder();
  }
  tokenBytes(id: number): Uint8Array {
    return this.#bpe.tokenBytes(id);
  }
  toFile(): TokenizerFile {
    return this.#file;
  }
}

export function charTokenizer(chars: readonly string[]): Tokenizer {
  return new CharTok(new CharTokenizer(chars));
}

/** A char tokenizer whose vocabulary is the distinct characters of `text`. */
export function charTokenizerFromText(text: string): Tokenizer {
  const set = new CodePointSet();
  set.addText(text);
  return charTokenizer(CharTokenizer.vocabularyOf(set.values()));
}

/** Our byte-level BPE from its merges: ids 0..255 bytes, 256 + i merge i, then <|endoftext|>. */
export function bpeTokenizer(
  merges: readonly (readonly [number, number])[],
  pattern = GPT2_PATTERN,
): Tokenizer {
  const vocabSize = 256 + merges.length + 1;
  const eot = vocabSize - 1;
  const file: TokenizerFile = {
    format: TOKENIZER_FILE_FORMAT,
    version: TOKENIZER_FILE_VERSION,
    kind: 'bpe',
    vocabSize,
    pattern,
    merges: merges.map(([a, b]) => [a, b] as [number, number]),
    specialTokens: { [END_OF_TEXT]: eot },
  };
  return bpeTokenizerFromFile(file as z.infer<typeof bpeTokenizerFileSchema>);
}

function bpeTokenizerFromFile(file: z.infer<typeof bpeTokenizerFileSchema>): Tokenizer {
  const byteIds = Array.from({ length: 256 }, (_, b) => b);
  const triples = file.merges.map(([a, b], i) => [a, b, 256 + i] as const);
  const eot = file.specialTokens[END_OF_TEXT];
  if (eot === undefined) throw new Error(`a bpe tokenizer.json needs the special token ${END_OF_TEXT}`);
  if (256 + file.merges.length + Object.keys(file.specialTokens).length !== file.vocabSize) {
    throw new Error(
      `bpe tokenizer.json: vocabSize ${file.vocabSize} ≠ 256 bytes + ${file.merges.length} merges + special tokens`,
    );
  }
  const bpe = new ByteBpe({
    byteIds,
    merges: triples,
    specialTokens: file.specialTokens,
    vocabSize: file.vocabSize,
    pattern: file.pattern,
  });
  return new BpeTok('bpe', bpe, eot, file);
}

/** tokenizer.json of the GPT-2 encoding (nothing to store but its name). */
export const GPT2_TOKENIZER_FILE: TokenizerFile = {
  format: TOKENIZER_FILE_FORMAT,
  version: TOKENIZER_FILE_VERSION,
  kind: 'gpt2',
  vocabSize: GPT2_VOCAB_SIZE,
  encoding: 'gpt2',
  source: 'js-tiktoken/ranks/gpt2',
};

export async function gpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await loadGpt2();
  return new BpeTok('gpt2', bpe, GPT2_EOT, GPT2_TOKENIZER_FILE);
}

/** Loads a tokenizer from the parsed content of a tokenizer.json (validated here). */
export async function loadTokenizer(json: unknown): Promise<Tokenizer> {
  const parsed = tokenizerFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `not a valid tokenizer.json: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const file = parsed.data;
  switch (file.kind) {
    case 'char':
      if (file.chars.length !== file.vocabSize)
        throw new Error(`char tokenizer.json: vocabSize ${file.vocabSize} ≠ ${file.chars.length} chars`);
      return charTokenizer(file.chars);
    case 'bpe':
      return bpeTokenizerFromFile(file);
    case 'gpt2':
      return gpt2Tokenizer();
  }
}

/** Counts the pre-tokenized pieces of texts, the input of BPE training. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  add(piece: string): void {
    this.counts.set(piece, (this.counts.get(piece) ?? 0) + 1);
  }
  addText(text: string): void {
    for (const p of splitPieces(text)) this.add(p);
  }
}

/** Trains a bpe tokenizer of `vocabSize` tokens in one go (small inputs, previews, tests). */
export function trainBpeTokenizer(
  wordCounts: Iterable<readonly [string, number]>,
  vocabSize: number,
): Tokenizer {
  const trainer = new BpeTrainer(wordCounts, vocabSize - 257);
  trainer.run();
  return bpeTokenizer(trainer.merges.map((m) => [m.left, m.right] as const));
}

/**
 * Splits a sample into tokens with their text and their place in the sample (for the preview).
 * Works for every kind: byte offsets are mapped back to UTF-16 offsets.
 */
export function tokenPieces(tokenizer: Tokenizer, text: string): TokenPiece[] {
  const ids = tokenizer.encode(text);
  // UTF-16 offset of each UTF-8 byte offset's character.
  const bytes = utf8Encoder.encode(text);
  const charAt = new Int32Array(bytes.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < width; k++) charAt[b + k] = i;
    b += width;
    if (cp >= 0x10000) i++;
  }
  charAt[bytes.length] = text.length;
  const out: TokenPiece[] = [];
  let at = 0;
  for (const id of ids) {
    const tb = tokenizer.tokenBytes(id);
    const start = charAt[at]!;
    const lastByte = at + tb.length - 1;
    at += tb.length;
    const lastChar = charAt[Math.max(0, Math.min(lastByte, bytes.length - 1))]!;
    const cp = text.codePointAt(lastChar) ?? 0;
    const end = tb.length === 0 ? start : lastChar + (cp >= 0x10000 ? 2 : 1);
    out.push({ id, text: lenientUtf8Decoder.decode(tb), start, end });
  }
  return out;
}
