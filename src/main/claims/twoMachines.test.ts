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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRegistryAbi } from '../../../contracts/generated/index.ts';
import type { ClaimNetworkStatus } from '../../shared/api/verifierNetwork.ts';
import { attestationDigest, improvementFromJson, improvementToJson } from '../../shared/chain/eip712.ts';
import { charTokenizerFromText } from '../../shared/tokenizers/tokenizer.ts';
import type { ClaimRecord } from '../../shared/api/claims.ts';
import { cliWithDataDir, jsonOf } from '../cli/testing/cliProcess.ts';
import { bundledShakespeare, TINY_GPT } from '../eval/testing/models.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import {
  publishModel as publish,
  signedClaim as sign,
  KEYS,
  startTwoMachines,
  trainer,
  verifierAddress,
  WatcherProcess,
  type TwoMachines,
} from './testing/twoMachines.ts';

const root = mkdtempSync(join(tmpdir(), 'xai-two-machines-'));
// Large enough that B's evaluation takes a moment (B is killed in the middle of one).
const text = bundledShakespeare().slice(0, 400_000);
const tokenizer = charTokenizerFromText(text);
const cfg = { ...TINY_GPT, vocabSize: tokenizer.vocabSize };

let net: TwoMachines;
let watcher: WatcherProcess;
const a = () => net.a;
const publishModel = (name: string, seed: number) =>
  publish(net.a, join(root, 'packages', name), cfg, tokenizer, seed);
const signedClaim = (modelCid: string) => sign(net.a, net.lineageId, modelCid);
const startWatcher = () => new WatcherProcess(net.dirB, net.aAddress);
const cliA = (...args: string[]) => cliWithDataDir(net.dirA, { env: KEYS, timeoutMs: 300_000 })(...args);
const trainerFlags = ['--key-env', trainer.keyEnv];

async function networkStatusUntil(
  claimId: string,
  check: (s: ClaimNetworkStatus) => boolean,
  ms = 180_000,
): Promise<ClaimNetworkStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await a().proof.claimNetwork.status(claimId);
    if (check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  net = await startTwoMachines(root, text);
  watcher = startWatcher();
  await watcher.until('the watcher to start', () => watcher.stderr.includes('watching'));
}, 180_000);

