import type { chainRequests } from '../../shared/api/chain.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { ChainService } from './chainService.ts';
import { forwardRpc } from './rpcPassthrough.ts';

export function chainHandlers(chain: () => ChainService): HandlersFor<typeof chainRequests> {
  return {
    'chain.status': () => chain().status(),
    'chain.start': ({ detached }) => chain().start({ detached }),
    'chain.stop': async () => ({ stopped: await chain().stop() }),
    'chain.configure': ({ network }) => chain().configure(network),
    'chain.deploy': (p) => chain().deploy(p),
    'chain.contracts': () => chain().contracts(),
    'chain.rpc': async ({ method, params }) => forwardRpc(await chain().rpcEndpoint(), method, params),
    'lineage.create': ({ params, signer }) => chain().createLineage(params, signer),
    'lineage.get': ({ lineageId }) => chain().lineage(lineageId),
    'lineage.list': () => chain().lineages(),
    'lineage.addVerifier': ({ lineageId, verifier, signer }) =>
      chain().manageVerifiers('addVerifier', lineageId, verifier, signer),
    'lineage.removeVerifier': ({ lineageId, verifier, signer }) =>
      chain().manageVerifiers('removeVerifier', lineageId, verifier, signer),
    'lineage.setQuorum': ({ lineageId, quorum, signer }) => chain().setQuorum(lineageId, quorum, signer),
    'tokens.list': (p) => chain().tokens(p),
    'tokens.get': ({ tokenId }) => chain().token(tokenId),
    'tokens.setPrice': ({ tokenId, priceWei, signer }) => chain().setPrice(tokenId, priceWei, signer),
    'licence.buy': ({ tokenId, signer }) => chain().buyLicence(tokenId, signer),
    'licence.list': ({ licensee }) => chain().licences(licensee),
    'earnings.get': ({ account }) => chain().earnings(account),
    'earnings.withdraw': ({ signer }) => chain().withdraw(signer),
    'leaderboard.get': ({ lineageId }) => chain().leaderboard(lineageId),
  };
}
