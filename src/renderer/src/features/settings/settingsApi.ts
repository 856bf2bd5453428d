import type { Settings } from '../../../../shared/api/settings.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const settingsApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    settings: build.query({
      queryFn: () => invokeQuery('settings.get', {}),
      providesTags: ['Settings'],
    }),
    updateSettings: build.mutation({
      queryFn: (patch: Partial<Settings>) => invokeQuery('settings.update', { patch }),
      invalidatesTags: ['Settings'],
    }),
  }),
});

export const { useSettingsQuery, useUpdateSettingsMutation } = settingsApi;
