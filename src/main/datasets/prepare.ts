import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ApiError } from '../../shared/api/errors.ts';
import { renderDatasetCard } from '../../shared/datasets/card.ts';
import { DocumentCleaner } from '../../shared/datasets/clean.ts';
import {
  DATASET_FILES,
  DATASET_FORMAT_VERSION,
  dtypeForVocab,
  preparedManifestSchema,
  type PreparationReportFile,
  type PreparedManifest,
} from '../../shared/datasets/manifest.ts';
import type { PreparationSettings } from '../../shared/datasets/options.ts';
import type { CleaningReport, FileReport } from '../../shared/datasets/report.ts';
import { planSplit, type SplitPlan } from '../../shared/datasets/split.ts';
import { BpeTrainer } from '../../shared/tokenizers/bpeTrainer.ts';
import { CharTokenizer, CodePointSet } from '../../shared/tokenizers/charTokenizer.ts';
import { StreamPretokenizer } from '../../shared/tokenizers/pretokenize.ts';
import { indexOfCodePoint, countCodePoints } from '../../shared/tokenizers/text.ts';
import {
  END_OF_TEXT,
  bpeTokenizer,
  charTokenizer,
  formatTokenizerSpec,
  gpt2Tokenizer,
  parseTokenizerSpec,
  type StreamEncoder,
  type Tokenizer,
} from '../../shared/tokenizers/tokenizer.ts';
import type { ProgressUpdate } from '../services/jobs.ts';
import { readSource, resolveInputs, type DocumentSink } from './sources.ts';
import { SpoolWriter, readSpool } from './spool.ts';
import { TokenFileWriter } from './tokenFile.ts';

/**
 * Offline dataset preparation, end to end:
 *
 *  1. import + clean (streaming): every input file is read in blocks, parsed into documents, cleaned
 *     and deduplicated; the kept documents go to a spool file (UTF-8) in the temporary directory;
 *  2. split plan (by document, or nanoGPT's 90/10 cut of a single document);
 *  3. tokenizer: char collects the characters, bpe counts pre-tokenized words and trains (both by
 *     reading the spool back), gpt2 loads its ranks;
 *  4. encode: the spool is read again and the ids streamed into train.bin / val.bin;
 *  5. tokenizer.json, report.json, README.md and manifest.json are written, the spool deleted, every
 *     file fsynced, and the temporary directory renamed to the destination in one step.
 *
 * Anything that fails or is cancelled removes the temporary directory: the destination either does
 * not exist or is complete, and an existing dataset is never touched.
 */
export interface PrepareInput extends PreparationSettings {
  inputs: string[];
  name: string;
}

export interface PrepareContext {
  signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  generator: { name: string; version: string };
}

export interface PrepareOutcome {
  path: string;
  manifest: PreparedManifest;
  report: PreparationReportFile;
  timings: { importSeconds: number; tokenizerSeconds: number; encodeSeconds: number; totalSeconds: number };
}

const SPOOL = 'documents.spool';

