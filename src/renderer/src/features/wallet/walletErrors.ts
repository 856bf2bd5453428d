import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from 'viem';

/** Plain-words reasons for the contracts' custom errors (the contracts stay the authority). */
const CONTRACT_REASONS: Record<string, string> = {
  AlreadyCommitted: 'This model was already committed from this account.',
  ClaimExpired: 'The claim’s deadline has passed: sign it again.',
  CommitmentNotFound: 'No commit was found for this model: commit it first.',
  CommitmentTooRecent:
    'The commit is too recent: the lineage needs it to age before the claim (wait a minute).',
  DuplicateVerifier: 'The same verifier attested twice.',
  InsufficientImprovement: 'The score does not beat the current best by the lineage’s ε.',
  InvalidAccountNonce: 'The signature’s nonce is stale: sign the claim again.',
  InvalidAttestation: 'A verifier signature does not match this claim.',
  InvalidTrainerSignature: 'The trainer signature does not match this claim.',
  ModelCidAlreadyUsed: 'This model CID has already been minted: one CID, one token, ever.',
  NotAVerifier: 'This account is not a verifier of the lineage.',
  NotLineageCreator: 'Only the lineage’s creator can do this.',
  QuorumNotMet: 'Not enough verifier attestations yet.',
  SelfAttestation: 'A trainer cannot attest their own claim.',
  StaleParent: 'A better model was minted meanwhile: claim against the new best.',
  UnknownLineage: 'This lineage does not exist on this chain.',
  UnsortedVerifiers: 'Attestations must be sorted by verifier address.',
  AlreadyLicensed: 'This account already holds a licence for this model.',
  InsufficientBalance: 'Not enough ETH in the account.',
  NotTokenOwner: 'Only the token’s owner can set its price.',
  NothingToWithdraw: 'There is nothing to withdraw yet.',
  PriceOutOfBounds: 'The price is outside the lineage’s bounds around the suggested price.',
  WrongPayment: 'The price changed: refresh and try again.',
  // FunctionsAttestor (Chainlink attestation)
  NotRequester:
    'Only the attestor’s owner and the requesters it approved may ask for a Chainlink attestation: ask its owner to approve this account (setRequester).',
  NotConfigured:
    'The attestor has no Functions source or request configuration yet (xai-link chain functions-deploy).',
  AttestationCidCount:
    'The request needs between the attestor’s minimum and 4 attestation CIDs of other verifiers.',
  NotALineageVerifier: 'The attestor is not a verifier of this lineage: the lineage’s creator must add it.',
  AlreadyAttested: 'The attestor has already attested this claim.',
};

export class WalletActionError extends Error {
  readonly rejected: boolean;
  readonly hint: string | undefined;
  constructor(message: string, opts: { rejected?: boolean; hint?: string } = {}) {
    super(message);
    this.name = 'WalletActionError';
    this.rejected = opts.rejected ?? false;
    this.hint = opts.hint;
  }
}

function isRejection(e: unknown): boolean {
  if (e instanceof BaseError && e.walk((x) => x instanceof UserRejectedRequestError)) return true;
  const code = (e as { code?: unknown })?.code;
  return code === 4001 || code === UserRejectedRequestError.code;
}

/** Turns anything a wallet or a contract throws into a message that says what happened and what to do. */
export function toWalletError(e: unknown, what: 'signature' | 'transaction'): WalletActionError {
  if (e instanceof WalletActionError) return e;
  if (isRejection(e)) {
    return new WalletActionError(
      what === 'signature'
        ? 'You rejected the signature in your wallet.'
        : 'You rejected the transaction in your wallet.',
      { rejected: true, hint: 'Nothing was signed or sent. Try again when you are ready.' },
    );
  }
  if (e instanceof BaseError) {
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName ?? '';
      const reason = CONTRACT_REASONS[name] ?? revert.reason ?? revert.shortMessage;
      return new WalletActionError(`The contract refused: ${reason}`, {
        hint: name ? `(${name})` : undefined,
      });
    }
    return new WalletActionError(e.shortMessage);
  }
  return new WalletActionError(e instanceof Error ? e.message : String(e));
}
