import { jobsHandlers } from '../services/jobsHandlers.ts';
import type { AppServices } from '../services/services.ts';
import { settingsHandlers } from '../settings/settingsHandlers.ts';
import { systemHandlers } from '../system/systemHandlers.ts';
import type { ApiHandlers } from './dispatcher.ts';

/** Joins every domain's handlers; the type makes sure no request of the contract is left without one. */
export function createHandlers(services: AppServices): ApiHandlers {
  return {
    ...systemHandlers(services.system),
    ...settingsHandlers(services.settings),
    ...jobsHandlers(services.jobs),
  };
}
