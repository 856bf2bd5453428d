import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

export const datasetsApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    datasets: build.query({
      queryFn: () => invokeQuery('datasets.list', {}),
      providesTags: ['Datasets'],
    }),
    dataset: build.query({
      queryFn: (id: string) => invokeQuery('datasets.get', { id }),
      providesTags: ['Datasets'],
    }),
    prepareDataset: build.mutation({
      queryFn: (p: RequestParams<'datasets.prepare'>) => invokeQuery('datasets.prepare', p),
      invalidatesTags: ['Datasets'],
    }),
    publishDataset: build.mutation({
      queryFn: (id: string) => invokeQuery('datasets.publish', { id }),
      invalidatesTags: ['Datasets', 'Ipfs', 'Pins'],
    }),
    deleteDataset: build.mutation({
      queryFn: (id: string) => invokeQuery('datasets.delete', { id }),
      invalidatesTags: ['Datasets'],
    }),
    inspectInput: build.query({
      queryFn: (p: RequestParams<'datasets.inspect'>) => invokeQuery('datasets.inspect', p),
    }),
    tokenize: build.query({
      queryFn: (p: RequestParams<'datasets.tokenize'>) => invokeQuery('datasets.tokenize', p),
    }),
  }),
});

export const {
  useDatasetsQuery,
  useDatasetQuery,
  usePrepareDatasetMutation,
  usePublishDatasetMutation,
  useDeleteDatasetMutation,
  useInspectInputQuery,
  useTokenizeQuery,
} = datasetsApi;
