import { z } from 'zod';

/**
 * manifest.json of a prepared dataset directory: the contract between dataset preparation (which
 * writes it) and the training engine and evaluator (which read it). The token files use nanoGPT's
 * layout: a flat array of little-endian uint16 (or uint32 when the vocabulary needs it).
 *
 *   <dataset dir>/manifest.json, tokenizer.json, train.bin, val.bin, README.md (dataset card)
 */
export const DATASET_FORMAT_VERSION = 1;

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
  })
  // Preparation adds sources, cleaning report and options; readers ignore what they do not need.
  .passthrough();
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

export function dtypeForVocab(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

export function bytesPerToken(dtype: TokenDtype): 2 | 4 {
  return dtype === 'uint16' ? 2 : 4;
}