export async function prepareDataset(
  input: PrepareInput,
  destination: string,
  ctx: PrepareContext,
): Promise<PrepareOutcome> {
  const t0 = performance.now();
  const spec = parseTokenizerSpec(input.tokenizer);
  await assertDestinationFree(destination);

  ctx.progress({ stage: 'Finding input files', done: 0, total: null, unit: 'files' });
  const resolved = await resolveInputs(input.inputs, ctx.signal);
  if (resolved.files.length === 0) {
    const why = resolved.problems.map((p) => p.problems[0]?.message).filter(Boolean);
    throw new ApiError('INVALID_PARAMS', `No input file to read${why.length ? `: ${why.join('; ')}` : ''}`, {
      field: 'inputs',
      hint: `Give files or folders of ${['.txt', '.md', '.jsonl', '.csv', '.tsv'].join(', ')}.`,
    });
  }

  const parent = dirname(destination);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(destination)}.partial-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    // 1. Import and clean.
    const fileReports: FileReport[] = [...resolved.problems];
    const totalBytes = resolved.files.reduce((s, f) => s + f.bytes, 0);
    const spool = await SpoolWriter.create(join(tmp, SPOOL));
    // Per document: its file and line (0: whole file), compact so millions of records stay cheap.
    const origin = { file: [] as number[], line: [] as number[] };
    const cleaner = new DocumentCleaner(
      {
        lowercase: input.lowercase,
        minChars: input.minChars,
        maxChars: input.maxChars,
        dedup: input.dedup,
        nearDup: input.nearDup,
        seed: input.seed,
      },
      (doc) => {
        const file = resolved.files[origin.file[doc]!]?.display ?? 'document';
        const line = origin.line[doc] ?? 0;
        return line > 0 ? `${file}:${line}` : file;
      },
    );
    let bytesBefore = 0;
    try {
      for (const [fileIndex, file] of resolved.files.entries()) {
        const sink = cleaningSink(fileIndex, origin, cleaner, spool);
        const report = await readSource(
          file,
          {
            textField: input.textField,
            csvColumn: input.csvColumn,
            signal: ctx.signal,
            onBytes: (n) =>
              ctx.progress({
                stage: 'Reading and cleaning',
                done: bytesBefore + n,
                total: totalBytes,
                unit: 'bytes',
                message: file.display,
              }),
          },
          sink,
        );
        bytesBefore += file.bytes;
        fileReports.push(report);
      }
    } finally {
      await spool.close();
    }
    fileReports.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const cleaning = cleaner.report();
    const tImport = performance.now();
    const kept = spool.lengths.length;
    if (kept === 0) throw nothingLeft(fileReports, cleaning);

    // 2. Split.
    const plan = planSplit(spool.characters, input.valRatio, input.seed);
    const multi = plan.rule === 'documents';
    const spoolPath = join(tmp, SPOOL);
    const spoolBytes = spool.lengths.reduce((s, n) => s + n, 0);
    const pass = (
      stage: string,
      visitor: Parameters<typeof readSpool>[2],
      afterBlock?: () => Promise<void>,
    ): Promise<void> =>
      readSpool(spoolPath, spool.lengths, visitor, {
        signal: ctx.signal,
        onBytes: (n) =>
          ctx.progress({ stage, done: Math.min(n, spoolBytes), total: spoolBytes, unit: 'bytes' }),
        afterBlock: afterBlock ?? yieldToLoop,
      });

    // 3. Tokenizer.
    let tokenizer: Tokenizer;
    if (spec.kind === 'char') {
      const set = new CodePointSet();
      await pass('Collecting characters', { begin() {}, text: (t) => set.addText(t), end() {} });
      if (multi) set.addText('\n');
      tokenizer = charTokenizer(CharTokenizer.vocabularyOf(set.values()));
    } else if (spec.kind === 'bpe') {
      const counts = new Map<string, number>();
      const add = (p: string): void => {
        counts.set(p, (counts.get(p) ?? 0) + 1);
      };
      let pre = new StreamPretokenizer();
      await pass('Counting words', {
        begin() {
          pre = new StreamPretokenizer();
        },
        text: (t) => pre.push(t, add),
        end: () => pre.end(add),
      });
      const merges = spec.vocabSize - 257;
      const trainer = new BpeTrainer(counts, merges);
      counts.clear();
      while (!trainer.done) {
        ctx.signal.throwIfAborted();
        const done = trainer.run(50);
        ctx.progress({ stage: 'Training BPE', done, total: merges, unit: 'merges' });
        await yieldToLoop();
      }
      tokenizer = bpeTokenizer(trainer.merges.map((m) => [m.left, m.right] as const));
    } else {
      ctx.progress({ stage: 'Loading GPT-2 encoding', done: 0, total: null, unit: '' });
      tokenizer = await gpt2Tokenizer();
    }
    const tTokenizer = performance.now();

    // 4. Encode.
    const dtype = dtypeForVocab(tokenizer.vocabSize);
    const separatorText = tokenizer.kind === 'char' ? '\n\n' : END_OF_TEXT;
    // Only a multi-document split uses the separator (and only then has a char vocabulary "\n" for it).
    const separatorIds =
      tokenizer.endOfText !== null ? [tokenizer.endOfText] : multi ? tokenizer.encode(separatorText) : [];
    const trainFile = await TokenFileWriter.create(
      join(tmp, DATASET_FILES.train),
      dtype,
      tokenizer.vocabSize,
    );
    const valFile = await TokenFileWriter.create(join(tmp, DATASET_FILES.val), dtype, tokenizer.vocabSize);
    const splitStats = { train: { documents: 0, characters: 0 }, val: { documents: 0, characters: 0 } };
    let trainResult;
    let valResult;
    try {
      await encodePass(
        pass,
        plan,
        tokenizer,
        spool.characters,
        multi ? separatorIds : null,
        trainFile,
        valFile,
        splitStats,
      );
      trainResult = await trainFile.close();
      valResult = await valFile.close();
    } catch (e) {
      await trainFile.abandon();
      await valFile.abandon();
      throw e;
    }
    const tEncode = performance.now();
    ctx.signal.throwIfAborted();

    // 5. Metadata files.
    ctx.progress({ stage: 'Writing', done: 0, total: null, unit: '' });
    await rm(spoolPath, { force: true });
    const tokenizerJson = `${JSON.stringify(tokenizer.toFile())}\n`;
    const reportFile: PreparationReportFile = {
      formatVersion: DATASET_FORMAT_VERSION,
      files: fileReports,
      ignoredInFolders: resolved.ignored,
      cleaning,
    };
    const reportJson = `${JSON.stringify(reportFile, null, 2)}\n`;
    const files: Record<string, { bytes: number; sha256: string }> = {};
    files[DATASET_FILES.train] = { bytes: trainResult.bytes, sha256: trainResult.sha256 };
    files[DATASET_FILES.val] = { bytes: valResult.bytes, sha256: valResult.sha256 };
    files[DATASET_FILES.tokenizer] = await writeDurable(join(tmp, DATASET_FILES.tokenizer), tokenizerJson);
    files[DATASET_FILES.report] = await writeDurable(join(tmp, DATASET_FILES.report), reportJson);

    const { inputs: _inputs, name: _name, ...settings } = input;
    const manifest: PreparedManifest = {
      formatVersion: DATASET_FORMAT_VERSION,
      name: input.name,
      createdAt: new Date().toISOString(),
      tokenizer: {
        kind: tokenizer.kind,
        file: DATASET_FILES.tokenizer,
        sha256: files[DATASET_FILES.tokenizer].sha256,
      },
      vocabSize: tokenizer.vocabSize,
      dtype,
      splits: {
        train: {
          file: DATASET_FILES.train,
          ...splitStats.train,
          bytes: trainResult.bytes,
          tokens: trainResult.tokens,
          sha256: trainResult.sha256,
        },
        val: {
          file: DATASET_FILES.val,
          ...splitStats.val,
          bytes: valResult.bytes,
          tokens: valResult.tokens,
          sha256: valResult.sha256,
        },
      },
      tokenizerSpec: formatTokenizerSpec(spec),
      documentSeparator: multi ? { text: separatorText, ids: separatorIds } : null,
      split: { rule: plan.rule, valRatio: input.valRatio, seed: input.seed },
      files,
      sources: fileReports.map((f) => ({
        path: f.path,
        format: f.format,
        status: f.status,
        bytes: f.bytes,
        documents: f.documents,
        sha256: f.sha256,
      })),
      import: {
        filesRead: fileReports.filter((f) => f.status !== 'skipped').length,
        filesPartial: fileReports.filter((f) => f.status === 'partial').length,
        filesSkipped: fileReports.filter((f) => f.status === 'skipped').length,
        documents: cleaning.documentsIn,
        bytes: totalBytes,
      },
      cleaning,
      options: settings,
      generator: ctx.generator,
    };
    // The card lists the other files' checksums; the manifest then adds the card's.
    const card = renderDatasetCard(manifest, reportFile);
    files[DATASET_FILES.card] = await writeDurable(join(tmp, DATASET_FILES.card), card);
    const checked = preparedManifestSchema.parse(manifest) as PreparedManifest;
    await writeDurable(join(tmp, DATASET_FILES.manifest), `${JSON.stringify(checked, null, 2)}\n`);
    await syncDir(tmp);

    ctx.signal.throwIfAborted();
    await assertDestinationFree(destination);
    await rmdir(destination).catch(() => undefined); // an empty folder given with --out
    try {
      await rename(tmp, destination);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY')
        throw new ApiError(
          'CONFLICT',
          `${destination} appeared while preparing; the new dataset was discarded`,
        );
      throw e;
    }
    await syncDir(parent);
    const tEnd = performance.now();
    return {
      path: destination,
      manifest: checked,
      report: reportFile,
      timings: {
        importSeconds: (tImport - t0) / 1000,
        tokenizerSeconds: (tTokenizer - tImport) / 1000,
        encodeSeconds: (tEncode - tTokenizer) / 1000,
        totalSeconds: (tEnd - t0) / 1000,
      },
    };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (ctx.signal.aborted && !(e instanceof ApiError && e.code === 'CANCELLED'))
      throw new ApiError('CANCELLED', 'Dataset preparation was cancelled; nothing was written');
    throw e;
  }
}

