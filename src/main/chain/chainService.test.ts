/**
 * The embedded chain end to end, as the app and the CLI use it: start anvil in a temporary data directory,
 * deploy, create a lineage, commit, claim with a quorum of two verifiers (signatures made by anvil's dev
 * accounts through the shared EIP-712 definitions), mint, buy a licence, withdraw; stop; start again and
 * read the same state; and `xai-link leaderboard --json` shows it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Address, Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { leaderboardSchema, lineageParamsSchema } from '../../shared/api/chain.ts';
import {
  attestationTypedData,
  commitmentOf,
  improvementTypedData,
  registryDomain,
  sortAttestations,
  type Improvement,
} from '../../shared/chain/eip712.ts';
import { forwardRpc, isForwardable } from './rpcPassthrough.ts';
import { ChainService } from './chainService.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'xai-chain-'));
const chainDir = join(dataDir, 'chain');
const services: ChainService[] = [];

afterAll(async () => {
  for (const s of services) await s.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

function service(): ChainService {
  const s = new ChainService({ chainDir, repoDeploymentsDir: join(dataDir, 'no-repo') });
  services.push(s);
  return s;
}

describe('embedded chain', () => {
  it('deploys, mints a proven model, sells a licence, pays out, and keeps it all across a restart', async () => {
    const chain = service();
    const started = await chain.start();
    expect(started).toMatchObject({ running: true, chainId: 31337, contractsUpToDate: true });
    expect(started.embedded?.ownedByThisProcess).toBe(true);
    const info = await chain.contracts();
    const devAccounts = info.devAccounts as Address[];
    const [relayer, creator, trainer, v1, v2, buyer] = devAccounts;
    const domain = registryDomain(info.chainId, info.registry);

    const { lineageId } = await chain.createLineage(
      lineageParamsSchema.parse({
        name: 'tiny-shakespeare',
        evalDatasetCid: 'bafyevaltext',
        genesisScore: '8000000',
        verifiers: [v1, v2],
        quorum: 2,
        minCommitAge: 1,
      }),
      { devAccount: 1 },
    );
    expect(lineageId).toBe(1);
    expect((await chain.lineage(1)).creator).toBe(creator);

    // Commit, wait the minimum commit age, then claim with both verifiers' attestations.
    const modelCid = 'bafymodelv1';
    const salt = `0x${randomBytes(32).toString('hex')}` as Hex;
    await chain.commit(commitmentOf(modelCid, trainer!, salt), { devAccount: 2 });
    await new Promise((r) => setTimeout(r, 1_100));
    const claim: Improvement = {
      lineageId: 1n,
      parentTokenId: 0n,
      trainer: trainer!,
      modelCid,
      metadataCid: 'bafymetav1',
      evaluationCid: 'bafyevalv1',
      score: 7_000_000n,
      nonce: await chain.nonceOf(trainer!),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
    };
    const trainerSignature = await (
      await chain.walletFor({ devAccount: 2 })
    ).signTypedData(improvementTypedData(domain, claim));
    const attestations = sortAttestations(
      await Promise.all(
        [3, 4].map(async (i) => ({
          verifier: devAccounts[i]!,
          signature: await (
            await chain.walletFor({ devAccount: i })
          ).signTypedData(attestationTypedData(domain, claim)),
        })),
      ),
    );
    const { tokenId } = await chain.claim(claim, salt, trainerSignature, attestations, { devAccount: 0 });
    expect(tokenId).toBe(1);
    const minted = await chain.token(1);
    expect(minted).toMatchObject({
      owner: trainer,
      trainer,
      score: '7000000',
      tokenURI: 'ipfs://bafymetav1',
      isBest: true,
      version: 1,
    });

    const bought = await chain.buyLicence(1, { devAccount: 5 });
    expect(bought).toMatchObject({ licensee: buyer, priceWei: minted.priceWei });
    const price = BigInt(minted.priceWei);
    const creatorCut = (price * 3_000n) / 10_000n; // creator 10 % + ancestors 20 % (v1 has no ancestor token)
    expect((await chain.earnings(trainer!)).pendingWei).toBe((price - creatorCut).toString());
    const paid = await chain.withdraw({ devAccount: 2 });
    expect(paid).toMatchObject({ account: trainer, amountWei: (price - creatorCut).toString() });
    const earnings = await chain.earnings(trainer!);
    expect(earnings).toMatchObject({ pendingWei: '0', totalWei: (price - creatorCut).toString() });

    const tokensBefore = await chain.tokens({ offset: 0, limit: 100 });
    const boardBefore = await chain.leaderboard();
    expect(boardBefore.lineages[0]?.models[0]).toMatchObject({ tokenId: 1, trainer, licences: 1 });
    expect(boardBefore.overall.contributors.map((c) => c.account)).toEqual([trainer, creator]);
    // In the lineage: the trainer's best score is its minted version's, and it leads; the creator trained none.
    expect(boardBefore.lineages[0]?.contributors).toMatchObject([
      { account: trainer, bestScore: '7000000', bestTokenId: 1, lineagesLed: 1, licencesOfItsModels: 1 },
      { account: creator, bestScore: null, bestTokenId: null, lineagesLed: 0, modelsTrained: 0 },
    ]);
    expect(await chain.licences(buyer)).toHaveLength(1);

    // Stop (anvil writes its state), start again from the same data directory: same contracts, same tokens.
    expect(await chain.stop()).toBe(true);
    expect((await chain.status()).running).toBe(false);
    const again = service();
    const restarted = await again.start();
    expect(restarted.deployment?.registry).toBe(started.deployment?.registry);
    expect(await again.tokens({ offset: 0, limit: 100 })).toEqual(tokensBefore);
    expect(await again.earnings(trainer!)).toEqual(earnings);
    const boardAfter = await again.leaderboard();
    expect({ ...boardAfter, blockNumber: '' }).toEqual({ ...boardBefore, blockNumber: '' });
    expect(relayer).toBeDefined();

    // The CLI, in another process, finds the running chain of this data directory and prints the leaderboard.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/xai-link.js', '--data-dir', dataDir, 'leaderboard', '--json'],
      {
        cwd: repoRoot,
        timeout: 60_000,
      },
    );
    const printed = leaderboardSchema.parse(JSON.parse(stdout));
    expect(printed.lineages[0]).toMatchObject({
      lineageId: 1,
      bestTokenId: 1,
      licences: 1,
      revenueWei: price.toString(),
    });
    expect(printed.lineages[0]?.models[0]).toMatchObject({ tokenId: 1, score: '7000000', trainer });
    expect(printed.overall.contributors[0]).toMatchObject({
      account: trainer,
      earnedWei: (price - creatorCut).toString(),
      modelsTrained: 1,
      // Overall, scores of different lineages do not compare: the lineages led stand for them.
      bestScore: null,
      lineagesLed: 1,
    });
    // The CLI did not stop a chain it did not start.
    expect((await again.status()).running).toBe(true);
    await again.stop();
  });

  it('says what is wrong with a signer, and maps unknown tokens to NOT_FOUND', async () => {
    const chain = new ChainService({ chainDir: join(dataDir, 'other'), env: { BAD_KEY: '0x1234' } });
    services.push(chain);
    const started = await chain.start();
    await expect(chain.withdraw({ keyEnv: 'XAI_TEST_MISSING_KEY' })).rejects.toThrow(
      /XAI_TEST_MISSING_KEY is not set/,
    );
    await expect(chain.withdraw({ keyEnv: 'BAD_KEY' })).rejects.toThrow(
      /does not hold a 0x-prefixed 32-byte private key/,
    );
    await expect(chain.token(99)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('ERC721NonexistentToken'),
    });
    await expect(chain.buyLicence(99, { devAccount: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(chain.withdraw({ devAccount: 1 })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining('NothingToWithdraw'),
    });
    // The UI's wallet reaches the node through chain.rpc: standard methods pass, node control does not.
    const endpoint = await chain.rpcEndpoint();
    expect(endpoint).toEqual({ rpcUrl: started.rpcUrl, embedded: true });
    expect(await forwardRpc(endpoint, 'eth_chainId', [])).toEqual({ result: '0x7a69' });
    expect(await forwardRpc(endpoint, 'eth_getBalance', ['0xnot-an-address', 'latest'])).toMatchObject({
      error: { code: expect.any(Number), message: expect.any(String) },
    });
    await expect(forwardRpc(endpoint, 'anvil_setBalance', [])).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    });
    expect(isForwardable('evm_mine', true)).toBe(true);
    expect(isForwardable('eth_signTypedData_v4', false)).toBe(true);
    expect(isForwardable('debug_traceTransaction', true)).toBe(false);
    expect(isForwardable('evm_mine', false)).toBe(false);
    // The same node seen as an RPC network: dev accounts are refused there.
    await chain.configure({ kind: 'rpc', rpcUrl: started.rpcUrl! });
    expect(await chain.rpcEndpoint()).toEqual({ rpcUrl: started.rpcUrl, embedded: false });
    await expect(chain.withdraw({ devAccount: 1 })).rejects.toThrow(
      /dev accounts exist only on the embedded chain/,
    );
    await chain.configure({ kind: 'embedded' });
    await chain.stop();
  });
});
