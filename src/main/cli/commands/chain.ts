import { InvalidArgumentError, type Command } from 'commander';
import { formatEther } from 'viem';
import type { LineageParamsInput } from '../../../shared/api/chain.ts';
import { formatScoreIn } from '../../../shared/eval/scoreFormat.ts';
import type { CliApp } from '../cliApp.ts';
import { chainSignerFrom, collect, int, uint, withChainSigner, type ChainSignerOpts } from '../options.ts';
import { printJson, printRecord, printTable } from '../output.ts';
import { readUserFile, UserFileError } from '../../util/readUserFile.ts';

/** The environment variable `chain deploy --rpc` reads the deployer key from by default. */
export const DEPLOYER_KEY_ENV = 'XAI_LINK_DEPLOYER_KEY';

function eth(wei: string): string {
  return `${formatEther(BigInt(wei))} ETH`;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerChainCommands(program: Command, app: CliApp): void {
  registerChain(program, app);
  registerLineage(program, app);
  registerTokens(program, app);
  registerLicence(program, app);
  registerEarnings(program, app);
  program
    .command('leaderboard')
    .description('Models ranked by score and contributors ranked by earnings, per lineage and overall')
    .option('--lineage <id>', 'only this lineage', int('lineage id', 1))
    .option('--json', 'print the leaderboard as JSON')
    .action(async (opts: { lineage?: number; json?: boolean }) => {
      const board = await app.client.invoke(
        'leaderboard.get',
        opts.lineage === undefined ? {} : { lineageId: opts.lineage },
      );
      if (opts.json) return printJson(board);
      for (const l of board.lineages) {
        process.stdout.write(
          `\nlineage ${l.lineageId}: ${l.name} (${l.metricName}, ${l.higherIsBetter ? 'higher' : 'lower'} is better)\n`,
        );
        printTable(
          l.models.map((m) => ({
            rank: m.rank,
            token: m.tokenId,
            version: m.version,
            score: formatScoreIn(m.score, l.metricName),
            trainer: m.trainer,
            licences: m.licences,
            revenue: eth(m.revenueWei),
          })),
        );
        process.stdout.write('contributors\n');
        printTable(
          l.contributors.map((c) => ({
            rank: c.rank,
            account: c.account,
            earned: eth(c.earnedWei),
            models: c.modelsTrained,
            licences: c.licencesOfItsModels,
            best:
              c.bestScore === null ? null : `${formatScoreIn(c.bestScore, l.metricName)} (#${c.bestTokenId})`,
          })),
        );
      }
      process.stdout.write(
        `\noverall: ${board.overall.licences} licences, ${eth(board.overall.revenueWei)}\n`,
      );
      printTable(
        board.overall.contributors.map((c) => ({
          rank: c.rank,
          account: c.account,
          earned: eth(c.earnedWei),
          models: c.modelsTrained,
          licences: c.licencesOfItsModels,
          'lineages led': c.lineagesLed,
        })),
      );
    });
}

function registerChain(program: Command, app: CliApp): void {
  const chain = program
    .command('chain')
    .description('The chain: embedded anvil (default) or an RPC network, and the contracts on it');

  const printStatus = (s: Awaited<ReturnType<typeof app.client.invoke<'chain.status'>>>) =>
    printRecord([
      ['network', s.network.kind === 'embedded' ? 'embedded (anvil)' : s.network.rpcUrl],
      ['running', s.running ? 'yes' : 'no'],
      ['chain id', s.chainId],
      ['rpc url', s.rpcUrl],
      ['block', s.blockNumber],
      ['anvil pid', s.embedded?.pid ?? null],
      ['state file', s.embedded?.stateFile ?? null],
      ['registry', s.deployment?.registry ?? null],
      ['market', s.deployment?.market ?? null],
      ['contracts up to date', s.contractsUpToDate],
    ]);

  chain
    .command('start')
    .description(
      'Start the embedded chain (deploying the contracts on first start); it keeps running until `chain stop`',
    )
    .option('--foreground', 'run until Ctrl-C here instead of in the background, then stop (state saved)')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { foreground?: boolean; json?: boolean }) => {
      const s = await app.client.invoke('chain.start', { detached: !opts.foreground });
      if (opts.json) printJson(s);
      else printStatus(s);
      if (opts.foreground) {
        process.stderr.write('chain running; Ctrl-C stops it\n');
        await waitForSignal();
      }
    });

  chain
    .command('status')
    .description('Show the network, whether it answers, and the deployed contracts')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await app.client.invoke('chain.status', {});
      if (opts.json) return printJson(s);
      printStatus(s);
    });

  chain
    .command('stop')
    .description('Stop the embedded chain; it saves its state, and the next start finds the same tokens')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = await app.client.invoke('chain.stop', {});
      if (opts.json) return printJson(r);
      process.stdout.write(r.stopped ? 'stopped\n' : 'the embedded chain was not running\n');
    });

  chain
    .command('use')
    .description('Choose the network: "embedded", or an RPC URL such as a Sepolia endpoint')
    .argument('<network>', '"embedded" or an http(s) RPC URL')
    .option('--json', 'print the status as JSON')
    .action(async (network: string, opts: { json?: boolean }) => {
      const s = await app.client.invoke('chain.configure', {
        network: network === 'embedded' ? { kind: 'embedded' } : { kind: 'rpc', rpcUrl: network },
      });
      if (opts.json) return printJson(s);
      printStatus(s);
    });

  withChainSigner(
    chain
      .command('deploy')
      .description(
        `Deploy the contracts and record their addresses per chain id (with --rpc, the key comes from $${DEPLOYER_KEY_ENV} unless --key-env names another variable)`,
      )
      .option('--rpc <url>', 'deploy to this RPC endpoint instead of the configured network')
      .option('--force', 'deploy new contracts even if some are deployed there')
      .option('--no-record', 'do not write contracts/deployments/<chainId>.json in this checkout')
      .option('--json', 'print the deployment as JSON'),
  ).action(
    async (opts: ChainSignerOpts & { rpc?: string; force?: boolean; record: boolean; json?: boolean }) => {
      const signer = chainSignerFrom(opts, opts.rpc ? { keyEnv: DEPLOYER_KEY_ENV } : { devAccount: 0 });
      const d = await app.client.invoke('chain.deploy', {
        ...(opts.rpc ? { rpcUrl: opts.rpc } : {}),
        force: opts.force ?? false,
        signer,
        recordInRepo: opts.record,
      });
      if (opts.json) return printJson(d);
      printRecord([
        ['chain id', d.chainId],
        ['registry', d.registry],
        ['market', d.market],
        ['block', d.deployBlock],
        ['deployer', d.deployer],
      ]);
    },
  );

  chain
    .command('contracts')
    .description('What a wallet needs: chain id, RPC URL, contract addresses, EIP-712 domain')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = await app.client.invoke('chain.contracts', {});
      if (opts.json) return printJson(c);
      printRecord([
        ['chain id', c.chainId],
        ['rpc url', c.rpcUrl],
        ['registry', c.registry],
        ['market', c.market],
        ['dev accounts', c.devAccounts.length],
      ]);
    });
}

