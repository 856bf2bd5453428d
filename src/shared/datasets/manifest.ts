import { z } from 'zod';
import { cleaningReportSchema, fileReportSchema, inputFormatSchema } from './report.ts';
import { preparationSettingsSchema } from './options.ts';

/**
 * manifest.json of a prepared dataset directory: the contract between dataset preparation (which
 * writes it) and the training engine and evaluator (which read it). The token files use nanoGPT's
 * layout: a flat array of little-endian uint16 (or uint32 when the vocabulary needs it).
 *
 *   <dataset dir>/manifest.json, tokenizer.json, train.bin, val.bin, README.md (dataset card),
 *   report.json (the full preparation report: every input file, every cleaning step)
 *
 * What a reader can rely on (format version 1):
 * - train.bin / val.bin: `splits.<name>.tokens` tokens of `dtype`, little-endian, nothing else (no
 *   header), so `np.memmap(path, dtype=np.uint16, mode='r')` reads them as nanoGPT does.
 * - Every token id is < `vocabSize`; tokenizer.json decodes them (src/shared/tokenizers: loadTokenizer).
 * - Multi-document datasets: each document is followed by `documentSeparator.ids` (<|endoftext|> for
 *   bpe and gpt2, as nanoGPT's openwebtext; "\n\n" for char). A single-document dataset has none.
 * - Sizes and SHA-256 of every file but the manifest itself are in `files` (and per split in `splits`).
 * The fields after `splits` are optional in this schema so that hand-made manifests (tests, other
 * tools) still load; datasets prepared by XAI-Link always have them (preparedManifestSchema).
 */
export const DATASET_FORMAT_VERSION = 1;

export const DATASET_FILES = {
  manifest: 'manifest.json',
  tokenizer: 'tokenizer.json',
  train: 'train.bin',
  val: 'val.bin',
  card: 'README.md',
  report: 'report.json',
} as const;

export const tokenDtypeSchema = z.enum(['uint16', 'uint32']);
export type TokenDtype = z.infer<typeof tokenDtypeSchema>;

export const tokenizerKindSchema = z.enum(['char', 'bpe', 'gpt2']);
export type TokenizerKind = z.infer<typeof tokenizerKindSchema>;

export const splitStatsSchema = z.object({
  /** File name relative to the dataset directory. */
  file: z.string().regex(/^[\w.-]+$/, 'a plain file name inside the dataset directory'),
  documents: z.number().int().nonnegative(),
  characters: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SplitStats = z.infer<typeof splitStatsSchema>;

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

export const manifestFileEntrySchema = z.object({
  bytes: z.number().int().nonnegative(),
  sha256: sha256Schema,
});

export const manifestSourceSchema = z.object({
  /** Relative to the input given (a file's name, or folder/…/file): no absolute paths leave the machine. */
  path: z.string(),
  format: inputFormatSchema.nullable(),
  status: z.enum(['ok', 'partial', 'skipped']),
  bytes: z.number().int().nonnegative(),
  documents: z.number().int().nonnegative(),
  sha256: sha256Schema.nullable(),
});

export const documentSeparatorSchema = z.object({
  text: z.string(),
  ids: z.array(z.number().int().nonnegative()),
});

export const splitRuleSchema = z.object({
  /** documents: whole documents go to train or val; single-document: the text is cut like nanoGPT's prepare.py. */
  rule: z.enum(['documents', 'single-document']),
  valRatio: z.number(),
  seed: z.number().int(),
});

const extendedShape = {
  /** "char", "gpt2" or "bpe:<vocab>" as asked; vocabSize is what was built. */
  tokenizerSpec: z.string().optional(),
  /** Tokens after each document in a multi-document dataset; null when there is one document. */
  documentSeparator: documentSeparatorSchema.nullable().optional(),
  split: splitRuleSchema.optional(),
  /** Every file of the dataset directory except manifest.json: size and SHA-256. */
  files: z.record(z.string(), manifestFileEntrySchema).optional(),
  sources: z.array(manifestSourceSchema).optional(),
  import: z
    .object({
      filesRead: z.number().int().nonnegative(),
      filesPartial: z.number().int().nonnegative(),
      filesSkipped: z.number().int().nonnegative(),
      documents: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
    })
    .optional(),
  cleaning: cleaningReportSchema.optional(),
  /** The settings the dataset was prepared with (inputs are in `sources`). */
  options: preparationSettingsSchema.optional(),
  generator: z.object({ name: z.string(), version: z.string() }).optional(),
};

export const datasetManifestSchema = z
  .object({
    formatVersion: z.literal(DATASET_FORMAT_VERSION),
    name: z.string().min(1),
    createdAt: z.string(),
    tokenizer: z.object({
      kind: tokenizerKindSchema,
      /** tokenizer.json beside the manifest. */
      file: z.string().regex(/^[\w.-]+$/),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    vocabSize: z.number().int().positive(),
    dtype: tokenDtypeSchema,
    splits: z.object({ train: splitStatsSchema, val: splitStatsSchema }),
    ...extendedShape,
  })
  // Readers ignore what they do not need; later versions may add fields.
  .passthrough();
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

/** What XAI-Link's preparation writes: every field present. */
export const preparedManifestSchema = datasetManifestSchema.required({
  tokenizerSpec: true,
  documentSeparator: true,
  split: true,
  files: true,
  sources: true,
  import: true,
  cleaning: true,
  options: true,
  generator: true,
});
export type PreparedManifest = z.infer<typeof preparedManifestSchema>;

/** The report.json beside the manifest. */
export const preparationReportFileSchema = z.object({
  formatVersion: z.literal(DATASET_FORMAT_VERSION),
  files: z.array(fileReportSchema),
  ignoredInFolders: z.object({ count: z.number().int().nonnegative(), examples: z.array(z.string()) }),
  cleaning: cleaningReportSchema,
});
export type PreparationReportFile = z.infer<typeof preparationReportFileSchema>;

export function dtypeForVocab(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

export function bytesPerToken(dtype: TokenDtype): 2 | 4 {
  return dtype === 'uint16' ? 2 : 4;
}
