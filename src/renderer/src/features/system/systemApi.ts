import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const systemApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    systemInfo: build.query({
      queryFn: (args: { refresh: boolean }) => invokeQuery('system.info', args),
      providesTags: ['System'],
    }),
  }),
});

export const { useSystemInfoQuery, useLazySystemInfoQuery } = systemApi;