function registerLineage(program: Command, app: CliApp): void {
  const lineage = program.command('lineage').description('Lineages: competitions around one evaluation');

  withChainSigner(
    lineage
      .command('create')
      .description('Create a lineage (you become its creator); options or --params FILE.json')
      .option('--params <file>', 'a JSON file with the lineage parameters (see docs/contracts.md)')
      .option('--name <name>', 'lineage name')
      .option('--eval-cid <cid>', 'CID of the evaluation dataset', '')
      .option('--metric <name>', 'metric name', 'bits_per_byte')
      .option(
        '--higher-is-better',
        'higher scores are better (accuracy); default: lower is better (bits per byte)',
      )
      .option('--genesis-cid <cid>', 'CID of the genesis model (it can never be minted)', '')
      .option(
        '--genesis-score <n>',
        'integer score of the genesis model: the first version must beat it',
        uint,
      )
      .option('--verifier <address>', 'a verifier (repeatable)', collect)
      .option('--quorum <n>', 'distinct verifier attestations a claim needs', int('quorum', 1, 32))
      .option('--epsilon-bps <n>', 'minimum relative improvement, basis points', int('epsilon', 0, 10_000))
      .option('--epsilon-floor-bps <n>', 'ε decays towards this floor', int('epsilon floor', 0, 10_000))
      .option('--epsilon-decay-bps-per-day <n>', 'ε decay per day the best stands', int('decay', 0, 65_535))
      .option('--min-commit-age <seconds>', 'how old a commitment must be to claim', int('min commit age', 1))
      .option('--base-price-wei <wei>', 'licence price of a model at the genesis score', uint)
      .option('--price-per-point-wei <wei>', 'added per integer score point better than the genesis', uint)
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: ChainSignerOpts & Record<string, unknown>) => {
    let params: LineageParamsInput;
    if (typeof opts.params === 'string') {
      let text: string;
      try {
        text = readUserFile(opts.params, 1024 * 1024, 'a JSON file of lineage params').toString('utf8');
      } catch (e) {
        if (e instanceof UserFileError) throw new InvalidArgumentError(`--params: ${e.message}`);
        throw e;
      }
      try {
        params = JSON.parse(text) as LineageParamsInput;
      } catch (e) {
        throw new InvalidArgumentError(`--params: ${opts.params} is not JSON (${(e as Error).message})`);
      }
    } else {
      if (typeof opts.name !== 'string')
        throw new InvalidArgumentError('--name is required (or --params FILE)');
      if (typeof opts.genesisScore !== 'string')
        throw new InvalidArgumentError('--genesis-score is required (or --params FILE)');
      const verifiers = (opts.verifier as string[] | undefined) ?? [];
      if (verifiers.length === 0)
        throw new InvalidArgumentError(
          '--verifier <address> is required (repeatable): the accounts that re-run and attest claims',
        );
      const epsilon =
        opts.epsilonBps !== undefined
          ? {
              startBps: opts.epsilonBps as number,
              floorBps: (opts.epsilonFloorBps as number | undefined) ?? (opts.epsilonBps as number),
              decayBpsPerDay: (opts.epsilonDecayBpsPerDay as number | undefined) ?? 0,
            }
          : undefined;
      params = {
        name: opts.name,
        evalDatasetCid: opts.evalCid as string,
        metricName: opts.metric as string,
        higherIsBetter: opts.higherIsBetter === true,
        genesisModelCid: opts.genesisCid as string,
        genesisScore: opts.genesisScore,
        verifiers,
        quorum: (opts.quorum as number | undefined) ?? 1,
        ...(epsilon ? { epsilon } : {}),
        ...(opts.minCommitAge !== undefined ? { minCommitAge: opts.minCommitAge as number } : {}),
        pricing: {
          ...(opts.basePriceWei !== undefined ? { basePriceWei: opts.basePriceWei as string } : {}),
          ...(opts.pricePerPointWei !== undefined
            ? { pricePerPointWei: opts.pricePerPointWei as string }
            : {}),
        },
      };
    }
    const r = await app.client.invoke('lineage.create', { params, signer: chainSignerFrom(opts) });
    if (opts.json) return printJson(r);
    process.stdout.write(`lineage ${r.lineageId} created (tx ${r.txHash})\n`);
  });

  lineage
    .command('show')
    .description("A lineage's rules, verifiers, best model and sales")
    .argument('<id>', 'lineage id', int('lineage id', 1))
    .option('--json', 'print as JSON')
    .action(async (id: number, opts: { json?: boolean }) => {
      const l = await app.client.invoke('lineage.get', { lineageId: id });
      if (opts.json) return printJson(l);
      printRecord([
        ['lineage', `${l.lineageId}: ${l.name}`],
        ['creator', l.creator],
        ['metric', `${l.metricName} (${l.higherIsBetter ? 'higher' : 'lower'} is better)`],
        ['evaluation dataset', l.evalDatasetCid],
        ['genesis', `${l.genesisModelCid || '-'} score ${formatScoreIn(l.genesisScore, l.metricName)}`],
        [
          'best',
          l.bestTokenId === 0
            ? `genesis, score ${formatScoreIn(l.bestScore, l.metricName)}`
            : `token ${l.bestTokenId}, score ${formatScoreIn(l.bestScore, l.metricName)}`,
        ],
        [
          'ε now',
          `${l.currentEpsilonBps} bps (start ${l.epsilon.startBps}, floor ${l.epsilon.floorBps}, -${l.epsilon.decayBpsPerDay}/day)`,
        ],
        ['score to beat', l.scoreToBeat === null ? null : formatScoreIn(l.scoreToBeat, l.metricName)],
        ['verifiers', `${l.verifiers.join(', ')} (quorum ${l.quorum})`],
        ['min commit age', `${l.minCommitAge} s`],
        ['price', `${eth(l.pricing.basePriceWei)} + ${eth(l.pricing.pricePerPointWei)} per point`],
        [
          'shares',
          `owner ${l.shares.ownerBps / 100}%, ancestors ${l.shares.ancestorsBps / 100}%, creator ${l.shares.creatorBps / 100}%`,
        ],
        ['models', l.modelCount],
        ['licences', `${l.licences} (${eth(l.revenueWei)})`],
      ]);
    });

  lineage
    .command('list')
    .description('All lineages')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ls = await app.client.invoke('lineage.list', {});
      if (opts.json) return printJson(ls);
      printTable(
        ls.map((l) => ({
          id: l.lineageId,
          name: l.name,
          metric: l.metricName,
          best: l.bestScore,
          models: l.modelCount,
          licences: l.licences,
        })),
      );
    });

  for (const [name, method] of [
    ['add-verifier', 'lineage.addVerifier'],
    ['remove-verifier', 'lineage.removeVerifier'],
  ] as const) {
    withChainSigner(
      lineage
        .command(name)
        .description(`${name === 'add-verifier' ? 'Add' : 'Remove'} a verifier (lineage creator only)`)
        .argument('<id>', 'lineage id', int('lineage id', 1))
        .argument('<address>', 'verifier address')
        .option('--json', 'print the result as JSON'),
    ).action(async (id: number, verifier: string, opts: ChainSignerOpts & { json?: boolean }) => {
      const r = await app.client.invoke(method, { lineageId: id, verifier, signer: chainSignerFrom(opts) });
      if (opts.json) return printJson(r);
      process.stdout.write(`done (tx ${r.txHash})\n`);
    });
  }

  withChainSigner(
    lineage
      .command('quorum')
      .description('Set how many verifiers must attest a claim (lineage creator only)')
      .argument('<id>', 'lineage id', int('lineage id', 1))
      .argument('<n>', 'quorum', int('quorum', 1, 32))
      .option('--json', 'print the result as JSON'),
  ).action(async (id: number, quorum: number, opts: ChainSignerOpts & { json?: boolean }) => {
    const r = await app.client.invoke('lineage.setQuorum', {
      lineageId: id,
      quorum,
      signer: chainSignerFrom(opts),
    });
    if (opts.json) return printJson(r);
    process.stdout.write(`done (tx ${r.txHash})\n`);
  });
}

