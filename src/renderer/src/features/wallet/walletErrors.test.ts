import { ContractFunctionRevertedError, encodeErrorResult, UserRejectedRequestError } from 'viem';
import { describe, expect, it } from 'vitest';
import { modelRegistryAbi } from '../../../../shared/chain/abis.ts';
import { toWalletError, WalletActionError } from './walletErrors.ts';

describe('toWalletError', () => {
  it('says plainly that the user rejected a signature', () => {
    const e = toWalletError(new UserRejectedRequestError(new Error('nope')), 'signature');
    expect(e.rejected).toBe(true);
    expect(e.message).toBe('You rejected the signature in your wallet.');
  });

  it('treats an EIP-1193 4001 error from any wallet as a rejection', () => {
    const e = toWalletError(Object.assign(new Error('User rejected'), { code: 4001 }), 'transaction');
    expect(e.message).toBe('You rejected the transaction in your wallet.');
  });

  it('explains a contract’s custom error in words', () => {
    const data = encodeErrorResult({ abi: modelRegistryAbi, errorName: 'QuorumNotMet', args: [0n, 1n] });
    const revert = new ContractFunctionRevertedError({ abi: modelRegistryAbi, functionName: 'claim', data });
    const e = toWalletError(revert, 'transaction');
    expect(e.message).toBe('The contract refused: Not enough verifier attestations yet.');
    expect(e.hint).toBe('(QuorumNotMet)');
  });

  it('passes its own errors through', () => {
    const own = new WalletActionError('No wallet is connected.', { hint: 'Connect one.' });
    expect(toWalletError(own, 'signature')).toBe(own);
  });
});
