import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatEther, getAddress, type Address } from 'viem';
import type { DemoSummary } from '../../shared/api/pipelines.ts';
import { ApiError } from '../../shared/api/errors.ts';
import { SCORE_SCALE } from '../../shared/eval/metrics.ts';
import {
  PIPELINE_FORMAT,
  pipelineSchema,
  type Pipeline,
  type PipelineInput,
  type PipelineRunResult,
} from '../../shared/pipelines/pipeline.ts';
import type { ChainService } from '../chain/chainService.ts';
import type { ProofServices } from '../claims/proofServices.ts';
import type { StageProgress } from '../pipelines/pipelineRunner.ts';
import { appRoot } from '../util/appRoot.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomicWrite.ts';

/**
 * `xai-link demo`: the product's main job end to end, offline, on the embedded chain (anvil) and the
 * embedded IPFS node, with anvil's dev accounts as the cast:
 *
 *   creator (dev 0) creates a lineage on tiny-shakespeare's validation text, bits per byte, ε = 1 %;
 *   trainer (dev 1) trains v1 (cpu-tiny), evaluates, publishes, commits, signs the claim;
 *   verifier (dev 2) re-runs the evaluation from the CIDs and attests; the claim mints token v1;
 *   trainer continues v1 → v2 from v1's model CID, proves the improvement, mints v2 (higher suggested price);
 *   buyer (dev 3) buys a licence of v2; the trainer and the creator withdraw; the leaderboard is read.
 *
 * Everything is two pipelines (written to <dataDir>/demo/pipeline-v1.json, -v2.json and published), so a
 * second run reuses every cached stage and the tokens already on chain.
 */
const root = appRoot();

/** The text the demo trains on: `--input`, else the copy bundled in resources/, else ../shared/data. */
export function demoInput(explicit?: string): string {
  const candidates = explicit
    ? [resolve(explicit)]
    : [
        ...(root
          ? [join(root, 'resources/tinyshakespeare.txt'), join(root, '../shared/data/tinyshakespeare.txt')]
          : []),
        resolve(process.cwd(), 'resources/tinyshakespeare.txt'),
      ];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new ApiError('NOT_FOUND', `the demo text is missing (looked at ${candidates.join(', ')})`, {
      hint: 'Pass a text file with --input.',
    });
  return found;
}

export const DEMO_ACCOUNTS = { creator: 0, trainer: 1, verifier: 2, buyer: 3 } as const;
/** A model that knows nothing spends 8 bits on each byte: the genesis score v1 must beat. */
export const DEMO_GENESIS_SCORE = 8n * BigInt(SCORE_SCALE);

export interface DemoOptions {
  iters: number;
  input?: string;
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number | null, unit: string, message?: string) => void;
  onLog?: (line: string) => void;
}

interface DemoState {
  chainId: number;
  registry: string;
  lineageId: number;
  evalTextCid: string;
}

