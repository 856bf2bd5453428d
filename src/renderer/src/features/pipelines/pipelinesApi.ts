import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

/** Pipelines (src/shared/api/pipelines.ts): the example file, validation, and runs (a job). */
export const pipelinesApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    examplePipeline: build.query({
      queryFn: () => invokeQuery('pipelines.example', {}),
    }),
    validatePipeline: build.query({
      queryFn: (source: RequestParams<'pipelines.validate'>['source']) =>
        invokeQuery('pipelines.validate', { source }),
    }),
    runPipeline: build.mutation({
      queryFn: (p: RequestParams<'pipelines.run'>) => invokeQuery('pipelines.run', p),
      // A run prepares a dataset and adds and pins its CIDs.
      invalidatesTags: ['Pins', 'Ipfs'],
    }),
  }),
});

export const { useLazyExamplePipelineQuery, useValidatePipelineQuery, useRunPipelineMutation } = pipelinesApi;
