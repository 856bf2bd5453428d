import {
  applyConfigSettings,
  ConfigSettingError,
  parseConfigSetting,
  type ConfigSettings,
} from '../../../shared/engine/configSettings.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ApiError } from '../../../shared/api/errors.ts';
import type { RunSummary } from '../../../shared/api/runs.ts';
import { presetIds } from '../../../shared/engine/config.ts';
import {
  deviceRequestSchema,
  precisionSchema,
  type DeviceRequestName,
  type Precision,
} from '../../../shared/engine/devices.ts';
import type { CliApp } from '../cliApp.ts';
import { formatBytes, printJson, printRecord, printTable } from '../output.ts';
import { ProgressBar } from '../progress.ts';

/**
 * Training from the command line: `train` (a run with a live progress line), `sample` (text from a
 * checkpoint, an exported model or a run), `export` (a checkpoint as an inference .onnx) and `runs`.
 */

function posInt(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x <= 0) throw new InvalidArgumentError('a whole number ≥ 1');
  return x;
}

function nonNegInt(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return x;
}

function num(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x)) throw new InvalidArgumentError('a number');
  return x;
}

/** --set model.nLayer=6 --set train.learningRate=3e-4 (repeatable). */
function collectSet(value: string, prev: ConfigSettings): ConfigSettings {
  try {
    return parseConfigSetting(value, prev);
  } catch (e) {
    if (e instanceof ConfigSettingError)
      throw new InvalidArgumentError('use model.<field>=<value> or train.<field>=<value>');
    throw e;
  }
}

interface TrainOpts {
  data?: string;
  preset: (typeof presetIds)[number];
  maxIters?: number;
  batchSize?: number;
  blockSize?: number;
  lr?: number;
  evalInterval?: number;
  evalIters?: number;
  seed?: number;
  device: DeviceRequestName;
  precision: Precision;
  threads?: number;
  vocabSize?: number;
  out?: string;
  name?: string;
  resume?: string | true;
  set: ConfigSettings;
  json?: boolean;
}

const ENDED = new Set(['completed', 'stopped', 'failed', 'interrupted']);

