import type { RequestParams } from '../../../../shared/api/index.ts';
import { invokeQuery, xaiApi } from '../../api/xaiApi.ts';

/** Evaluation, publishing, claims and the verifier inbox (issue 6's services). */
export const modelsApi = xaiApi.injectEndpoints({
  endpoints: (build) => ({
    evaluate: build.mutation({
      queryFn: (p: RequestParams<'eval.run'>) => invokeQuery('eval.run', p),
    }),
    publishModel: build.mutation({
      queryFn: (p: RequestParams<'eval.publish'>) => invokeQuery('eval.publish', p),
      invalidatesTags: ['Pins', 'Ipfs'],
    }),
    evaluationReport: build.query({
      queryFn: (cid: string) => invokeQuery('eval.report', { cid }),
    }),
    claims: build.query({
      queryFn: (p: RequestParams<'claims.list'>) => invokeQuery('claims.list', p),
      providesTags: ['Claims'],
    }),
    claim: build.query({
      queryFn: (claimId: string) => invokeQuery('claims.get', { claimId }),
      providesTags: ['Claims'],
    }),
    startClaim: build.mutation({
      queryFn: (p: RequestParams<'claims.start'>) => invokeQuery('claims.start', p),
      invalidatesTags: ['Claims'],
    }),
    claimStep: build.mutation({
      /** One wizard step that only needs the claim id. */
      queryFn: ({ method, claimId }: { method: 'claims.evaluate' | 'claims.get'; claimId: string }) =>
        invokeQuery(method, { claimId }),
      invalidatesTags: ['Claims'],
    }),
    versions: build.query({
      queryFn: (lineageId: number) => invokeQuery('claims.versions', { lineageId }),
      providesTags: ['Tokens', 'Evaluations'],
    }),
    inbox: build.query({
      queryFn: () => invokeQuery('verifier.inbox', {}),
      providesTags: ['Claims'],
    }),
    addToInbox: build.mutation({
      queryFn: (p: RequestParams<'verifier.addToInbox'>) => invokeQuery('verifier.addToInbox', p),
      invalidatesTags: ['Claims'],
    }),
  }),
});

export const {
  useEvaluateMutation,
  usePublishModelMutation,
  useEvaluationReportQuery,
  useClaimsQuery,
  useClaimQuery,
  useStartClaimMutation,
  useClaimStepMutation,
  useVersionsQuery,
  useInboxQuery,
  useAddToInboxMutation,
} = modelsApi;
