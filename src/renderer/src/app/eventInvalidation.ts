import { createListenerMiddleware } from '@reduxjs/toolkit';
import { xaiApi } from '../api/xaiApi.ts';
import { apiEventReceived, isApiEvent } from './apiEvents.ts';

type Tag = Parameters<typeof xaiApi.util.invalidateTags>[0][number];

/** Which cached data a finished job of each kind makes stale. */
const staleAfterJob: Record<string, Tag[]> = {
  'datasets.prepare': ['Datasets'],
  'ipfs.add': ['Ipfs', 'Pins'],
  'ipfs.pin': ['Ipfs', 'Pins'],
  'ipfs.importCar': ['Ipfs', 'Pins'],
  'ipfs.gc': ['Ipfs', 'Pins'],
  'ipfs.get': ['Ipfs'],
  'ipfs.exportCar': [],
};

/**
 * Contract events that make fetched data stale refetch it, so pages stay current without polling:
 * finished jobs, chain changes, run status changes.
 */
export const eventInvalidation = createListenerMiddleware();

eventInvalidation.startListening({
  actionCreator: apiEventReceived,
  effect: (action, api) => {
    const tags: Tag[] = [];
    if (isApiEvent(action, 'job.finished')) {
      const kind = action.payload.payload.kind;
      tags.push('Jobs', ...(staleAfterJob[kind] ?? []));
      if (kind.startsWith('eval') || kind.startsWith('claims')) tags.push('Evaluations', 'Claims');
    } else if (action.payload.event === 'run.status') {
      // Status changes are rare (start, pause, end): refresh the list and the run's checkpoints.
      tags.push('Runs');
    } else if (action.payload.event === 'chain.changed') {
      tags.push('Chain', 'Lineages', 'Tokens', 'Licences', 'Earnings', 'Leaderboard');
    }
    if (tags.length > 0) api.dispatch(xaiApi.util.invalidateTags(tags));
  },
});
