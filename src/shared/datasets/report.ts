import { z } from 'zod';

/**
 * What dataset preparation reports: per input file (what was read, what was skipped and why, what to
 * do about it) and per cleaning step (what it removed). Stored in the manifest (summary) and in
 * report.json (everything), returned by datasets.prepare and datasets.get.
 */
export const inputFormatSchema = z.enum(['text', 'markdown', 'jsonl', 'csv', 'tsv']);
export type InputFormat = z.infer<typeof inputFormatSchema>;

export const fileProblemKindSchema = z.enum([
  'not-found',
  'unreadable',
  'unsupported-type',
  'empty-file',
  'binary',
  'not-utf8',
  'invalid-json',
  'missing-field',
  'not-a-string',
  'missing-column',
  'malformed-csv',
  'record-too-long',
]);
export type FileProblemKind = z.infer<typeof fileProblemKindSchema>;

export const fileProblemSchema = z.object({
  kind: fileProblemKindSchema,
  message: z.string(),
  /** How many records (lines, rows) had this problem; 1 for a whole-file problem. */
  count: z.number().int().nonnegative(),
  /** 1-based line numbers of the first few records concerned. */
  lines: z.array(z.number().int().positive()).optional(),
  /** What the user can do about it. */
  hint: z.string(),
});
export type FileProblem = z.infer<typeof fileProblemSchema>;

export const fileReportSchema = z.object({
  /** Path shown to people and stored in the dataset: relative to the input given (no home directories). */
  path: z.string(),
  format: inputFormatSchema.nullable(),
  /** ok: fully read; partial: read, some records skipped; skipped: nothing taken from it. */
  status: z.enum(['ok', 'partial', 'skipped']),
  bytes: z.number().int().nonnegative(),
  /** Documents taken from the file (before cleaning). */
  documents: z.number().int().nonnegative(),
  /** SHA-256 of the file's bytes when it was read to the end. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  problems: z.array(fileProblemSchema),
});
export type FileReport = z.infer<typeof fileReportSchema>;

export const importReportSchema = z.object({
  files: z.array(fileReportSchema),
  filesRead: z.number().int().nonnegative(),
  filesPartial: z.number().int().nonnegative(),
  filesSkipped: z.number().int().nonnegative(),
  /** Files in input folders that are not of a supported type (not read, not listed one by one). */
  ignoredInFolders: z.object({ count: z.number().int().nonnegative(), examples: z.array(z.string()) }),
  documents: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type ImportReport = z.infer<typeof importReportSchema>;

export const removalStepSchema = z.enum(['empty', 'min-chars', 'max-chars', 'exact-dedup', 'near-dedup']);
export type RemovalStep = z.infer<typeof removalStepSchema>;

export const removalExampleSchema = z.object({
  /** "file.jsonl:12" (line of the record) or "file.txt". */
  document: z.string(),
  preview: z.string(),
  duplicateOf: z.string().optional(),
  similarity: z.number().optional(),
});

export const cleaningStepReportSchema = z.object({
  step: removalStepSchema,
  enabled: z.boolean(),
  description: z.string(),
  removedDocuments: z.number().int().nonnegative(),
  removedCharacters: z.number().int().nonnegative(),
  examples: z.array(removalExampleSchema),
});
export type CleaningStepReport = z.infer<typeof cleaningStepReportSchema>;

export const cleaningReportSchema = z.object({
  documentsIn: z.number().int().nonnegative(),
  charactersIn: z.number().int().nonnegative(),
  documentsOut: z.number().int().nonnegative(),
  charactersOut: z.number().int().nonnegative(),
  /** Documents changed by Unicode NFC, newline normalisation (CRLF/CR → LF) and lone-surrogate repair. */
  normalizedDocuments: z.number().int().nonnegative(),
  /** Documents changed by lower-casing (0 when lowercase is off). */
  lowercasedDocuments: z.number().int().nonnegative(),
  steps: z.array(cleaningStepReportSchema),
  nearDuplicates: z
    .object({
      threshold: z.number(),
      numPerm: z.number().int(),
      bands: z.number().int(),
      rows: z.number().int(),
      shingleWords: z.number().int(),
    })
    .nullable(),
});
export type CleaningReport = z.infer<typeof cleaningReportSchema>;