afterAll(async () => {
  await watcher?.kill();
  await net?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('a trainer and a verifier on two machines', () => {
  it('refuses a dishonest claim (score overstated, signed correctly) and the trainer reads the reason on chain', async () => {
    const modelCid = await publishModel('dishonest', 7);
    const id = await signedClaim(modelCid);
    // The trainer edits its claim: a better score than the model has, signed with its own key.
    const stored = a().proof.claims.stored(id);
    const inflated = {
      ...improvementFromJson(stored.improvement!),
      score: BigInt(stored.improvement!.score) - 500_000n,
    };
    const signature = await a().proof.chainAccess.signImprovement(trainer, inflated);
    const file = {
      ...a().proof.claims.claimFile(id),
      improvement: improvementToJson(inflated),
      trainerSignature: signature,
    };
    const claimCid = await a().ipfs.addBytes(new TextEncoder().encode(JSON.stringify(file)), { pin: true });
    await writeJsonAtomic(join(net.dirA, 'claims', `${id}.json`), {
      ...stored,
      improvement: improvementToJson(inflated),
      trainerSignature: signature,
      claimCid,
    });

    const announced = await a().proof.claimNetwork.announce(id, trainer);
    expect(announced.announced).not.toBeNull();
    // Announcing again sends nothing.
    expect((await a().proof.claimNetwork.announce(id, trainer)).announced).toEqual(announced.announced);

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
    // `claim submit --wait` shows B's answer and gives up: the quorum cannot be reached any more.
    const waited = await cliA('claim', 'submit', id, '--wait', '--timeout', '60', ...trainerFlags);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/REFUSED: score-mismatch/);
    expect(waited.stderr).toMatch(/quorum of 1 cannot be reached/);
    await expect(a().proof.claims.submit(id, trainer)).rejects.toThrow(/0 attestation/);
  }, 240_000);

  it('B finds the honest claim on chain, fetches it from A, is killed mid-evaluation, restarts, attests once; A mints', async () => {
    const modelCid = await publishModel('honest', 1);
    const id = await signedClaim(modelCid);
    const claimCid = a().proof.claims.get(id).claimCid!;
    const t0 = Date.now();
    await a().proof.claimNetwork.announce(id, trainer);
    // The trainer waits for the quorum in another process and submits as soon as it is reached.
    const submitting = cliA('claim', 'submit', id, '--wait', '--timeout', '240', '--json', ...trainerFlags);

    // B crashes while it evaluates this claim (no clean stop: kill -9).
    await watcher.until('B to evaluate the claim', () =>
      new RegExp(`${claimCid.slice(0, 16)}… [^\\n]*(evaluat|fetching the evaluation|tokeniz)`, 'i').test(
        watcher.stderr,
      ),
    );
    watcher.proc.kill('SIGKILL');
    await watcher.exited;
    expect(watcher.verdicts.some((v) => v.claimCid === claimCid)).toBe(false);

    watcher = startWatcher();
    await watcher.until('B to attest after its restart', () =>
      watcher.verdicts.some((v) => v.claimCid === claimCid),
    );
    expect(watcher.verdicts.find((v) => v.claimCid === claimCid)).toMatchObject({
      status: 'attested',
      reason: null,
    });

    const minted = jsonOf<ClaimRecord>(await submitting);
    expect(minted.status).toBe('minted');
    const s = await a().proof.claimNetwork.status(id);
    expect(s.minted).toEqual(minted.mint);
    expect(s.verdicts).toEqual([
      expect.objectContaining({ verifier: verifierAddress, kind: 'attested-on-chain', reason: null }),
    ]);
    console.log(
      `announced → minted across two processes (with a crash and restart of B): ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    // Exactly one attestation from B for this claim, however often it restarted.
    const info = await a().proof.chainAccess.info();
    const digest = attestationDigest(
      await a().proof.chainAccess.domain(),
      improvementFromJson(minted.improvement!),
    );
    const client = await a().proof.chainAccess.client();
    const approvals = await client.getContractEvents({
      address: info.registry as Address,
      abi: modelRegistryAbi,
      eventName: 'AttestationApproved',
      args: { attestationDigest: digest as Hex },
      fromBlock: BigInt(info.deployBlock),
    });
    expect(approvals.map((l) => l.args.verifier)).toEqual([verifierAddress]);

    // Both machines read the same leaderboard, in the lineage's units.
    const boardA = await a().chain.leaderboard(net.lineageId);
    const boardB = jsonOf<typeof boardA>(
      await net.cliB('leaderboard', '--lineage', String(net.lineageId), '--json'),
    );
    expect(boardB.lineages[0]!.models).toEqual(boardA.lineages[0]!.models);
    expect(boardA.lineages[0]!.models.map((m) => m.tokenId)).toEqual([minted.mint!.tokenId]);
    const table = await net.cliB('leaderboard', '--lineage', String(net.lineageId));
    const score = boardA.lineages[0]!.models[0]!.score;
    expect(table.stdout).toContain(`${(Number(score) / 1e6).toFixed(4)} bits/byte`);
    expect(table.stdout).not.toContain(score);
  }, 300_000);

  it('B stops cleanly on SIGINT, keeps its verdicts, and pinned what it verified (fetched from A: it held nothing)', async () => {
    watcher.proc.kill('SIGINT');
    expect(await watcher.exited).toBe(0);
    const pins = jsonOf<{ cid: string }[]>(await net.cliB('ipfs', 'pins', '--json'));
    const honest = a()
      .proof.claims.list()
      .find((c) => c.status === 'minted')!;
    expect(pins.map((p) => p.cid)).toEqual(expect.arrayContaining([honest.claimCid, honest.model.cid]));
    // Restarted, B neither repeats an announcement nor attests again.
    watcher = startWatcher();
    await watcher.until('B to catch up', () => /block (\d+)\/\1 · 0 queued · 2 done/.test(watcher.stderr));
    expect(watcher.verdicts).toEqual([]);
  }, 120_000);
});