function registerTokens(program: Command, app: CliApp): void {
  const tokens = program.command('tokens').description('The marketplace of minted model versions');
  tokens
    .command('list')
    .description('Minted versions with score and prices, newest first')
    .option('--lineage <id>', 'only this lineage', int('lineage id', 1))
    .option('--owner <address>', 'only tokens this account owns')
    .option('--json', 'print as JSON')
    .action(async (opts: { lineage?: number; owner?: string; json?: boolean }) => {
      const r = await app.client.invoke('tokens.list', {
        ...(opts.lineage !== undefined ? { lineageId: opts.lineage } : {}),
        ...(opts.owner ? { owner: opts.owner } : {}),
      });
      if (opts.json) return printJson(r);
      printTable(
        r.tokens.map((t) => ({
          token: t.tokenId,
          lineage: t.lineageId,
          version: t.version,
          score: t.score,
          best: t.isBest ? '*' : '',
          price: eth(t.priceWei),
          licences: t.licences,
          owner: t.owner,
        })),
      );
    });
  tokens
    .command('show')
    .description('One minted version')
    .argument('<tokenId>', 'token id', int('token id', 1))
    .option('--json', 'print as JSON')
    .action(async (tokenId: number, opts: { json?: boolean }) => {
      const t = await app.client.invoke('tokens.get', { tokenId });
      if (opts.json) return printJson(t);
      printRecord(Object.entries(t));
    });
  withChainSigner(
    tokens
      .command('price')
      .description(
        "Set a manual licence price within the lineage's bounds (0: back to the suggested price); owner only",
      )
      .argument('<tokenId>', 'token id', int('token id', 1))
      .argument('<wei>', 'price in wei', uint)
      .option('--json', 'print the result as JSON'),
  ).action(async (tokenId: number, priceWei: string, opts: ChainSignerOpts & { json?: boolean }) => {
    const r = await app.client.invoke('tokens.setPrice', {
      tokenId,
      priceWei,
      signer: chainSignerFrom(opts),
    });
    if (opts.json) return printJson(r);
    process.stdout.write(`done (tx ${r.txHash})\n`);
  });
}

