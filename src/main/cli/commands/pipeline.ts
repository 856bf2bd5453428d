import { InvalidArgumentError, type Command } from 'commander';
import { formatEther } from 'viem';
import type { DemoSummary } from '../../../shared/api/pipelines.ts';
import { stageNames, type PipelineRunResult, type StageName } from '../../../shared/pipelines/pipeline.ts';
import type { CliApp } from '../cliApp.ts';
import { formatScoreIn } from '../../../shared/eval/scoreFormat.ts';
import { printJson, printRecord, printTable } from '../output.ts';
import { installPasswordPrompt, int } from './proofCommon.ts';
import { withStageProgress } from './stageProgress.ts';

function stageName(v: string): StageName {
  if (!(stageNames as readonly string[]).includes(v))
    throw new InvalidArgumentError(`one of ${stageNames.join(', ')}`);
  return v as StageName;
}

function printStages(r: PipelineRunResult): void {
  printTable(
    r.stages.map((s) => ({
      stage: s.stage,
      status: s.status,
      seconds: s.seconds.toFixed(1),
      result: s.message,
    })),
  );
}

function eth(wei: string): string {
  const v = Number(formatEther(BigInt(wei)));
  return `${v.toFixed(v >= 1000 ? 2 : 6)} ETH`;
}

function printDemo(s: DemoSummary): void {
  const out = process.stdout;
  out.write(`\nXAI-Link demo: done in ${s.seconds.toFixed(1)} s (data directory ${s.dataDir})\n\n`);
  out.write(
    `lineage ${s.lineage.lineageId} "${s.lineage.name}": ${s.lineage.metric}, lower is better; evaluation text ${s.lineage.evalTextCid}\n\n`,
  );
  printTable(
    s.versions.map((v) => ({
      version: `v${v.version}`,
      token: `#${v.tokenId}`,
      steps: v.iterations,
      score: formatScoreIn(v.score, s.lineage.metric),
      'suggested price': eth(v.suggestedPriceWei),
      stages: v.stages.map((x) => `${x.stage}:${x.status}`).join(' '),
    })),
  );
  out.write('\n');
  for (const v of s.versions) {
    printRecord([
      [`v${v.version} model CID`, v.modelCid],
      [`v${v.version} checkpoint CID`, v.checkpointCid],
      [`v${v.version} evaluation CID`, v.evaluationCid],
      [`v${v.version} metadata CID`, v.metadataCid],
      [`v${v.version} claim CID`, v.claimCid],
      [`v${v.version} pipeline CID`, v.pipelineCid],
    ]);
  }
  out.write(
    `\nlicence: ${s.licence.buyer} ${s.licence.alreadyHeld ? 'already holds' : 'bought'} a licence of token #${s.licence.tokenId} for ${eth(s.licence.priceWei)}\n`,
  );
  for (const w of s.withdrawals) out.write(`withdrawn: ${w.role} ${w.account} ${eth(w.amountWei)}\n`);
  out.write('\n');
  printTable(
    s.balances.map((b) => ({
      role: b.role,
      account: b.account,
      balance: eth(b.balanceWei),
      'earned (lifetime)': eth(b.earnedWei),
    })),
  );
  out.write('\nleaderboard\n');
  printTable(
    s.leaderboard.map((m) => ({
      rank: m.rank,
      token: `#${m.tokenId}`,
      version: `v${m.version}`,
      score: formatScoreIn(m.score, s.lineage.metric),
      licences: m.licences,
      revenue: eth(m.revenueWei),
      price: eth(m.priceWei),
    })),
  );
}

export function registerPipelineCommands(program: Command, app: CliApp): void {
  program
    .command('run <pipeline>')
    .description(
      'Run a pipeline file: prepare → train → evaluate → publish → claim; unchanged stages are skipped, an interrupted one resumes',
    )
    .option('--force', 're-run every stage')
    .option('--until <stage>', `stop after this stage (${stageNames.join(', ')})`, stageName)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { force?: boolean; until?: StageName; json?: boolean }) => {
      installPasswordPrompt();
      const r = await withStageProgress(
        app,
        () =>
          app.client.invoke('pipelines.run', {
            source: { file },
            force: opts.force ?? false,
            ...(opts.until ? { until: opts.until } : {}),
          }),
        opts,
      );
      if (opts.json) return printJson(r);
      printStages(r);
      const o = r.outputs;
      process.stdout.write('\n');
      printRecord([
        ['dataset CID', o.prepare?.datasetCid],
        ['evaluation text CID', o.prepare?.evalTextCid],
        ['checkpoint CID', o.train?.checkpointCid],
        ['model CID', o.evaluate?.modelCid],
        ['evaluation CID', o.evaluate?.evaluationCid],
        ['bits per byte', o.evaluate?.bitsPerByte.toFixed(6)],
        ['pipeline CID', o.publish?.pipelineCid],
        ['claim CID', o.claim?.claimCid],
        ['token', o.claim?.tokenId ? `#${o.claim.tokenId}` : null],
        ['total', `${r.seconds.toFixed(1)} s`],
      ]);
    });

  program
    .command('demo')
    .description(
      'The whole story offline in one command: prepare tiny-shakespeare, create a lineage, train v1, prove and mint it, continue to v2, prove and mint it, buy a licence, withdraw, leaderboard',
    )
    .option(
      '--iters <n>',
      'training steps of v1, and of v2 on top of it (default 200)',
      int('iterations', 1, 100_000),
    )
    .option('--input <file>', 'train and evaluate on this text instead of the bundled tiny-shakespeare')
    .option('--force', 're-run cached stages (tokens already minted stay minted)')
    .option('--json', 'print a machine-readable summary (token ids, CIDs, scores, prices, balances)')
    .action(async (opts: { iters?: number; input?: string; force?: boolean; json?: boolean }) => {
      const s = await withStageProgress(
        app,
        () =>
          app.client.invoke('demo.run', {
            ...(opts.iters ? { iters: opts.iters } : {}),
            ...(opts.input ? { input: opts.input } : {}),
            force: opts.force ?? false,
          }),
        opts,
      );
      if (opts.json) return printJson(s);
      printDemo(s);
    });
}
