import { z } from 'zod';
import { BPE_MAX_VOCAB, BPE_MIN_VOCAB, TOKENIZER_SPEC_PATTERN } from '../tokenizers/tokenizer.ts';

/** "char", "gpt2" or "bpe:<vocab size>" (vocab size counts the 256 bytes, the merges and <|endoftext|>). */
export const tokenizerSpecSchema = z
  .string()
  .regex(TOKENIZER_SPEC_PATTERN, 'use char, gpt2 or bpe:<vocab size>, e.g. bpe:4096')
  .refine(
    (s) =>
      !s.startsWith('bpe:') || (Number(s.slice(4)) >= BPE_MIN_VOCAB && Number(s.slice(4)) <= BPE_MAX_VOCAB),
    {
      message: `a bpe vocabulary has ${BPE_MIN_VOCAB} to ${BPE_MAX_VOCAB} tokens`,
    },
  );

export const DEFAULT_SEED = 1337;

/** The settings of a preparation that shape its output (stored in the manifest as `options`). */
export const preparationSettingsShape = {
  tokenizer: tokenizerSpecSchema,
  /** Fraction of the data that goes to val: documents, or the tail of a single document. */
  valRatio: z.number().min(0).max(0.5).default(0.1),
  /** Remove exact duplicate documents. */
  dedup: z.boolean().default(false),
  /** Remove near-duplicates with Jaccard similarity ≥ this (MinHash/LSH); null: off. */
  nearDup: z.number().gt(0).max(1).nullable().default(null),
  lowercase: z.boolean().default(false),
  /** Drop documents shorter than this many characters (code points). */
  minChars: z.number().int().nonnegative().default(0),
  /** Drop documents longer than this many characters; null: no limit. */
  maxChars: z.number().int().positive().nullable().default(null),
  /** JSONL: the field (dotted path) holding the text. */
  textField: z.string().min(1).max(200).default('text'),
  /** CSV/TSV: the header of the column holding the text. */
  csvColumn: z.string().min(1).max(200).default('text'),
  /** Seeds the split and MinHash: the same seed and inputs give byte-identical files. */
  seed: z.number().int().min(0).max(0xffffffff).default(DEFAULT_SEED),
};

export const preparationSettingsSchema = z.object(preparationSettingsShape);
export type PreparationSettings = z.infer<typeof preparationSettingsSchema>;
