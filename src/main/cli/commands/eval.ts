import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError, type RequestParams } from '../../../shared/api/index.ts';
import { EVAL_MAX_TOKENS } from '../../../shared/eval/metrics.ts';
import type { CliApp } from '../cliApp.ts';
import { formatBytes, printJson, printRecord, printTable } from '../output.ts';
import { int } from './proofCommon.ts';
import { withStageProgress } from './stageProgress.ts';

type ModelSource = RequestParams<'eval.run'>['model'];
type TextSource = RequestParams<'eval.run'>['text'];

/** A model argument: a package folder, a .safetensors checkpoint, or a CID. */
export function modelSourceOf(arg: string): ModelSource {
  if (existsSync(arg)) return statSync(arg).isDirectory() ? { dir: arg } : { checkpoint: arg };
  return { cid: arg.replace(/^ipfs:\/\//, '') };
}

/** A text argument: a file, "sha256:<hex>" (a held private set), or a CID. */
export function textSourceOf(arg: string): TextSource {
  const held = /^sha256:([0-9a-f]{64})$/.exec(arg);
  if (held) return { sha256: held[1]! };
  if (existsSync(arg)) return { file: arg };
  return { cid: arg.replace(/^ipfs:\/\//, '') };
}

export function registerEvalCommands(program: Command, app: CliApp): void {
  const evalCmd = program
    .command('eval')
    .description('Deterministic evaluation of models (bits per byte, loss, perplexity, top-1 accuracy)');

  evalCmd
    .command('run <model>')
    .description(
      'Evaluate a model package (folder or CID) or a checkpoint (.safetensors) on a text (file, CID or sha256:<hex>)',
    )
    .requiredOption(
      '--text <text>',
      'the evaluation text: a file, a CID, or sha256:<hex> of a held private set',
    )
    .option(
      '--max-tokens <n>',
      `score at most this many tokens (default ${EVAL_MAX_TOKENS})`,
      int('max tokens', 1, EVAL_MAX_TOKENS),
    )
    .option('--publish', 'add the report to IPFS and print its CID')
    .option('--json', 'print the report as JSON')
    .action(
      async (
        model: string,
        opts: { text: string; maxTokens?: number; publish?: boolean; json?: boolean },
      ) => {
        const r = await withStageProgress(
          app,
          () =>
            app.client.invoke('eval.run', {
              model: modelSourceOf(model),
              text: textSourceOf(opts.text),
              ...(opts.maxTokens ? { maxTokens: opts.maxTokens } : {}),
              publish: opts.publish ?? false,
            }),
          { json: opts.json },
        );
        if (opts.json) return printJson(r);
        const m = r.report.result.metrics;
        printRecord([
          ['bits per byte', m.bits_per_byte.toFixed(6)],
          ['mean loss (nats/token)', m.mean_loss.toFixed(6)],
          ['perplexity', m.perplexity.toFixed(4)],
          ['top-1 accuracy', `${(m.top1_accuracy * 100).toFixed(3)} %`],
          [
            'tokens / bytes scored',
            `${r.report.result.tokens.toLocaleString('en-US')} / ${r.report.result.bytes.toLocaleString('en-US')}${r.report.result.truncated ? ' (capped)' : ''}`,
          ],
          ['windows', `${r.report.result.windows} × ${r.report.result.blockSize} tokens`],
          [
            'scores (on chain)',
            `bits_per_byte ${r.report.result.scores.bits_per_byte}, top1_accuracy ${r.report.result.scores.top1_accuracy}`,
          ],
          [
            'evaluator',
            `${r.report.evaluator.name} v${r.report.evaluator.version}, onnxruntime ${r.report.evaluator.onnxRuntime}`,
          ],
          ['time', `${(r.report.run.durationMs / 1000).toFixed(1)} s`],
        ]);
        if (r.reportCid) process.stdout.write(`report CID: ${r.reportCid}\n`);
      },
    );

  evalCmd
    .command('inspect <model>')
    .description(
      'Check a model package without running it: the ONNX safety check (operators, opset, external data, sizes) and its card',
    )
    .option('--json', 'print the result as JSON')
    .action(async (model: string, opts: { json?: boolean }) => {
      const r = await app.client.invoke('eval.inspect', { model: modelSourceOf(model) });
      if (opts.json) {
        printJson(r);
        if (!r.ok) throw new ApiError('FAILED_PRECONDITION', `the model is refused (${r.refusal!.reason})`);
        return;
      }
      if (!r.ok)
        throw new ApiError(
          'FAILED_PRECONDITION',
          `the model is refused (${r.refusal!.reason}): ${r.refusal!.message}`,
        );
      printRecord([
        ['name', r.card!.name],
        [
          'architecture',
          `GPT ${r.card!.config.nLayer} layers × ${r.card!.config.nEmbd}, ${r.card!.config.nHead} heads, block ${r.card!.config.blockSize}`,
        ],
        ['parameters', r.facts!.parameters.toLocaleString('en-US')],
        [
          'tokenizer',
          `${r.card!.tokenizer.kind} (${r.card!.tokenizer.vocabSize} tokens), sha256 ${r.tokenizerSha256}`,
        ],
        [
          'onnx',
          `${formatBytes(r.facts!.bytes)}, IR ${r.facts!.irVersion}, opset ${r.facts!.opsetVersion}, ${r.facts!.nodes} nodes`,
        ],
        [
          'trained',
          r.card!.training
            ? `${r.card!.training.iterations} steps, ${r.card!.training.tokens.toLocaleString('en-US')} tokens`
            : '-',
        ],
        ['checkpoint CID', r.card!.checkpointCid],
        ['parent model CID', r.card!.parentModelCid],
      ]);
      process.stdout.write('\noperators (all allowed)\n');
      printTable(Object.entries(r.facts!.ops).map(([op, count]) => ({ op, count })));
    });

  evalCmd
    .command('hold <file>')
    .description(
      'Keep a private evaluation set on this machine (verifier of a lineage that publishes only its hash); prints its reference',
    )
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const r = await app.client.invoke('eval.hold', { file });
      if (opts.json) return printJson(r);
      process.stdout.write(
        `held ${r.bytes.toLocaleString('en-US')} bytes; the lineage's evaluation reference is\n${r.ref}\n`,
      );
    });

  evalCmd
    .command('report <cid>')
    .description('Show a published evaluation report (as JSON: a report is JSON)')
    // Accepted like everywhere else, so scripts can pass --json to every command; the output is the same.
    .option('--json', 'print the report as JSON (the default)')
    .action(async (cid: string) => printJson(await app.client.invoke('eval.report', { cid })));
}
