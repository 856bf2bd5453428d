import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError } from 'viem';
import { ApiError } from '../../shared/api/errors.ts';
import { AnvilError } from './anvil.ts';

/** What a user can do about a contract's custom error. */
const hints: Record<string, string> = {
  WrongPayment: 'The price changed since it was read; read it again and pay exactly that.',
  AlreadyLicensed: 'This account already holds a licence of this token.',
  NothingToWithdraw: 'Nothing is credited to this account yet.',
  NotTokenOwner: 'Only the token owner can do this.',
  NotLineageCreator: 'Only the lineage creator manages its verifiers and quorum.',
  PriceOutOfBounds: "The price must lie within the lineage's bounds around the suggested price.",
  InvalidQuorum: 'The quorum must be between 1 and the number of verifiers.',
  CommitmentTooRecent: 'Wait until the commitment is older than the lineage minimum commit age.',
  CommitmentNotFound: 'Commit keccak256(modelCid, trainer, salt) first, and reveal the same salt.',
  InsufficientImprovement: "The score does not beat the lineage's best by ε.",
  StaleParent: "The parent must be the lineage's current best token.",
  ModelCidAlreadyUsed: 'This model CID was minted before (or is a genesis model): one CID, one token.',
  QuorumNotMet: 'Collect attestations from more registered verifiers.',
  InvalidAccountNonce: "Sign the claim again with the trainer's current nonce.",
  ClaimExpired: 'Sign the claim again with a later deadline.',
  ERC721NonexistentToken: 'No token has this id; `xai-link tokens list` shows the minted ones.',
  UnknownLineage: 'No lineage has this id; `xai-link lineage list` shows them.',
};

const notFound = new Set(['UnknownLineage', 'ERC721NonexistentToken']);

function formatArg(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v : JSON.stringify(v);
}

/** Turns a contract revert into an ApiError that names the custom error; other errors pass through. */
export function toChainApiError(e: unknown, action: string): unknown {
  if (e instanceof ApiError) return e;
  if (e instanceof AnvilError) return new ApiError('UNAVAILABLE', e.message, e.hint ? { hint: e.hint } : {});
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName;
      if (name) {
        const args = (reverted.data?.args ?? []).map(formatArg).join(', ');
        const hint = hints[name];
        return new ApiError(
          notFound.has(name) ? 'NOT_FOUND' : 'FAILED_PRECONDITION',
          `${action}: ${name}(${args})`,
          hint ? { hint } : {},
        );
      }
      return new ApiError(
        'FAILED_PRECONDITION',
        `${action} reverted: ${reverted.reason ?? reverted.shortMessage}`,
      );
    }
    if (e.walk((x) => x instanceof ContractFunctionZeroDataError)) {
      return new ApiError(
        'FAILED_PRECONDITION',
        `${action}: no contract answers at that address on this chain`,
        {
          hint: 'Deploy the contracts on this network (xai-link chain deploy), or fix the address in the settings.',
        },
      );
    }
    if (/fetch failed|ECONNREFUSED|HTTP request failed|timed out/i.test(e.message)) {
      return new ApiError('UNAVAILABLE', `${action}: the chain does not answer (${e.shortMessage})`, {
        hint: 'Check `xai-link chain status`; start the embedded chain or check the RPC URL.',
      });
    }
  }
  return e;
}