/** Import sink: each document is cleaned as it streams and written to the spool; cleaning decides at its end. */
function cleaningSink(
  fileIndex: number,
  origin: { file: number[]; line: number[] },
  cleaner: DocumentCleaner,
  spool: SpoolWriter,
): DocumentSink {
  let doc: ReturnType<DocumentCleaner['begin']> | null = null;
  return {
    open(line) {
      const id = origin.file.length;
      origin.file.push(fileIndex);
      origin.line.push(line ?? 0);
      doc = cleaner.begin(id);
      spool.begin();
    },
    write(text) {
      spool.write(doc!.push(text));
    },
    close() {
      const { text, verdict } = doc!.end();
      spool.write(text);
      if (verdict.kept) spool.keep(verdict.characters);
      else spool.drop();
      doc = null;
    },
    discard() {
      spool.drop();
      doc = null;
    },
    drain: () => spool.drain(),
  };
}

type SplitName = 'train' | 'val';

async function encodePass(
  pass: (
    stage: string,
    v: Parameters<typeof readSpool>[2],
    afterBlock?: () => Promise<void>,
  ) => Promise<void>,
  plan: SplitPlan,
  tokenizer: Tokenizer,
  characters: readonly number[],
  separator: number[] | null,
  train: TokenFileWriter,
  val: TokenFileWriter,
  stats: Record<SplitName, { documents: number; characters: number }>,
): Promise<void> {
  const ids: number[] = [];
  const writer = (s: SplitName): TokenFileWriter => (s === 'train' ? train : val);
  let split: SplitName = 'train';
  let enc: StreamEncoder = tokenizer.streamEncoder();
  // Single document: characters still to go to train before switching to val.
  let trainLeft = plan.rule === 'single-document' ? plan.trainCharacters : 0;
  const flush = (): void => writer(split).push(ids);
  await pass(
    'Tokenizing',
    {
      begin(doc) {
        split =
          plan.rule === 'documents' ? (plan.isVal[doc] ? 'val' : 'train') : trainLeft > 0 ? 'train' : 'val';
        enc = tokenizer.streamEncoder();
        stats[split].documents++;
        if (plan.rule === 'documents') stats[split].characters += characters[doc]!;
      },
      text(t) {
        if (plan.rule === 'single-document' && split === 'train') {
          const n = countCodePoints(t);
          if (n > trainLeft) {
            // nanoGPT's cut: the rest of this piece starts val, encoded on its own.
            const cut = indexOfCodePoint(t, trainLeft);
            enc.push(t.slice(0, cut), ids);
            enc.end(ids);
            flush();
            stats.train.characters += trainLeft;
            trainLeft = 0;
            split = 'val';
            stats.val.documents++;
            enc = tokenizer.streamEncoder();
            const rest = t.slice(cut);
            stats.val.characters += countCodePoints(rest);
            enc.push(rest, ids);
            flush();
            return;
          }
          trainLeft -= n;
          stats.train.characters += n;
        } else if (plan.rule === 'single-document') stats.val.characters += countCodePoints(t);
        enc.push(t, ids);
        flush();
      },
      end() {
        enc.end(ids);
        if (separator) ids.push(...separator);
        flush();
      },
    },
    async () => {
      await train.drain();
      await val.drain();
      await yieldToLoop();
    },
  );
}

