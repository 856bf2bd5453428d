import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

/** Reads of the chain domain (the marketplace, lineages, leaderboard read through main, not the wallet). */
export const chainApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    chainStatus: build.query({
      queryFn: () => invokeQuery('chain.status', {}),
      providesTags: ['Chain'],
    }),
    chainContracts: build.query({
      queryFn: () => invokeQuery('chain.contracts', {}),
      providesTags: ['Chain'],
    }),
    chainStart: build.mutation({
      queryFn: () => invokeQuery('chain.start', {}),
      invalidatesTags: ['Chain'],
    }),
    chainStop: build.mutation({
      queryFn: () => invokeQuery('chain.stop', {}),
      invalidatesTags: ['Chain'],
    }),
    chainConfigure: build.mutation({
      queryFn: (p: RequestParams<'chain.configure'>) => invokeQuery('chain.configure', p),
      invalidatesTags: ['Chain', 'Lineages', 'Tokens', 'Licences', 'Earnings', 'Leaderboard'],
    }),
    lineages: build.query({
      queryFn: () => invokeQuery('lineage.list', {}),
      providesTags: ['Lineages'],
    }),
    lineage: build.query({
      queryFn: (lineageId: number) => invokeQuery('lineage.get', { lineageId }),
      providesTags: ['Lineages'],
    }),
    tokens: build.query({
      queryFn: (p: RequestParams<'tokens.list'>) => invokeQuery('tokens.list', p),
      providesTags: ['Tokens'],
    }),
    licences: build.query({
      queryFn: (p: RequestParams<'licence.list'>) => invokeQuery('licence.list', p),
      providesTags: ['Licences'],
    }),
    earnings: build.query({
      queryFn: (account: string) => invokeQuery('earnings.get', { account }),
      providesTags: ['Earnings'],
    }),
    leaderboard: build.query({
      queryFn: (p: RequestParams<'leaderboard.get'>) => invokeQuery('leaderboard.get', p),
      providesTags: ['Leaderboard'],
    }),
  }),
});

export const {
  useChainStatusQuery,
  useChainContractsQuery,
  useChainStartMutation,
  useChainStopMutation,
  useChainConfigureMutation,
  useLineagesQuery,
  useLineageQuery,
  useTokensQuery,
  useLicencesQuery,
  useEarningsQuery,
  useLeaderboardQuery,
} = chainApi;

/** After a transaction from the wallet, chain reads are stale. */
export const chainWriteTags = ['Chain', 'Lineages', 'Tokens', 'Licences', 'Earnings', 'Leaderboard'] as const;
