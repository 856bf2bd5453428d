import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

/** Chainlink attestation's settings and status (the Settings page, the claim wizard's Chainlink option). */
export const chainlinkApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    /** Depends on the settings (what is configured) and the chain (where the app is, the attestor there). */
    chainlinkStatus: build.query({
      queryFn: (p: RequestParams<'chainlink.status'>) => invokeQuery('chainlink.status', p),
      providesTags: ['Settings', 'Chain'],
    }),
    configureChainlink: build.mutation({
      queryFn: (patch: RequestParams<'chainlink.configure'>) => invokeQuery('chainlink.configure', patch),
      invalidatesTags: ['Settings'],
    }),
  }),
});

export const { useChainlinkStatusQuery, useConfigureChainlinkMutation } = chainlinkApi;