async function assertDestinationFree(destination: string): Promise<void> {
  let st;
  try {
    st = await stat(destination);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory() && (await readdir(destination)).length === 0) return;
  throw new ApiError('CONFLICT', `${destination} already exists; an existing dataset is never overwritten`, {
    hint: 'Choose another name or output folder, or delete the existing dataset first.',
  });
}

function nothingLeft(files: FileReport[], cleaning: CleaningReport): ApiError {
  const read = files.filter((f) => f.status !== 'skipped').length;
  const removed = cleaning.steps
    .filter((s) => s.removedDocuments > 0)
    .map((s) => `${s.step}: ${s.removedDocuments}`);
  const problems = files.flatMap((f) => f.problems.map((p) => p.message)).slice(0, 5);
  return new ApiError(
    'FAILED_PRECONDITION',
    `Nothing to tokenize: ${read} of ${files.length} files read, ${cleaning.documentsIn} documents found` +
      (removed.length ? `, all removed by cleaning (${removed.join(', ')})` : '') +
      (problems.length ? `. Problems: ${problems.join('; ')}` : ''),
    { hint: 'Check the inputs, --text-field/--csv-column, and the length filters.' },
  );
}

async function writeDurable(path: string, text: string): Promise<{ bytes: number; sha256: string }> {
  const data = Buffer.from(text, 'utf8');
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
