import { z } from 'zod';
import { request } from './contract.ts';
import { datasetManifestSchema, preparationReportFileSchema } from '../datasets/manifest.ts';
import { preparationSettingsShape, tokenizerSpecSchema } from '../datasets/options.ts';
import {
  cleaningReportSchema,
  fileProblemSchema,
  fileReportSchema,
  inputFormatSchema,
} from '../datasets/report.ts';

/**
 * Offline dataset preparation: import text files, clean and deduplicate them, train or load a
 * tokenizer, and write nanoGPT-style token files with a manifest and a dataset card. Datasets live in
 * the data directory's datasets/ folder, one folder per dataset (its id).
 */
export const datasetIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'a dataset id is 1–64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

export const prepareParamsSchema = z.strictObject({
  /** Files and folders (.txt, .md, .jsonl, .csv, .tsv; folders recursively). */
  inputs: z.array(z.string().min(1)).min(1).max(10_000),
  ...preparationSettingsShape,
  /** Display name; the dataset id is derived from it. Default: first input's name + tokenizer. */
  name: z.string().trim().min(1).max(64).optional(),
  /** Write the dataset to this folder (must not exist, or be empty) instead of the data directory. */
  outDir: z.string().min(1).optional(),
});

export const prepareResultSchema = z.object({
  /** null when written to outDir. */
  id: datasetIdSchema.nullable(),
  path: z.string(),
  manifest: datasetManifestSchema,
  files: z.array(fileReportSchema),
  ignoredInFolders: z.object({ count: z.number().int().nonnegative(), examples: z.array(z.string()) }),
  cleaning: cleaningReportSchema,
  timings: z.object({
    importSeconds: z.number(),
    tokenizerSeconds: z.number(),
    encodeSeconds: z.number(),
    totalSeconds: z.number(),
  }),
});
export type PrepareResult = z.infer<typeof prepareResultSchema>;

export const datasetSummarySchema = z.object({
  id: z.string(),
  path: z.string(),
  /** null when the folder has no readable manifest (then `error` says why). */
  name: z.string().nullable(),
  createdAt: z.string().nullable(),
  tokenizer: z.string().nullable(),
  vocabSize: z.number().int().nullable(),
  trainTokens: z.number().int().nullable(),
  valTokens: z.number().int().nullable(),
  bytes: z.number().int().nonnegative(),
  /** Root CID of the folder when it was published to IPFS (datasets.publish), else null. */
  cid: z.string().nullable(),
  error: z.string().optional(),
});
export type DatasetSummary = z.infer<typeof datasetSummarySchema>;

export const publishResultSchema = z.object({
  id: z.string(),
  cid: z.string(),
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  publishedAt: z.string(),
});
export type PublishResult = z.infer<typeof publishResultSchema>;

export const tokenPieceSchema = z.object({
  id: z.number().int().nonnegative(),
  text: z.string(),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});

export const inspectResultSchema = z.object({
  path: z.string(),
  kind: z.enum(['file', 'directory', 'missing', 'other']),
  bytes: z.number().int().nonnegative(),
  format: inputFormatSchema.nullable(),
  /** JSONL: field paths seen in the first records; CSV/TSV: the header. */
  fields: z.array(z.string()),
  /** Whether the text field / column asked for exists. */
  textFieldFound: z.boolean().nullable(),
  /** The first documents (each cut to 500 characters). */
  samples: z.array(z.string()),
  problems: z.array(fileProblemSchema),
  /** Folders: supported files by format, and the first of them. */
  directory: z
    .object({
      files: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      byFormat: z.record(z.string(), z.number().int().nonnegative()),
      ignored: z.number().int().nonnegative(),
      /** The folder holds more entries than an inspection walks: the counts are those of the first ones. */
      truncated: z.boolean(),
      examples: z.array(
        z.object({ path: z.string(), format: inputFormatSchema, bytes: z.number().int().nonnegative() }),
      ),
    })
    .nullable(),
});
export type InspectResult = z.infer<typeof inspectResultSchema>;

export const datasetsRequests = {
  'datasets.prepare': request({
    description:
      'Prepares a dataset from text files as a job (job.progress events; cancel with jobs.cancel): import, clean, deduplicate, tokenize, write train.bin/val.bin, manifest.json, tokenizer.json and a dataset card atomically.',
    params: prepareParamsSchema,
    result: prepareResultSchema,
  }),
  'datasets.list': request({
    description: 'The datasets in the data directory, newest first.',
    params: z.strictObject({}),
    result: z.array(datasetSummarySchema),
  }),
  'datasets.get': request({
    description: "A dataset's manifest, dataset card (README.md) and preparation report.",
    params: z.strictObject({ id: datasetIdSchema }),
    result: z.object({
      id: z.string(),
      path: z.string(),
      manifest: datasetManifestSchema,
      card: z.string(),
      report: preparationReportFileSchema.nullable(),
      /** Root CID when published to IPFS, and when. */
      cid: z.string().nullable(),
      publishedAt: z.string().nullable(),
    }),
  }),
  'datasets.publish': request({
    description:
      'Adds a dataset folder to the embedded IPFS node, pinned, as a job (job.progress events; cancel with jobs.cancel), and records its root CID with the dataset.',
    params: z.strictObject({ id: datasetIdSchema }),
    result: publishResultSchema,
  }),
  'datasets.delete': request({
    description: 'Deletes a dataset folder from the data directory.',
    params: z.strictObject({ id: datasetIdSchema }),
    result: z.object({ deleted: z.boolean() }),
  }),
  'datasets.tokenize': request({
    description:
      "Tokenizes a sample text for the tokenizer preview: with a dataset's tokenizer, or with a tokenizer spec (gpt2; char and bpe:<n> are built from the sample itself).",
    params: z
      .strictObject({
        text: z.string().max(100_000),
        dataset: datasetIdSchema.optional(),
        tokenizer: tokenizerSpecSchema.optional(),
      })
      .refine((p) => (p.dataset === undefined) !== (p.tokenizer === undefined), {
        message: 'give either dataset or tokenizer',
        path: ['tokenizer'],
      }),
    result: z.object({
      tokenizer: z.object({ kind: z.enum(['char', 'bpe', 'gpt2']), vocabSize: z.number().int().positive() }),
      tokens: z.array(tokenPieceSchema),
      characters: z.number().int().nonnegative(),
    }),
  }),
  'datasets.inspect': request({
    description:
      'Previews an input file or folder before import: detected format, fields or columns, sample documents, problems.',
    params: z.strictObject({
      path: z.string().min(1),
      textField: z.string().min(1).max(200).default('text'),
      csvColumn: z.string().min(1).max(200).default('text'),
    }),
    result: inspectResultSchema,
  }),
};
