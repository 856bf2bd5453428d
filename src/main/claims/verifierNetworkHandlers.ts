import type { verifierNetworkRequests } from '../../shared/api/verifierNetwork.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { ProofServices } from './proofServices.ts';

export function verifierNetworkHandlers(
  proof: () => ProofServices,
): HandlersFor<typeof verifierNetworkRequests> {
  return {
    'watcher.start': (p) => proof().watcher.start(p),
    'watcher.stop': () => proof().watcher.stop(),
    'watcher.status': async () => proof().watcher.status(),
    'claims.announce': ({ claimId, signer }) => proof().claimNetwork.announce(claimId, signer),
    'claims.networkStatus': ({ claimId }) => proof().claimNetwork.status(claimId),
  };
}
