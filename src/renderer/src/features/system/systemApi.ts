import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const systemApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    systemInfo: build.query({
      queryFn: (args: { refresh: boolean }) => invokeQuery('system.info', args),
      providesTags: ['System'],
    }),
    /** Live CPU, memory and GPU readings; poll it (each call measures CPU load since the previous one). */
    systemStats: build.query({
      queryFn: () => invokeQuery('system.stats', {}),
      keepUnusedDataFor: 5,
    }),
  }),
});

export const { useSystemInfoQuery, useLazySystemInfoQuery, useSystemStatsQuery } = systemApi;