function registerLicence(program: Command, app: CliApp): void {
  const licence = program.command('licence').alias('license').description('Licences of model versions');
  withChainSigner(
    licence
      .command('buy')
      .description('Buy a licence of a token at its current price')
      .argument('<tokenId>', 'token id', int('token id', 1))
      .option('--json', 'print the result as JSON'),
  ).action(async (tokenId: number, opts: ChainSignerOpts & { json?: boolean }) => {
    const r = await app.client.invoke('licence.buy', { tokenId, signer: chainSignerFrom(opts) });
    if (opts.json) return printJson(r);
    process.stdout.write(
      `licence of token ${r.tokenId} bought by ${r.licensee} for ${eth(r.priceWei)} (tx ${r.txHash})\n`,
    );
  });
  licence
    .command('list')
    .description('Licences bought (by one account with --licensee)')
    .option('--licensee <address>', 'only this buyer')
    .option('--json', 'print as JSON')
    .action(async (opts: { licensee?: string; json?: boolean }) => {
      const r = await app.client.invoke('licence.list', opts.licensee ? { licensee: opts.licensee } : {});
      if (opts.json) return printJson(r);
      printTable(
        r.map((l) => ({
          token: l.tokenId,
          lineage: l.lineageId,
          licensee: l.licensee,
          price: eth(l.priceWei),
          block: l.blockNumber,
        })),
      );
    });
}

function registerEarnings(program: Command, app: CliApp): void {
  const earnings = program.command('earnings').description('Licence revenue credited to you (pull payments)');
  earnings
    .command('show')
    .description("An account's pending and lifetime earnings")
    .argument('<address>', 'the account')
    .option('--json', 'print as JSON')
    .action(async (account: string, opts: { json?: boolean }) => {
      const e = await app.client.invoke('earnings.get', { account });
      if (opts.json) return printJson(e);
      printRecord([
        ['account', e.account],
        ['pending', eth(e.pendingWei)],
        ['lifetime', eth(e.totalWei)],
        ...e.byLineage.map((l): [string, unknown] => [`lineage ${l.lineageId}`, eth(l.earnedWei)]),
      ]);
    });
  withChainSigner(
    earnings
      .command('withdraw')
      .description("Withdraw the signer's pending earnings")
      .option('--json', 'print the result as JSON'),
  ).action(async (opts: ChainSignerOpts & { json?: boolean }) => {
    const r = await app.client.invoke('earnings.withdraw', { signer: chainSignerFrom(opts) });
    if (opts.json) return printJson(r);
    process.stdout.write(`${eth(r.amountWei)} sent to ${r.account} (tx ${r.txHash})\n`);
  });
}
