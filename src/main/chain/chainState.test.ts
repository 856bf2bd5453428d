/**
 * The embedded chain's state on disk, with the real anvil: a transaction whose receipt the app has seen
 * survives anvil being killed (it held the chain only in memory, and wrote its state every 30 s: the crash
 * matrix found every recent transaction lost), and a damaged state file is set aside instead of stopping
 * the chain from starting.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, type Address } from 'viem';
import { foundry } from 'viem/chains';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { rpcCall } from './anvil.ts';
import { chainTransport } from './chainState.ts';
import { EmbeddedChain } from './embeddedChain.ts';

const dir = mkdtempSync(join(tmpdir(), 'xai-chain-state-'));
const chains: EmbeddedChain[] = [];
afterAll(async () => {
  for (const c of chains) await c.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function embedded(name: string): EmbeddedChain {
  const c = new EmbeddedChain(join(dir, name));
  chains.push(c);
  return c;
}

describe('embedded chain state', () => {
  it('keeps a transaction whose receipt was seen when anvil is killed', async () => {
    const chain = embedded('kill');
    const { rpcUrl, pid } = await chain.ensureRunning();
    const transport = chainTransport(rpcUrl, { retryCount: 0 });
    const client = createPublicClient({ chain: foundry, transport, pollingInterval: 20 });
    const [from, to] = (await client.request({ method: 'eth_accounts' } as never)) as Address[];
    const wallet = createWalletClient({ account: from!, chain: foundry, transport });
    const hash = await wallet.sendTransaction({ to: to!, value: 7n });
    await client.waitForTransactionReceipt({ hash, pollingInterval: 20 });

    process.kill(pid, 'SIGKILL');
    const again = await embedded('kill').ensureRunning();
    expect(again.pid).not.toBe(pid);
    const receipt = (await rpcCall(again.rpcUrl, 'eth_getTransactionReceipt', [hash], 5000)) as {
      status: string;
    } | null;
    expect(receipt?.status).toBe('0x1');
  }, 60_000);

  it('sets a damaged state file aside with a message and starts', async () => {
    const chainDir = join(dir, 'torn');
    const chain = embedded('torn');
    await chain.ensureRunning();
    await chain.stop();
    expect(existsSync(chain.stateFile)).toBe(true);
    writeFileSync(chain.stateFile, '{"block":{"number":"0x5f","benefici');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { rpcUrl } = await chain.ensureRunning();
      expect(await rpcCall(rpcUrl, 'eth_blockNumber')).toBe('0x0');
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/state file was damaged.*kept it as .*state\.json\.broken-/),
      );
    } finally {
      warn.mockRestore();
    }
    expect(readdirSync(chainDir).filter((f) => f.startsWith('state.json.broken-'))).toHaveLength(1);
  }, 60_000);
});
