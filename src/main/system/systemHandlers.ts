import type { systemRequests } from '../../shared/api/system.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { SystemService } from './systemService.ts';

export function systemHandlers(system: SystemService): HandlersFor<typeof systemRequests> {
  return {
    'system.info': ({ refresh }) => system.info(refresh),
    'system.stats': () => system.stats(),
    'system.ping': ({ message }) => ({ message, at: Date.now() }),
  };
}
