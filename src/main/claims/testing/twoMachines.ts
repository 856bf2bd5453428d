/**
 * Two machines' worth of XAI-Link on 127.0.0.1, for the integration test and `npm run bench:network`:
 * one anvil reached by its RPC URL (the network), a trainer A in this process (its own data directory
 * and IPFS repository, online on 127.0.0.1) and verifiers B as separate `xai-link verifier watch`
 * processes with their own data directories. Nothing passes between them but the chain and IPFS (and,
 * once, the deployment record, as the app ships it for public chains).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateKeyToAccount } from 'viem/accounts';
import { lineageParamsSchema } from '../../../shared/api/chain.ts';
import type { WatchJob } from '../../../shared/api/verifierNetwork.ts';
import type { ResolvedModelConfig } from '../../../shared/engine/config.ts';
import type { Tokenizer } from '../../../shared/tokenizers/tokenizer.ts';
import { startAnvil, type AnvilInstance } from '../../chain/anvil.ts';
import { cliWithDataDir, type Cli } from '../../cli/testing/cliProcess.ts';
import { engineGptOnnx, writeTestModelPackage } from '../../eval/testing/models.ts';
import { createServices, type AppServices } from '../../services/services.ts';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** anvil's well-known dev keys (accounts 0-2 of "test test … junk"): creator, trainer, verifier. */
export const KEYS = {
  XAI_TEST_CREATOR_KEY: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  XAI_TEST_TRAINER_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  XAI_TEST_VERIFIER_KEY: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;
export const creator = { keyEnv: 'XAI_TEST_CREATOR_KEY' };
export const trainer = { keyEnv: 'XAI_TEST_TRAINER_KEY' };
export const trainerAddress = privateKeyToAccount(KEYS.XAI_TEST_TRAINER_KEY).address;
export const verifierAddress = privateKeyToAccount(KEYS.XAI_TEST_VERIFIER_KEY).address;

export interface TwoMachines {
  anvil: AnvilInstance;
  a: AppServices;
  dirA: string;
  dirB: string;
  /** The CLI on B's data directory. */
  cliB: Cli;
  lineageId: number;
  /** A's IPFS address on 127.0.0.1 (with /p2p/<peer id>). */
  aAddress: string;
  dispose(): Promise<void>;
}

/** The network (anvil, a block a second), A online, B's data directory pointed at the chain, the lineage. */
export async function startTwoMachines(root: string, evalText: string): Promise<TwoMachines> {
  Object.assign(process.env, KEYS);
  const dirA = join(root, 'a');
  const dirB = join(root, 'b');
  const anvil = await startAnvil({ extraArgs: ['--block-time', '1'] });
  const a = createServices({ dataDir: dirA, entryPoint: 'cli' });
  await a.chain.configure({ kind: 'rpc', rpcUrl: anvil.rpcUrl });
  await a.chain.deploy({ force: false, signer: creator, recordInRepo: false });
  mkdirSync(join(dirB, 'chain', 'deployments'), { recursive: true });
  copyFileSync(
    join(dirA, 'chain', 'deployments', `${anvil.chainId}.json`),
    join(dirB, 'chain', 'deployments', `${anvil.chainId}.json`),
  );
  const cliB = cliWithDataDir(dirB, { env: KEYS, timeoutMs: 120_000 });
  const used = await cliB('chain', 'use', anvil.rpcUrl, '--json');
  if (used.code !== 0) throw new Error(`B could not use the chain: ${used.stderr}`);
  const textCid = await a.ipfs.addBytes(new TextEncoder().encode(evalText), { pin: true });
  const { lineageId } = await a.chain.createLineage(
    lineageParamsSchema.parse({
      name: 'two machines',
      evalDatasetCid: textCid,
      genesisScore: '8000000',
      minCommitAge: 1,
      verifiers: [verifierAddress],
      quorum: 1,
    }),
    creator,
  );
  const online = await a.ipfs.setOnline(true, { listen: ['/ip4/127.0.0.1/tcp/0'], publicNetwork: false });
  const aAddress = online.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/'))!;
  return {
    anvil,
    a,
    dirA,
    dirB,
    cliB,
    lineageId,
    aAddress,
    async dispose() {
      await a.dispose();
      await anvil.stop();
    },
  };
}

/** B's watcher: a separate process, its verdicts on stdout (JSON lines), its progress on stderr. */
export class WatcherProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly verdicts: WatchJob[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(dataDir: string, peer: string) {
    this.proc = spawn(
      process.execPath,
      [
        MAIN,
        '--data-dir',
        dataDir,
        'verifier',
        'watch',
        '--key-env',
        'XAI_TEST_VERIFIER_KEY',
        '--no-public',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--peer',
        peer,
        '--poll',
        '200',
        '--confirmations',
        '3',
        '--json',
      ],
      { env: { ...process.env, ...KEYS } },
    );
    let out = '';
    this.proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
        this.verdicts.push(JSON.parse(out.slice(0, i)) as WatchJob);
        out = out.slice(i + 1);
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((r) => this.proc.on('exit', (code) => r(code)));
  }

  async until(what: string, check: () => boolean, ms = 120_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (this.proc.exitCode !== null) throw new Error(`B exited while waiting for ${what}:\n${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${this.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** A model package (the engine's GPT export with seeded weights) published and pinned on A. */
export async function publishModel(
  a: AppServices,
  dir: string,
  cfg: ResolvedModelConfig,
  tokenizer: Tokenizer,
  seed: number,
): Promise<string> {
  await writeSeededModelPackage(dir, cfg, tokenizer, seed);
  return (await a.ipfs.addPath(dir, { pin: true })).cid;
}

/** Writes a model package folder: the engine's GPT export with seeded weights, its tokenizer and card. */
export async function writeSeededModelPackage(
  dir: string,
  cfg: ResolvedModelConfig,
  tokenizer: Tokenizer,
  seed: number,
): Promise<void> {
  await writeTestModelPackage(dir, {
    cfg,
    tokenizer,
    onnx: engineGptOnnx(cfg, seed),
    name: `seed ${seed}`,
    seed,
  });
}

/** A's claim of a model, up to a signed claim published on A's IPFS node; returns the claim id. */
export async function signedClaim(a: AppServices, lineageId: number, modelCid: string): Promise<string> {
  const claims = a.proof.claims;
  const started = await claims.start({
    lineageId,
    modelCid,
    trainer: trainerAddress,
    tolerance: 1000,
    deadlineSeconds: 3600,
  });
  await claims.commit(started.id, trainer);
  await claims.evaluate(started.id);
  await claims.sign(started.id, trainer);
  return started.id;
}
