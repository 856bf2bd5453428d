import {
  getConnection,
  getPublicClient,
  signTypedData,
  simulateContract,
  switchChain,
  waitForTransactionReceipt,
  writeContract,
} from '@wagmi/core';
import { useCallback } from 'react';
import { useConfig } from 'wagmi';
import type { Abi, Address, Hex, TransactionReceipt, TypedDataDefinition } from 'viem';
import { xaiApi } from '../../api/xaiApi.ts';
import { useAppDispatch } from '../../app/hooks.ts';
import { chainWriteTags } from './chainApi.ts';
import { useConfirm, type ConfirmField } from './ConfirmDialog.tsx';
import { LOCAL_CONNECTOR_ID } from './localTestAccounts.ts';
import { useContracts } from './WalletProvider.tsx';
import { toWalletError, WalletActionError } from './walletErrors.ts';

export interface Explained {
  title: string;
  summary: string;
  fields: ConfirmField[];
}

export interface WriteRequest extends Explained {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
}

/**
 * Signing and sending through the connected wallet, each after the confirmation dialog. Chain reads that
 * a transaction changes are refreshed once it is mined.
 */
export function useWalletActions() {
  const config = useConfig();
  const confirm = useConfirm();
  const contracts = useContracts();
  const dispatch = useAppDispatch();

  const account = useCallback(async (): Promise<{ address: Address; walletName: string; local: boolean }> => {
    const c = getConnection(config);
    if (!c.address || !c.connector) {
      throw new WalletActionError('No wallet is connected.', {
        hint: 'Connect one on the Wallet page, then try again.',
      });
    }
    if (c.chainId !== contracts.chainId) {
      try {
        await switchChain(config, { chainId: contracts.chainId });
      } catch (e) {
        throw new WalletActionError(`The wallet is on another network (chain ${c.chainId ?? '?'}).`, {
          hint: `Switch it to chain ${contracts.chainId} and try again. (${toWalletError(e, 'transaction').message})`,
        });
      }
    }
    return { address: c.address, walletName: c.connector.name, local: c.connector.id === LOCAL_CONNECTOR_ID };
  }, [config, contracts.chainId]);

  const sign = useCallback(
    async (what: Explained, typedData: TypedDataDefinition): Promise<{ signature: Hex; signer: Address }> => {
      const who = await account();
      const ok = await confirm({
        kind: 'signature',
        ...what,
        account: who.address,
        walletName: who.walletName,
        localAccount: who.local,
      });
      if (!ok)
        throw new WalletActionError('You rejected the signature.', {
          rejected: true,
          hint: 'Nothing was signed.',
        });
      try {
        const signature = await signTypedData(config, {
          account: who.address,
          ...(typedData as TypedDataDefinition<Record<string, unknown>, string>),
        });
        return { signature, signer: who.address };
      } catch (e) {
        throw toWalletError(e, 'signature');
      }
    },
    [account, confirm, config],
  );

  const write = useCallback(
    async (req: WriteRequest): Promise<TransactionReceipt> => {
      const who = await account();
      if (contracts.devAccounts.length > 0) {
        // The embedded anvil mines only on transactions, so its latest block may be older than the wall clock
        // (a claim whose commit has aged would be simulated as "too recent"): mine an empty block first.
        await getPublicClient(config)
          ?.request({ method: 'evm_mine' } as never)
          .catch(() => undefined);
      }
      // Simulate first: a transaction the contract would refuse is explained before anyone confirms it.
      let request: Parameters<typeof writeContract>[1];
      try {
        const sim = await simulateContract(config, {
          account: who.address,
          address: req.address,
          abi: req.abi,
          functionName: req.functionName,
          args: req.args,
          value: req.value,
        } as Parameters<typeof simulateContract>[1]);
        request = sim.request as Parameters<typeof writeContract>[1];
      } catch (e) {
        throw toWalletError(e, 'transaction');
      }
      const ok = await confirm({
        kind: 'transaction',
        title: req.title,
        summary: req.summary,
        fields: req.fields,
        account: who.address,
        walletName: who.walletName,
        localAccount: who.local,
      });
      if (!ok)
        throw new WalletActionError('You rejected the transaction.', {
          rejected: true,
          hint: 'Nothing was sent.',
        });
      try {
        const hash = await writeContract(config, request);
        const receipt = await waitForTransactionReceipt(config, { hash });
        if (receipt.status !== 'success') throw new WalletActionError(`The transaction ${hash} reverted.`);
        return receipt;
      } catch (e) {
        throw toWalletError(e, 'transaction');
      } finally {
        dispatch(xaiApi.util.invalidateTags([...chainWriteTags]));
      }
    },
    [account, confirm, config, dispatch, contracts.devAccounts.length],
  );

  return { sign, write, account };
}
