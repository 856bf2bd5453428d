import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { PrepareResult } from '../../../shared/api/datasets.ts';
import { DEFAULT_SEED } from '../../../shared/datasets/options.ts';
import { parseTokenizerSpec } from '../../../shared/tokenizers/tokenizer.ts';
import type { CliApp } from '../cliApp.ts';
import { formatBytes, printJson, printRecord } from '../output.ts';

interface PrepareOpts {
  tokenizer: string;
  val: number;
  dedup?: boolean;
  nearDup?: number | true;
  lowercase?: boolean;
  minChars?: number;
  maxChars?: number;
  textField?: string;
  csvColumn?: string;
  name?: string;
  out?: string;
  seed: number;
  ipfs?: boolean;
  json?: boolean;
}

export const DEFAULT_NEAR_DUP = 0.8;

function tokenizerArg(value: string): string {
  try {
    parseTokenizerSpec(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

function ratio(min: number, max: number, what: string) {
  return (value: string): number => {
    const x = Number(value);
    if (!Number.isFinite(x) || x < min || x > max)
      throw new InvalidArgumentError(`${what} is a number from ${min} to ${max}`);
    return x;
  };
}

function count(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return x;
}

function seedArg(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff)
    throw new InvalidArgumentError('a whole number from 0 to 4294967295');
  return x;
}

export function registerPrepareCommand(program: Command, app: CliApp): void {
  program
    .command('prepare')
    .description(
      'Prepare a dataset offline: import text (.txt .md .jsonl .csv .tsv, folders recursively), clean, deduplicate, ' +
        'tokenize and write train.bin/val.bin (nanoGPT layout), manifest.json, tokenizer.json and a dataset card',
    )
    .argument('<inputs...>', 'files and folders to import')
    .requiredOption(
      '--tokenizer <kind>',
      'char | gpt2 | bpe:<vocab size> (e.g. bpe:4096, trained on this data)',
      tokenizerArg,
    )
    .option(
      '--val <ratio>',
      'fraction for validation (by document; one document: its last part, like nanoGPT)',
      ratio(0, 0.5, '--val'),
      0.1,
    )
    .option('--dedup', 'remove exact duplicate documents')
    .addOption(
      new Option(
        '--near-dup [threshold]',
        `remove near-duplicates (MinHash/LSH Jaccard ≥ threshold, default ${DEFAULT_NEAR_DUP})`,
      ).argParser(ratio(0.01, 1, '--near-dup')),
    )
    .option('--lowercase', 'lower-case all text')
    .option('--min-chars <n>', 'drop documents shorter than n characters', count)
    .option('--max-chars <n>', 'drop documents longer than n characters', count)
    .option(
      '--text-field <field>',
      'JSONL: the field holding the text (dotted path for nested objects)',
      'text',
    )
    .option('--csv-column <name>', 'CSV/TSV: the column holding the text (by header)', 'text')
    .option('--name <name>', 'dataset name (its id in the data directory is derived from it)')
    .option('--out <dir>', 'write the dataset to this folder (must not exist) instead of the data directory')
    .option('--seed <n>', 'seed of the split and the near-duplicate hashing', seedArg, DEFAULT_SEED)
    .option('--ipfs', 'add the prepared dataset to the embedded IPFS node (pinned) and print its CID')
    .option('--json', 'print a JSON summary')
    .action(async (inputs: string[], opts: PrepareOpts) => {
      if (opts.maxChars === 0) throw new InvalidArgumentError('--max-chars must be at least 1');
      const params = {
        inputs: inputs.map((p) => resolve(p)),
        tokenizer: opts.tokenizer,
        valRatio: opts.val,
        dedup: opts.dedup ?? false,
        nearDup: opts.nearDup === undefined ? null : opts.nearDup === true ? DEFAULT_NEAR_DUP : opts.nearDup,
        lowercase: opts.lowercase ?? false,
        minChars: opts.minChars ?? 0,
        maxChars: opts.maxChars ?? null,
        textField: opts.textField ?? 'text',
        csvColumn: opts.csvColumn ?? 'text',
        seed: opts.seed,
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.out === undefined ? {} : { outDir: resolve(opts.out) }),
      };

      // Ctrl+C cancels the job: the temporary folder is removed, nothing is left half-written.
      let jobId: string | null = null;
      const offJob = app.client.on('job.progress', (p) => {
        if (p.kind === 'datasets.prepare') jobId = p.jobId;
      });
      const onSigint = (): void => {
        if (jobId) void app.client.invoke('jobs.cancel', { jobId }).catch(() => undefined);
      };
      process.on('SIGINT', onSigint);
      let result: PrepareResult;
      try {
        result = await app.withProgress(() => app.client.invoke('datasets.prepare', params), opts);
      } finally {
        process.off('SIGINT', onSigint);
        offJob();
      }

      let cid: string | null = null;
      if (opts.ipfs) {
        // A dataset in the data directory remembers its CID (the app shows it); one written to --out is just added.
        const id = result.id;
        const added = await app.withProgress(
          (): Promise<{ cid: string }> =>
            id !== null
              ? app.client.invoke('datasets.publish', { id })
              : app.client.invoke('ipfs.add', { path: result.path, kubo: false, pin: true, hidden: false }),
          opts,
        );
        cid = added.cid;
      }

      const m = result.manifest;
      const skipped = result.files.filter((f) => f.status !== 'ok');
      if (opts.json) {
        return printJson({
          id: result.id,
          path: result.path,
          name: m.name,
          cid,
          tokenizer: m.tokenizerSpec ?? m.tokenizer.kind,
          vocabSize: m.vocabSize,
          dtype: m.dtype,
          splits: m.splits,
          documents: { read: result.cleaning.documentsIn, kept: result.cleaning.documentsOut },
          removed: Object.fromEntries(
            result.cleaning.steps.filter((s) => s.enabled).map((s) => [s.step, s.removedDocuments]),
          ),
          files: {
            read: result.files.filter((f) => f.status !== 'skipped').length,
            partial: result.files.filter((f) => f.status === 'partial').length,
            skipped: result.files.filter((f) => f.status === 'skipped').length,
          },
          problems: skipped.map((f) => ({ path: f.path, status: f.status, problems: f.problems })),
          timings: result.timings,
        });
      }
      for (const f of skipped) {
        for (const p of f.problems)
          process.stderr.write(
            `${f.status === 'skipped' ? 'skipped' : 'warning'}: ${p.message}\n  hint: ${p.hint}\n`,
          );
      }
      const asked = /^bpe:(\d+)$/.exec(m.tokenizerSpec ?? '');
      if (asked && Number(asked[1]) > m.vocabSize) {
        process.stderr.write(
          `note: the data only allowed ${m.vocabSize} of the ${asked[1]} tokens asked for (every word is already one token)\n`,
        );
      }
      const c = result.cleaning;
      const removed = c.steps
        .filter((s) => s.enabled && s.removedDocuments > 0)
        .map((s) => `${s.step} ${s.removedDocuments.toLocaleString('en-US')}`);
      printRecord([
        ['dataset', m.name],
        ['directory', result.path],
        [
          'tokenizer',
          `${m.tokenizerSpec ?? m.tokenizer.kind} (vocab ${m.vocabSize.toLocaleString('en-US')}, ${m.dtype})`,
        ],
        [
          'documents',
          `${c.documentsOut.toLocaleString('en-US')} kept of ${c.documentsIn.toLocaleString('en-US')}${removed.length ? ` (removed: ${removed.join(', ')})` : ''}`,
        ],
        [
          'train',
          `${m.splits.train.tokens.toLocaleString('en-US')} tokens, ${m.splits.train.documents.toLocaleString('en-US')} documents, ${formatBytes(m.splits.train.bytes)}`,
        ],
        [
          'val',
          `${m.splits.val.tokens.toLocaleString('en-US')} tokens, ${m.splits.val.documents.toLocaleString('en-US')} documents, ${formatBytes(m.splits.val.bytes)}`,
        ],
        ['time', `${result.timings.totalSeconds.toFixed(2)} s`],
        ...(cid ? ([['cid', cid]] as [string, unknown][]) : []),
      ]);
      process.stdout.write(`${cid ?? result.path}\n`);
    });
}
