/**
 * Two machines' worth of XAI-Link on 127.0.0.1 (issue 13): a trainer A (this process: its own data directory
 * and IPFS repository) and a verifier B (a separate `xai-link verifier watch` process with its own data
 * directory and repository, holding nothing), networked over libp2p, sharing one anvil reached by its RPC
 * URL as a real chain would be. Nothing passes between them but the chain and IPFS:
 *
 * - A creates a lineage naming B's key, publishes a model, claims it and announces the claim on chain;
 *   B (started before) finds it, fetches every block from A over bitswap, re-runs, attests on chain;
 *   A's claim reaches quorum and mints; both leaderboards agree (in bits/byte, not raw integers).
 * - A dishonest claim (score overstated, signed correctly) is refused by B, and A reads B's reason.
 * - B killed mid-evaluation and restarted finishes that claim once, with one attestation.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import { lineageParamsSchema } from '../../shared/api/chain.ts';
import type { ClaimNetworkStatus, WatchJob } from '../../shared/api/verifierNetwork.ts';
import { attestationDigest, improvementFromJson, improvementToJson } from '../../shared/chain/eip712.ts';
import { charTokenizerFromText } from '../../shared/tokenizers/tokenizer.ts';
import { startAnvil, type AnvilInstance } from '../chain/anvil.ts';
import { cliWithDataDir, jsonOf } from '../cli/testing/cliProcess.ts';
import { gptParamLayout } from '../engine/gpt.ts';
import { writeModelPackage } from '../eval/modelPackage.ts';
import { bundledShakespeare, engineGptOnnx, TINY_GPT } from '../eval/testing/models.ts';
import { createServices, type AppServices } from '../services/services.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
// anvil's well-known dev keys (accounts 0-2 of "test test … junk"): creator, trainer, verifier.
const KEYS = {
  XAI_TEST_CREATOR_KEY: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  XAI_TEST_TRAINER_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  XAI_TEST_VERIFIER_KEY: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;
const creator = { keyEnv: 'XAI_TEST_CREATOR_KEY' };
const trainer = { keyEnv: 'XAI_TEST_TRAINER_KEY' };
const trainerAddress = privateKeyToAccount(KEYS.XAI_TEST_TRAINER_KEY).address;
const verifierAddress = privateKeyToAccount(KEYS.XAI_TEST_VERIFIER_KEY).address;

const root = mkdtempSync(join(tmpdir(), 'xai-two-machines-'));
const dirA = join(root, 'a');
const dirB = join(root, 'b');
// Large enough that B's evaluation takes a moment (B is killed in the middle of one).
const text = bundledShakespeare().slice(0, 400_000);
const tokenizer = charTokenizerFromText(text);
const cfg = { ...TINY_GPT, vocabSize: tokenizer.vocabSize };

let anvil: AnvilInstance;
let a: AppServices;
let aAddress: string;
let lineageId: number;
const cliB = cliWithDataDir(dirB, { env: KEYS, timeoutMs: 120_000 });

/** B's watcher: a separate process, its verdicts on stdout (JSON lines), its progress on stderr. */
class Watcher {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly verdicts: WatchJob[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor() {
    this.proc = spawn(
      process.execPath,
      [
        MAIN,
        '--data-dir',
        dirB,
        'verifier',
        'watch',
        '--key-env',
        'XAI_TEST_VERIFIER_KEY',
        '--no-public',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--peer',
        aAddress,
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
}

async function publishModel(name: string, seed: number): Promise<string> {
  const dir = join(root, 'packages', name);
  await writeModelPackage(dir, {
    onnx: engineGptOnnx(cfg, seed),
    tokenizer,
    card: {
      name,
      config: {
        nLayer: cfg.nLayer,
        nHead: cfg.nHead,
        nEmbd: cfg.nEmbd,
        blockSize: cfg.blockSize,
        vocabSize: cfg.vocabSize,
        bias: cfg.bias,
      },
      parameters: gptParamLayout(cfg).total,
      training: {
        iterations: 10,
        tokens: 1000,
        seed,
        lossCurve: [
          { step: 0, train: 4.2, val: 4.2 },
          { step: 10, train: 4.1, val: 4.15 },
        ],
      },
      datasetCid: null,
      parentModelCid: null,
      checkpointCid: null,
    },
  });
  return (await a.ipfs.addPath(dir, { pin: true })).cid;
}

/** A's claim of a model, up to a signed claim published on A's IPFS node. */
async function signedClaim(modelCid: string): Promise<string> {
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

async function networkStatusUntil(
  claimId: string,
  check: (s: ClaimNetworkStatus) => boolean,
  ms = 180_000,
): Promise<ClaimNetworkStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await a.proof.claimNetwork.status(claimId);
    if (check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let watcher: Watcher;

beforeAll(async () => {
  Object.assign(process.env, KEYS);
  // The network: one anvil producing a block a second, like a live chain; both sides reach it by URL.
  anvil = await startAnvil({ extraArgs: ['--block-time', '1'] });
  a = createServices({ dataDir: dirA, entryPoint: 'cli' });
  await a.chain.configure({ kind: 'rpc', rpcUrl: anvil.rpcUrl });
  await a.chain.deploy({ force: false, signer: creator, recordInRepo: false });
  // B learns where the contracts are as a user does: the deployment record shipped for that chain.
  mkdirSync(join(dirB, 'chain', 'deployments'), { recursive: true });
  copyFileSync(
    join(dirA, 'chain', 'deployments', `${anvil.chainId}.json`),
    join(dirB, 'chain', 'deployments', `${anvil.chainId}.json`),
  );
  expect((await cliB('chain', 'use', anvil.rpcUrl, '--json')).code).toBe(0);

  const textCid = await a.ipfs.addBytes(new TextEncoder().encode(text), { pin: true });
  ({ lineageId } = await a.chain.createLineage(
    lineageParamsSchema.parse({
      name: 'two machines',
      evalDatasetCid: textCid,
      genesisScore: '8000000',
      minCommitAge: 1,
      verifiers: [verifierAddress],
      quorum: 1,
    }),
    creator,
  ));
  const online = await a.ipfs.setOnline(true, { listen: ['/ip4/127.0.0.1/tcp/0'], publicNetwork: false });
  aAddress = online.listenAddresses.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/'))!;
  watcher = new Watcher();
  await watcher.until('the watcher to start', () => watcher.stderr.includes('watching'));
}, 180_000);

afterAll(async () => {
  if (watcher && watcher.proc.exitCode === null) {
    watcher.proc.kill('SIGKILL');
    await watcher.exited;
  }
  await a?.dispose();
  await anvil?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('a trainer and a verifier on two machines', () => {
  it('refuses a dishonest claim (score overstated, signed correctly) and the trainer reads the reason on chain', async () => {
    const modelCid = await publishModel('dishonest', 7);
    const id = await signedClaim(modelCid);
    // The trainer edits its claim: a better score than the model has, signed with its own key.
    const stored = a.proof.claims.stored(id);
    const inflated = {
      ...improvementFromJson(stored.improvement!),
      score: BigInt(stored.improvement!.score) - 500_000n,
    };
    const signature = await a.proof.chainAccess.signImprovement(trainer, inflated);
    const file = {
      ...a.proof.claims.claimFile(id),
      improvement: improvementToJson(inflated),
      trainerSignature: signature,
    };
    const claimCid = await a.ipfs.addBytes(new TextEncoder().encode(JSON.stringify(file)), { pin: true });
    await writeJsonAtomic(join(dirA, 'claims', `${id}.json`), {
      ...stored,
      improvement: improvementToJson(inflated),
      trainerSignature: signature,
      claimCid,
    });

    const announced = await a.proof.claimNetwork.announce(id, trainer);
    expect(announced.announced).not.toBeNull();
    // Announcing again sends nothing.
    expect((await a.proof.claimNetwork.announce(id, trainer)).announced).toEqual(announced.announced);

    const s = await networkStatusUntil(id, (x) => x.verdicts.some((v) => v.kind === 'declined'));
    expect(s.attestations).toBe(0);
    expect(s.verdicts).toEqual([
      expect.objectContaining({
        verifier: verifierAddress,
        kind: 'declined',
        reason: expect.stringMatching(/^score-mismatch: .*re-run gives/),
      }),
    ]);
    await watcher.until('the refusal to be reported', () =>
      watcher.verdicts.some((v) => v.claimCid === claimCid),
    );
    expect(watcher.verdicts.find((v) => v.claimCid === claimCid)).toMatchObject({
      status: 'refused',
      reason: 'score-mismatch',
    });
    await expect(a.proof.claims.submit(id, trainer)).rejects.toThrow(/0 attestation/);
  }, 240_000);

  it('B finds the honest claim on chain, fetches it from A, is killed mid-evaluation, restarts, attests once; A mints', async () => {
    const modelCid = await publishModel('honest', 1);
    const id = await signedClaim(modelCid);
    const claimCid = a.proof.claims.get(id).claimCid!;
    const t0 = Date.now();
    await a.proof.claimNetwork.announce(id, trainer);

    // B crashes while it evaluates this claim (no clean stop: kill -9).
    await watcher.until('B to evaluate the claim', () =>
      new RegExp(`${claimCid.slice(0, 16)}… [^\\n]*(evaluat|fetching the evaluation|tokeniz)`, 'i').test(
        watcher.stderr,
      ),
    );
    watcher.proc.kill('SIGKILL');
    await watcher.exited;
    expect(watcher.verdicts.some((v) => v.claimCid === claimCid)).toBe(false);

    watcher = new Watcher();
    await watcher.until('B to attest after its restart', () =>
      watcher.verdicts.some((v) => v.claimCid === claimCid),
    );
    expect(watcher.verdicts.find((v) => v.claimCid === claimCid)).toMatchObject({
      status: 'attested',
      reason: null,
    });

    const s = await networkStatusUntil(id, (x) => x.attestations >= x.quorum);
    expect(s.verdicts).toEqual([
      expect.objectContaining({ verifier: verifierAddress, kind: 'attested-on-chain', reason: null }),
    ]);
    const minted = await a.proof.claims.submit(id, trainer);
    expect(minted.status).toBe('minted');
    console.log(
      `announced → minted across two processes (with a crash and restart of B): ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    // Exactly one attestation from B for this claim, however often it restarted.
    const info = await a.proof.chainAccess.info();
    const digest = attestationDigest(
      await a.proof.chainAccess.domain(),
      improvementFromJson(minted.improvement!),
    );
    const client = await a.proof.chainAccess.client();
    const approvals = await client.getContractEvents({
      address: info.registry as Address,
      abi: modelRegistryAbi,
      eventName: 'AttestationApproved',
      args: { attestationDigest: digest as Hex },
      fromBlock: BigInt(info.deployBlock),
    });
    expect(approvals.map((l) => l.args.verifier)).toEqual([verifierAddress]);

    // Both machines read the same leaderboard, in the lineage's units.
    const boardA = await a.chain.leaderboard(lineageId);
    const boardB = jsonOf<typeof boardA>(await cliB('leaderboard', '--lineage', String(lineageId), '--json'));
    expect(boardB.lineages[0]!.models).toEqual(boardA.lineages[0]!.models);
    expect(boardA.lineages[0]!.models.map((m) => m.tokenId)).toEqual([minted.mint!.tokenId]);
    const table = await cliB('leaderboard', '--lineage', String(lineageId));
    const score = boardA.lineages[0]!.models[0]!.score;
    expect(table.stdout).toContain(`${(Number(score) / 1e6).toFixed(4)} bits/byte`);
    expect(table.stdout).not.toContain(score);
  }, 300_000);

  it('B stops cleanly on SIGINT, keeps its verdicts, and pinned what it verified (fetched from A: it held nothing)', async () => {
    watcher.proc.kill('SIGINT');
    expect(await watcher.exited).toBe(0);
    const pins = jsonOf<{ cid: string }[]>(await cliB('ipfs', 'pins', '--json'));
    const honest = a.proof.claims.list().find((c) => c.status === 'minted')!;
    expect(pins.map((p) => p.cid)).toEqual(expect.arrayContaining([honest.claimCid, honest.model.cid]));
    // Restarted, B neither repeats an announcement nor attests again.
    watcher = new Watcher();
    await watcher.until('B to catch up', () => /block (\d+)\/\1 · 0 queued · 2 done/.test(watcher.stderr));
    expect(watcher.verdicts).toEqual([]);
    writeFileSync(join(root, 'done'), '');
  }, 120_000);
});
