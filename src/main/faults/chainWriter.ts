/**
 * A child process for the crash matrix: sends transactions to the embedded chain of a data directory as
 * the app does (the real EmbeddedChain and its anvil, viem through chainTransport, a dev account) and
 * prints "ack N <hash>" once the receipt of transaction N is in hand, that is, once the app would have
 * told the user it is done.
 * Usage: node chainWriter.ts <chain dir>
 */
import { createPublicClient, createWalletClient, type Address } from 'viem';
import { foundry } from 'viem/chains';
import { chainTransport } from '../chain/chainState.ts';
import { EmbeddedChain } from '../chain/embeddedChain.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: chainWriter.ts <chain dir>');
const chain = new EmbeddedChain(dir);
const { rpcUrl } = await chain.ensureRunning();
const transport = chainTransport(rpcUrl, { retryCount: 0 });
const client = createPublicClient({ chain: foundry, transport, pollingInterval: 20 });
const [from, to] = (await client.request({ method: 'eth_accounts' } as never)) as Address[];
const wallet = createWalletClient({ account: from!, chain: foundry, transport });
for (let n = 1; ; n++) {
  const hash = await wallet.sendTransaction({ to: to!, value: BigInt(n) });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success') throw new Error(`transaction ${n} failed`);
  process.stdout.write(`ack ${n} ${hash}\n`);
}
