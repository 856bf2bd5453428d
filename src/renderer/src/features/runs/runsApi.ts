import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const runsApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    presets: build.query({
      queryFn: () => invokeQuery('runs.presets', {}),
    }),
    runs: build.query({
      queryFn: () => invokeQuery('runs.list', {}),
      providesTags: ['Runs'],
    }),
    run: build.query({
      queryFn: (runId: string) => invokeQuery('runs.get', { runId }),
      providesTags: (_r, _e, runId) => [{ type: 'Runs', id: runId }],
    }),
    runCheckpoints: build.query({
      queryFn: (runId: string) => invokeQuery('runs.checkpoints', { runId }),
      providesTags: (_r, _e, runId) => [{ type: 'Runs', id: runId }],
    }),
    createRun: build.mutation({
      queryFn: (p: RequestParams<'runs.create'>) => invokeQuery('runs.create', p),
      invalidatesTags: ['Runs'],
    }),
    pauseRun: build.mutation({
      queryFn: (runId: string) => invokeQuery('runs.pause', { runId }),
    }),
    resumeRun: build.mutation({
      queryFn: (p: RequestParams<'runs.resume'>) => invokeQuery('runs.resume', p),
    }),
    stopRun: build.mutation({
      queryFn: (runId: string) => invokeQuery('runs.stop', { runId }),
    }),
    sampleRun: build.mutation({
      queryFn: (p: RequestParams<'runs.sample'>) => invokeQuery('runs.sample', p),
    }),
    exportRun: build.mutation({
      queryFn: (p: RequestParams<'runs.export'>) => invokeQuery('runs.export', p),
    }),
    importRun: build.mutation({
      queryFn: (p: RequestParams<'runs.import'>) => invokeQuery('runs.import', p),
      invalidatesTags: ['Runs'],
    }),
  }),
});

export const {
  usePresetsQuery,
  useRunsQuery,
  useRunQuery,
  useRunCheckpointsQuery,
  useCreateRunMutation,
  useImportRunMutation,
  usePauseRunMutation,
  useResumeRunMutation,
  useStopRunMutation,
  useSampleRunMutation,
  useExportRunMutation,
} = runsApi;
