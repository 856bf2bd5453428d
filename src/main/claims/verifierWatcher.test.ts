/**
 * The watcher's cursor on a real chain (embedded anvil) with the real IPFS node (offline: the announced CIDs
 * hold nothing, so each claim fails fast and the queue moves): restarts at random points neither miss nor
 * repeat an announcement, a reorganisation is seen through the confirmation window, other lineages are
 * ignored, and a damaged state file is reported instead of being overwritten.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from 'multiformats/hashes/sha2';
import { CID } from 'multiformats/cid';
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineageParamsSchema } from '../../shared/api/chain.ts';
import { createAppCore, createLocalClient } from '../rpc/localClient.ts';
import { createServices, type AppServices } from '../services/services.ts';
import { VerifierWatcher } from './verifierWatcher.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'xai-watcher-'));
let services: AppServices;
let lineageId: number;
let otherLineage: number;
let dev: Address[];
let n = 0;

async function fakeClaimCid(): Promise<string> {
  return CID.create(1, 0x55, await sha256.digest(new TextEncoder().encode(`claim ${++n}`))).toString();
}

async function announce(lineage = lineageId): Promise<string> {
  const cid = await fakeClaimCid();
  await services.proof.chainAccess.requestVerification(BigInt(lineage), keccak256(toHex(cid)), cid, {
    devAccount: 1,
  });
  return cid;
}

function newWatcher(): VerifierWatcher {
  return new VerifierWatcher({
    dir: join(dataDir, 'verifier'),
    chain: services.proof.chainAccess,
    verifier: services.proof.verifier,
    ipfs: () => services.ipfs,
  });
}

const options = { signer: { devAccount: 2 }, pollMs: 50, confirmations: 4, maxAttempts: 1 };

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  services = createServices({ dataDir, entryPoint: 'cli' });
  dev = (await services.chain.contracts()).devAccounts as Address[];
  const params = (verifier: Address) =>
    lineageParamsSchema.parse({
      name: 'watched',
      evalDatasetCid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
      genesisScore: '8000000',
      minCommitAge: 1,
      verifiers: [verifier],
      quorum: 1,
    });
  ({ lineageId } = await services.chain.createLineage(params(dev[2]!), { devAccount: 0 }));
  ({ lineageId: otherLineage } = await services.chain.createLineage(params(dev[3]!), { devAccount: 0 }));
}, 120_000);

afterAll(async () => {
  await services?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('VerifierWatcher', () => {
  it('queues every announcement exactly once across restarts at random points; ignores other lineages', async () => {
    const announced: string[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; i < 40; i++) {
        announced.push(await announce());
        if (i % 10 === 0) await announce(otherLineage);
      }
      sending = false;
    })();
    let w = newWatcher();
    await w.start(options);
    for (let restart = 0; restart < 8; restart++) {
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      await w.stop();
      w = newWatcher(); // as a new process would: everything from the saved file
      await w.start(options);
    }
    await sender;
    expect(sending).toBe(false);
    await until(
      () =>
        w.status().jobs.length === announced.length && w.status().jobs.every((j) => j.status === 'failed'),
      'every announcement to be handled',
    );
    const s = await w.stop();
    expect(s.jobs.map((j) => j.claimCid).sort()).toEqual([...announced].sort());
    expect(s.ignored).toBe(4);
    expect(s.jobs[0]).toMatchObject({ lineageId, requester: dev[1], status: 'failed', attempts: 1 });
    expect(s.jobs[0]!.message).toMatch(/not available/);
  }, 120_000);

  it('sees announcements moved or replaced by a reorganisation, without repeating one', async () => {
    const client = await services.proof.chainAccess.client();
    const rpc = (method: string, params: unknown[] = []) =>
      client.request({ method, params } as never) as Promise<Hex>;
    const w = newWatcher();
    await w.start(options);
    const snapshot = await rpc('evm_snapshot');
    const x = await announce();
    await until(() => w.status().jobs.some((j) => j.claimCid === x), 'x to be queued');
    await w.stop();
    // The block holding x is dropped; y and x land in the new blocks instead (x in another position).
    await rpc('evm_revert', [snapshot]);
    const y = await announce();
    await services.proof.chainAccess.requestVerification(BigInt(lineageId), keccak256(toHex(x)), x, {
      devAccount: 3,
    });
    await w.start(options);
    await until(() => w.status().jobs.some((j) => j.claimCid === y), 'y to be queued');
    await until(() => w.status().cursor === w.status().latestBlock, 'the cursor to catch up');
    const s = await w.stop();
    expect(s.jobs.filter((j) => j.claimCid === x)).toHaveLength(1);
    expect(s.jobs.filter((j) => j.claimCid === y)).toHaveLength(1);
  }, 60_000);

  it('serves the watcher through the API contract (params and results validated), and refuses bad input', async () => {
    const client = createLocalClient(createAppCore(services), 'cli');
    expect(await client.invoke('watcher.status', {})).toMatchObject({ running: false });
    const started = await client.invoke('watcher.start', {
      signer: { devAccount: 2 },
      lineages: [lineageId],
      pollMs: 50,
    });
    expect(started).toMatchObject({ running: true, verifier: dev[2], lineages: [lineageId] });
    await expect(client.invoke('watcher.start', { signer: { devAccount: 2 } })).rejects.toThrow(
      /already running/,
    );
    const cid = await announce();
    await until(() => services.proof.watcher.status().jobs.some((j) => j.claimCid === cid), 'the job');
    const stopped = await client.invoke('watcher.stop', {});
    expect(stopped.running).toBe(false);
    expect(stopped.jobs.find((j) => j.claimCid === cid)).toMatchObject({ lineageId, requester: dev[1] });
    await expect(
      client.invoke('watcher.start', { signer: { devAccount: 2 }, pollMs: 1 } as never),
    ).rejects.toThrow(/pollMs/);
    await expect(client.invoke('claims.networkStatus', { claimId: 'claim-nope' })).rejects.toThrow(
      /no claim claim-nope/,
    );
  }, 60_000);

  it('stops at once while a poll waits on a chain that does not answer', async () => {
    // found by bench:fuzz (seed 46): watcher.stop waited for a poll stuck on a slow chain, past the client's timeout
    const w = newWatcher();
    await w.start(options);
    await until(() => w.status().latestBlock !== null, 'a first poll');
    const { pid } = JSON.parse(readFileSync(join(dataDir, 'chain', 'node.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGSTOP'); // anvil frozen: its port accepts, nothing answers
    try {
      await new Promise((r) => setTimeout(r, 300)); // the next poll is now waiting on it
      const started = performance.now();
      const status = await w.stop();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(status.running).toBe(false);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // the chain answers again and a new start polls from the saved cursor
    await w.start(options);
    await w.stop();
  }, 60_000);

  it('refuses to start over a damaged state file instead of forgetting its verdicts', async () => {
    const w = newWatcher();
    const running = await w.start(options);
    await w.stop();
    const info = await services.proof.chainAccess.info();
    const file = join(
      dataDir,
      'verifier',
      `watch-${info.chainId}-${info.registry.toLowerCase()}-${running.verifier!.toLowerCase()}.json`,
    );
    writeFileSync(file, '{"version": 1, "jobs": [');
    await expect(newWatcher().start(options)).rejects.toThrow(/damaged/);
    await expect(w.start(options)).rejects.toThrow(/damaged/);
  }, 30_000);
});
