import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

/** The verifier watcher (issue 13): its switch, queue and verdicts. */
export const watcherApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    watcherStatus: build.query({
      queryFn: () => invokeQuery('watcher.status', {}),
      providesTags: ['Claims'],
    }),
    startWatcher: build.mutation({
      queryFn: (p: RequestParams<'watcher.start'>) => invokeQuery('watcher.start', p),
      invalidatesTags: ['Claims'],
    }),
    claimNetworkStatus: build.query({
      queryFn: (claimId: string) => invokeQuery('claims.networkStatus', { claimId }),
      providesTags: ['Claims'],
    }),
    stopWatcher: build.mutation({
      queryFn: () => invokeQuery('watcher.stop', {}),
      invalidatesTags: ['Claims'],
    }),
  }),
});

export const {
  useWatcherStatusQuery,
  useStartWatcherMutation,
  useStopWatcherMutation,
  useClaimNetworkStatusQuery,
} = watcherApi;
