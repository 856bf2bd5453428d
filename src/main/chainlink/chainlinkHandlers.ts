import type { chainlinkRequests } from '../../shared/api/chainlink.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { ChainlinkService } from './chainlinkService.ts';

export function chainlinkHandlers(chainlink: () => ChainlinkService): HandlersFor<typeof chainlinkRequests> {
  return {
    'chainlink.status': ({ lineageId }) => chainlink().status(lineageId),
    'chainlink.configure': (patch) => chainlink().configure(patch),
    'chainlink.deploy': (p) => chainlink().deploy(p),
    'chainlink.request': (p) => chainlink().request(p),
    'chainlink.requestData': (p) => chainlink().requestData(p),
    'chainlink.result': ({ requestId }) => chainlink().result(requestId as `0x${string}`),
  };
}
