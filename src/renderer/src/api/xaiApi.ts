import { createApi, fakeBaseQuery } from '@reduxjs/toolkit/query/react';
import { ApiError, type ApiErrorData } from '../../../shared/api/errors.ts';
import type { RequestName, RequestParams, RequestResult } from '../../../shared/api/index.ts';
import { client } from './client.ts';

/**
 * RTK Query over the API contract. Feature folders add their endpoints with
 * `xaiApi.injectEndpoints`, using `invokeQuery` as the queryFn, so fetched data never needs a
 * hand-written reducer.
 */
export async function invokeQuery<M extends RequestName>(
  method: M,
  params: RequestParams<M>,
): Promise<{ data: RequestResult<M> } | { error: ApiErrorData }> {
  try {
    return { data: await client.invoke(method, params) };
  } catch (e) {
    if (e instanceof ApiError) return { error: e.toData() };
    return { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } };
  }
}

export const ALL_TAGS = [
  'System',
  'Settings',
  'Jobs',
  'Ipfs',
  'Pins',
  'Datasets',
  'Runs',
  'Chain',
  'Lineages',
  'Tokens',
  'Licences',
  'Earnings',
  'Leaderboard',
  'Claims',
  'Evaluations',
] as const;

export const xaiApi = createApi({
  reducerPath: 'xaiApi',
  baseQuery: fakeBaseQuery<ApiErrorData>(),
  tagTypes: ALL_TAGS,
  endpoints: () => ({}),
});