export function registerTrainCommands(program: Command, app: CliApp): void {
  program
    .command('train')
    .description(
      'Train a GPT on a prepared dataset directory or a token file (nanoGPT presets); Ctrl+C stops it with a checkpoint',
    )
    .option(
      '--data <path>',
      'dataset directory (manifest.json), nanoGPT data folder (train.bin, val.bin, meta.pkl) or token file (.bin, with --vocab-size); with --resume: train on it from now on',
    )
    .addOption(
      new Option('--preset <name>', 'model size and hyperparameters').choices(presetIds).default('cpu-tiny'),
    )
    .option('--max-iters <n>', 'optimizer steps (also the end of the cosine decay)', posInt)
    .option('--batch-size <n>', 'sequences per batch', posInt)
    .option('--block-size <n>', 'context length in tokens', posInt)
    .option('--lr <rate>', 'peak learning rate', num)
    .option('--eval-interval <n>', 'steps between evaluations and checkpoints', posInt)
    .option('--eval-iters <n>', 'batches per loss estimate', posInt)
    .option('--seed <n>', 'seed of initialisation and batch sampling', nonNegInt)
    .option(
      '--set <field=value>',
      'any config field: model.nLayer=6, train.weightDecay=0 (repeatable)',
      collectSet,
      {},
    )
    .addOption(
      new Option('--device <device>', 'where to train').choices(deviceRequestSchema.options).default('auto'),
    )
    .addOption(
      new Option(
        '--precision <precision>',
        "matrix products: f32, or f16 on the GPU's matrix units (tensor cores; --device dawn), summed in f32",
      )
        .choices(precisionSchema.options)
        .default('f32'),
    )
    .option('--threads <n>', 'CPU threads (default: one per core)', posInt)
    .option('--vocab-size <n>', 'vocabulary size of a bare token file', posInt)
    .option('--out <dir>', 'run directory (default: <data dir>/runs/<run id>)')
    .option('--name <name>', 'run name')
    .option('--resume [run]', 'continue a run (its id, or the run in --out) from its latest checkpoint')
    .option('--json', 'print the final run summary as JSON')
    .action(async (opts: TrainOpts) => {
      const client = app.client;
      let run: RunSummary;
      if (opts.resume) {
        const runId = opts.resume === true ? runIdIn(opts.out) : opts.resume;
        run = await client.invoke('runs.resume', {
          runId,
          device: opts.device === 'auto' ? undefined : opts.device,
          // the run keeps its precision unless one is given
          ...(opts.precision !== 'f32' ? { precision: opts.precision } : {}),
          maxIters: opts.maxIters,
          ...(opts.data
            ? { data: { path: resolve(opts.data), ...(opts.vocabSize ? { vocabSize: opts.vocabSize } : {}) } }
            : {}),
        });
      } else {
        if (!opts.data)
          throw new InvalidArgumentError('--data is required (a dataset directory or a token file)');
        const model: Record<string, unknown> = {};
        const train: Record<string, unknown> = {};
        if (opts.maxIters) Object.assign(train, { maxIters: opts.maxIters, lrDecayIters: opts.maxIters });
        if (opts.batchSize) train.batchSize = opts.batchSize;
        if (opts.blockSize) model.blockSize = opts.blockSize;
        if (opts.lr !== undefined) train.learningRate = opts.lr;
        if (opts.evalInterval) train.evalInterval = opts.evalInterval;
        if (opts.evalIters) train.evalIters = opts.evalIters;
        if (opts.seed !== undefined) train.seed = opts.seed;
        applyConfigSettings(opts.set, { model, train });
        run = await client.invoke('runs.create', {
          data: { path: resolve(opts.data), ...(opts.vocabSize ? { vocabSize: opts.vocabSize } : {}) },
          preset: opts.preset,
          model,
          train,
          device: opts.device,
          precision: opts.precision,
          ...(opts.threads ? { threads: opts.threads } : {}),
          ...(opts.out ? { outDir: resolve(opts.out) } : {}),
          ...(opts.name ? { name: opts.name } : {}),
        });
      }
      const final = await follow(app, run, !opts.json);
      if (opts.json) return printJson(final);
      printRecord([
        ['run', final.id],
        ['status', final.status],
        ['device', final.device.message || final.device.requested],
        ...(final.device.precision === 'f16' ? ([['precision', 'f16 products']] as [string, unknown][]) : []),
        ['steps', `${final.step} / ${final.maxIters}`],
        ['train loss', final.lastEval?.trainLoss.toFixed(4) ?? final.lastMetric?.loss.toFixed(4)],
        ['val loss', final.lastEval?.valLoss.toFixed(4)],
        ['best val loss', final.bestValLoss?.toFixed(4)],
        ['run directory', final.runDir],
        ...(final.error ? ([['error', final.error]] as [string, unknown][]) : []),
      ]);
      if (final.status === 'failed') process.exitCode = 1;
    });

  program
    .command('sample')
    .description('Generate text from a checkpoint (.safetensors), an exported model (.onnx) or a run id')
    .requiredOption('--checkpoint <path|run>', 'checkpoint or .onnx file, or a run id (its best checkpoint)')
    .option('--latest', 'with a run id: use the latest checkpoint instead of the best')
    .option('--prompt <text>', 'text to continue', '')
    .option('--tokens <n>', 'tokens to generate', posInt, 200)
    .option('--temperature <t>', '0 = greedy; higher = more random', num, 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', nonNegInt, 200)
    .option('--seed <n>', 'sampling seed', nonNegInt)
    .option('--json', 'print the sample as JSON')
    .action(
      async (opts: {
        checkpoint: string;
        latest?: boolean;
        prompt: string;
        tokens: number;
        temperature: number;
        topK: number;
        seed?: number;
        json?: boolean;
      }) => {
        const isRun = /^run-[0-9a-z-]+$/.test(opts.checkpoint) && !existsSync(opts.checkpoint);
        const sample = await app.client.invoke('runs.sample', {
          ...(isRun
            ? { runId: opts.checkpoint, checkpoint: opts.latest ? 'latest' : 'best' }
            : { path: resolve(opts.checkpoint) }),
          prompt: opts.prompt,
          maxNewTokens: opts.tokens,
          temperature: opts.temperature,
          topK: opts.topK,
          ...(opts.seed === undefined ? {} : { seed: opts.seed }),
        });
        if (opts.json) return printJson(sample);
        process.stdout.write(`${opts.prompt}${sample.text}\n`);
      },
    );

  program
    .command('export')
    .description(
      "Export a checkpoint: an inference ONNX model (input_ids → logits, config and tokenizer in its metadata), or nanoGPT's ckpt.pt (PyTorch; train.py resumes it, sample.py samples it)",
    )
    .requiredOption('--checkpoint <path|run>', 'checkpoint file, or a run id (its best checkpoint)')
    .option('--latest', 'with a run id: export the latest checkpoint instead of the best')
    .requiredOption('--out <file>', 'the file to write (.onnx, or ckpt.pt with --format nanogpt)')
    .addOption(
      new Option('--format <format>', 'onnx: inference model; nanogpt: PyTorch ckpt.pt with optimizer state')
        .choices(['onnx', 'nanogpt'])
        .default('onnx'),
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        checkpoint: string;
        latest?: boolean;
        out: string;
        format: 'onnx' | 'nanogpt';
        json?: boolean;
      }) => {
        const isRun = /^run-[0-9a-z-]+$/.test(opts.checkpoint) && !existsSync(opts.checkpoint);
        const r = await app.client.invoke('runs.export', {
          ...(isRun
            ? { runId: opts.checkpoint, checkpoint: opts.latest ? 'latest' : 'best' }
            : { checkpointPath: resolve(opts.checkpoint) }),
          outPath: resolve(opts.out),
          format: opts.format,
        });
        if (opts.json) return printJson(r);
        printRecord([
          ['model', r.path],
          ['size', formatBytes(r.bytes)],
          ['parameters', r.params.toLocaleString('en-US')],
          ['step', r.step],
        ]);
      },
    );

  program
    .command('import')
    .description(
      "Make a run from a model trained elsewhere: nanoGPT's ckpt.pt (weights, AdamW state, iteration) or Hugging Face GPT-2 model.safetensors + config.json; sample, export, eval, claim it, or continue with train --resume",
    )
    .argument('<file>', 'ckpt.pt, model.safetensors, or a Hugging Face model folder')
    .option('--meta <meta.pkl>', "nanoGPT's meta.pkl (the char vocabulary of its data folder)")
    .option(
      '--tokenizer <char|gpt2|file>',
      'char (from --meta), gpt2, or a tokenizer.json (default: from --meta, else gpt2 for GPT-2 vocabularies)',
    )
    .option('--config <config.json>', 'Hugging Face config.json (default: next to model.safetensors)')
    .option(
      '--data <path>',
      'data to continue training on (dataset directory, nanoGPT data folder or token file)',
    )
    .option('--name <name>', 'run name')
    .option('--out <dir>', 'run directory (default: in the data directory)')
    .option('--json', 'print the result as JSON (its last line: { "run": "<run id>", … })')
    .action(
      async (
        file: string,
        opts: {
          meta?: string;
          tokenizer?: string;
          config?: string;
          data?: string;
          name?: string;
          out?: string;
          json?: boolean;
        },
      ) => {
        const r = await app.client.invoke('runs.import', {
          path: resolve(file),
          ...(opts.meta ? { meta: resolve(opts.meta) } : {}),
          ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
          ...(opts.config ? { config: resolve(opts.config) } : {}),
          ...(opts.data ? { data: { path: resolve(opts.data) } } : {}),
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.out ? { outDir: resolve(opts.out) } : {}),
        });
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ run: r.run.id, format: r.format, step: r.run.step, params: r.run.params, hasOptimizer: r.hasOptimizer, tokenizer: r.tokenizer, runDir: r.run.runDir, notes: r.notes })}\n`,
          );
          return;
        }
        printRecord([
          ['run', r.run.id],
          ['format', r.format === 'nanogpt' ? 'nanoGPT ckpt.pt' : 'Hugging Face GPT-2'],
          ['parameters', r.run.params.toLocaleString('en-US')],
          ['step', `${r.run.step} / ${r.run.maxIters}`],
          ['optimizer state', r.hasOptimizer ? 'AdamW (training continues exactly)' : 'none'],
          ['tokenizer', r.tokenizer ?? 'none (prompts as token ids)'],
          ['data', r.run.data.path || 'none yet (give --data to train --resume)'],
          ['run directory', r.run.runDir],
          ...r.notes.map((n) => ['note', n] as [string, unknown]),
        ]);
      },
    );

  program
    .command('runs')
    .description('List training runs (newest first)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const runs = await app.client.invoke('runs.list', {});
      if (opts.json) return printJson(runs);
      printTable(
        runs.map((r) => ({
          id: r.id,
          name: r.name,
          status: r.status,
          steps: `${r.step}/${r.maxIters}`,
          'val loss': r.lastEval?.valLoss.toFixed(4) ?? '-',
          created: r.createdAt.slice(0, 19).replace('T', ' '),
        })),
      );
    });
}

function runIdIn(dir: string | undefined): string {
  if (!dir) throw new InvalidArgumentError('--resume needs a run id, or --out <run directory>');
  const file = join(resolve(dir), 'run.json');
  if (!existsSync(file)) throw new ApiError('NOT_FOUND', `${resolve(dir)} holds no run (no run.json)`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { id: string }).id;
}

/** Shows the run's progress until it ends; Ctrl+C asks it to stop (it writes a checkpoint first). */
async function follow(app: CliApp, run: RunSummary, show: boolean): Promise<RunSummary> {
  const client = app.client;
  const bar = new ProgressBar(process.stderr, show);
  let last = run;
  let val = '';
  const id = run.id;
  const offs = [
    client.on('run.metrics', ({ runId, metric: m }) => {
      if (runId !== id) return;
      bar.update(
        'train',
        m.step,
        last.maxIters,
        'steps',
        `loss ${m.loss.toFixed(4)}${val} lr ${m.lr.toExponential(1)} ${Math.round(m.tokensPerSec).toLocaleString('en-US')} tok/s`,
      );
    }),
    client.on('run.eval', ({ runId, metric: m }) => {
      if (runId !== id) return;
      val = ` val ${m.valLoss.toFixed(4)}`;
      if (show) {
        bar.done();
        process.stderr.write(
          `step ${m.step}: train loss ${m.trainLoss.toFixed(4)}, val loss ${m.valLoss.toFixed(4)}${m.isBest ? ' (best)' : ''}\n`,
        );
      }
    }),
    client.on('run.log', ({ runId, level, message }) => {
      if (runId !== id || !show) return;
      bar.done();
      process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
    }),
    client.on('run.sample', ({ runId, sample }) => {
      if (runId !== id || !show) return;
      bar.done();
      process.stderr.write(`--- sample at step ${sample.step} ---\n${sample.text}\n---\n`);
    }),
  ];
  const ended = new Promise<RunSummary>((resolveEnd) => {
    offs.push(
      client.on('run.status', ({ runId, run: r }) => {
        if (runId !== id) return;
        last = r;
        if (ENDED.has(r.status)) resolveEnd(r);
      }),
    );
  });
  let stopping = false;
  const onSigint = () => {
    if (stopping) return;
    stopping = true;
    bar.done();
    process.stderr.write('stopping: writing a checkpoint (resume later with --resume)…\n');
    void client.invoke('runs.stop', { runId: id }).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    if (ENDED.has(last.status)) return last;
    return await ended;
  } finally {
    process.off('SIGINT', onSigint);
    for (const off of offs) off();
    bar.done();
  }
}