export async function runDemo(
  proof: ProofServices,
  chain: ChainService,
  dataDir: string,
  o: DemoOptions,
): Promise<DemoSummary> {
  const t0 = performance.now();
  const log = (line: string) => o.onLog?.(line);
  const input = demoInput(o.input);
  const dir = proof.dirs.demo;
  mkdirSync(dir, { recursive: true });

  o.onProgress?.('chain', 0, null, '', 'starting the embedded chain');
  const status = await chain.status();
  if (status.network.kind !== 'embedded') {
    throw new ApiError('FAILED_PRECONDITION', 'the demo runs on the embedded chain', {
      hint: 'xai-link chain configure --embedded (or a fresh --data-dir).',
    });
  }
  const info = await proof.chainAccess.info();
  const who = (i: number): Address => getAddress(info.devAccounts[i]!);
  const accounts = {
    creator: who(DEMO_ACCOUNTS.creator),
    trainer: who(DEMO_ACCOUNTS.trainer),
    verifier: who(DEMO_ACCOUNTS.verifier),
    buyer: who(DEMO_ACCOUNTS.buyer),
  };
  log(
    `chain ${info.chainId} at ${info.rpcUrl}: ModelRegistry ${info.registry}, LicenseMarket ${info.market}`,
  );

  const stageProgress = (label: string) => (p: StageProgress) =>
    o.onProgress?.(`${label} ${p.stage}`, p.done, p.total, p.unit, p.message);
  const warmup = Math.max(1, Math.min(20, Math.floor(o.iters / 4)));
  const trainOverrides = {
    warmupIters: warmup,
    evalIters: 10,
    logInterval: Math.max(1, Math.min(10, Math.floor(o.iters / 20))),
    sampleTokens: 32,
  };
  const pipeline = (version: 1 | 2, lineageId: number | null, parentModelCid: string | null): Pipeline => {
    const p: PipelineInput = {
      format: PIPELINE_FORMAT,
      version: 1,
      name: `demo-shakespeare-v${version}`,
      description: `XAI-Link demo: tiny-shakespeare, cpu-tiny GPT, version ${version}.`,
      stages: {
        prepare: { inputs: [input], tokenizer: 'char', valRatio: 0.1 },
        train: {
          preset: 'cpu-tiny',
          train: trainOverrides,
          iters: o.iters,
          from: parentModelCid ? { modelCid: parentModelCid } : null,
        },
        evaluate: { text: 'prepared' },
        publish: { pin: true },
        ...(lineageId === null
          ? {}
          : {
              claim: {
                lineageId,
                trainer: { devAccount: DEMO_ACCOUNTS.trainer },
                verifiers: [{ devAccount: DEMO_ACCOUNTS.verifier }],
                name: 'Tiny Shakespeare GPT',
                description: `A 0.8M-parameter GPT trained on tiny-shakespeare by XAI-Link's demo, version ${version}.`,
              },
            }),
      },
    };
    return pipelineSchema.parse(p);
  };
  const runPipeline = async (p: Pipeline, label: string, until?: 'prepare'): Promise<PipelineRunResult> => {
    const file = join(dir, `pipeline-${p.name.endsWith('v2') ? 'v2' : 'v1'}.json`);
    const bytes = `${JSON.stringify(p, null, 2)}\n`;
    if (!until) await writeFileAtomic(file, bytes);
    return proof.pipelines.runner.run(p, {
      baseDir: dir,
      fileBytes: new TextEncoder().encode(bytes),
      ...(o.force ? { force: true } : {}),
      ...(until ? { until } : {}),
      signal: o.signal,
      onProgress: stageProgress(label),
      onStage: (r) =>
        log(
          `${label} ${r.stage.padEnd(8)} ${r.status.padEnd(7)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.message}`,
        ),
    });
  };

  // 1. Prepare (the lineage's evaluation text comes out of it), then the lineage.
  const prepared = await runPipeline(pipeline(1, null, null), 'v1', 'prepare');
  const evalTextCid = prepared.outputs.prepare!.evalTextCid;
  const stateFile = join(dir, 'state.json');
  let state = readState(stateFile);
  const lineageOk =
    state !== null &&
    state.chainId === info.chainId &&
    getAddress(state.registry) === getAddress(info.registry) &&
    state.evalTextCid === evalTextCid &&
    (await chain.lineage(state.lineageId).then(
      (l) => l.evalDatasetCid === evalTextCid && getAddress(l.creator) === accounts.creator,
      () => false,
    ));
  if (!lineageOk) {
    o.onProgress?.('lineage', 0, null, '', 'creating the lineage');
    const { lineageId } = await chain.createLineage(
      {
        name: 'Tiny Shakespeare (bits per byte)',
        evalDatasetCid: evalTextCid,
        metricName: 'bits_per_byte',
        higherIsBetter: false,
        genesisModelCid: '',
        genesisScore: DEMO_GENESIS_SCORE.toString(),
        epsilon: { startBps: 100, floorBps: 50, decayBpsPerDay: 10 },
        minCommitAge: 1,
        verifiers: [accounts.verifier],
        quorum: 1,
        pricing: {
          basePriceWei: '1000000000000000',
          pricePerPointWei: '1000000000',
          minPriceBps: 5_000,
          maxPriceBps: 20_000,
          royaltyBps: 500,
        },
        shares: { ownerBps: 7_000, ancestorsBps: 2_000, creatorBps: 1_000 },
      },
      { devAccount: DEMO_ACCOUNTS.creator },
    );
    state = { chainId: info.chainId, registry: info.registry, lineageId, evalTextCid };
    await writeJsonAtomic(stateFile, state);
    log(
      `lineage ${lineageId} created by ${accounts.creator}: bits per byte on ${evalTextCid}, genesis 8.000000, ε 1 %`,
    );
  } else log(`lineage ${state!.lineageId} (from an earlier run)`);
  const lineageId = state!.lineageId;

  // 2. v1 and v2.
  const v1 = await runPipeline(pipeline(1, lineageId, null), 'v1');
  const v2 = await runPipeline(pipeline(2, lineageId, v1.outputs.evaluate!.modelCid), 'v2');

  // 3. A licence of v2, withdrawals, balances, leaderboard.
  const v2Token = v2.outputs.claim!.tokenId!;
  o.onProgress?.('market', 0, null, '', 'licence of v2, withdrawals, leaderboard');
  const held = (await chain.licences(accounts.buyer)).some((l) => l.tokenId === v2Token);
  let licence: DemoSummary['licence'];
  if (held) {
    const t = await chain.token(v2Token);
    licence = {
      tokenId: v2Token,
      buyer: accounts.buyer,
      priceWei: t.priceWei,
      txHash: null,
      alreadyHeld: true,
    };
    log(`the buyer already holds a licence of token ${v2Token}`);
  } else {
    const bought = await chain.buyLicence(v2Token, { devAccount: DEMO_ACCOUNTS.buyer });
    licence = {
      tokenId: v2Token,
      buyer: accounts.buyer,
      priceWei: bought.priceWei,
      txHash: bought.txHash,
      alreadyHeld: false,
    };
    log(
      `${accounts.buyer} bought a licence of token ${v2Token} for ${formatEther(BigInt(bought.priceWei))} ETH`,
    );
  }
  const withdrawals: DemoSummary['withdrawals'] = [];
  for (const [role, index] of [
    ['trainer', DEMO_ACCOUNTS.trainer],
    ['creator', DEMO_ACCOUNTS.creator],
  ] as const) {
    const earnings = await chain.earnings(accounts[role]);
    if (BigInt(earnings.pendingWei) === 0n) continue;
    const w = await chain.withdraw({ devAccount: index });
    withdrawals.push({ account: w.account, role, amountWei: w.amountWei });
    log(`${role} ${w.account} withdrew ${formatEther(BigInt(w.amountWei))} ETH`);
  }
  const client = await proof.chainAccess.client();
  const balances = await Promise.all(
    (Object.keys(accounts) as (keyof typeof accounts)[]).map(async (role) => ({
      role,
      account: accounts[role],
      balanceWei: (await client.getBalance({ address: accounts[role] })).toString(),
      earnedWei: (await chain.earnings(accounts[role])).totalWei,
    })),
  );
  const board = await chain.leaderboard(lineageId);
  const models = board.lineages.find((l) => l.lineageId === lineageId)?.models ?? [];

  const version = async (n: 1 | 2, r: PipelineRunResult) => {
    const tokenId = r.outputs.claim!.tokenId!;
    const t = await chain.token(tokenId);
    return {
      version: t.version,
      tokenId,
      iterations: r.outputs.train!.iterations,
      modelCid: r.outputs.evaluate!.modelCid,
      checkpointCid: r.outputs.train!.checkpointCid,
      evaluationCid: t.evaluationCid,
      metadataCid: r.outputs.claim!.metadataCid,
      claimCid: r.outputs.claim!.claimCid,
      pipelineCid: r.outputs.publish!.pipelineCid,
      bitsPerByte: Number(t.score) / SCORE_SCALE,
      score: t.score,
      suggestedPriceWei: t.suggestedPriceWei,
      stages: r.stages.map((s) => ({
        stage: s.stage,
        status: s.status,
        seconds: Math.round(s.seconds * 10) / 10,
      })),
    };
  };
  return {
    ok: true,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    dataDir,
    input,
    chain: { chainId: info.chainId, rpcUrl: info.rpcUrl, registry: info.registry, market: info.market },
    accounts,
    lineage: {
      lineageId,
      name: 'Tiny Shakespeare (bits per byte)',
      metric: 'bits_per_byte',
      evalTextCid,
      genesisScore: DEMO_GENESIS_SCORE.toString(),
    },
    versions: [await version(1, v1), await version(2, v2)],
    licence,
    withdrawals,
    balances,
    leaderboard: models.map((m) => ({
      rank: m.rank,
      tokenId: m.tokenId,
      version: m.version,
      score: m.score,
      licences: m.licences,
      revenueWei: m.revenueWei,
      priceWei: m.priceWei,
    })),
  };
}

function readState(file: string): DemoState | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
  } catch {
    return null;
  }
}
