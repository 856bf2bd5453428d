import { ContractClient } from '../../shared/api/client.ts';
import type { EntryPoint } from '../../shared/api/system.ts';
import type { AppServices } from '../services/services.ts';
import { Dispatcher } from './dispatcher.ts';
import { createHandlers } from './handlers.ts';

/** The services plus the dispatcher every entry point talks through. */
export interface AppCore {
  readonly services: AppServices;
  readonly dispatcher: Dispatcher;
}

export function createAppCore(services: AppServices): AppCore {
  return { services, dispatcher: new Dispatcher(createHandlers(services)) };
}

/**
 * An in-process client over the same dispatcher the window and the host use, so the CLI goes through
 * exactly the same validation and handlers.
 */
export function createLocalClient(core: AppCore, entryPoint: EntryPoint = 'cli'): ContractClient {
  const client = new ContractClient((method, params) =>
    core.dispatcher.invoke(method, params, { entryPoint }),
  );
  core.services.events.subscribe((event, payload) => client.dispatchEvent(event, payload));
  return client;
}
