import { z } from 'zod';
import { event, request } from './contract.ts';
import { apiErrorDataSchema } from './errors.ts';

/**
 * Long jobs (dataset preparation, IPFS adds, evaluation, the demo) report progress through one
 * mechanism: a request starts the job and resolves when it ends; meanwhile `job.progress` events
 * flow, and `jobs.cancel` stops it.
 */
export const jobIdSchema = z.string().regex(/^job-[0-9a-z-]+$/, 'a job id looks like "job-…"');

export const jobStatusSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const jobProgressSchema = z.object({
  jobId: jobIdSchema,
  kind: z.string(),
  title: z.string(),
  stage: z.string(),
  done: z.number().nonnegative(),
  /** null when the total is not known yet. */
  total: z.number().nonnegative().nullable(),
  unit: z.string(),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobSummarySchema = z.object({
  jobId: jobIdSchema,
  kind: z.string(),
  title: z.string(),
  status: jobStatusSchema,
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  progress: jobProgressSchema.nullable(),
  error: apiErrorDataSchema.nullable(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;

export const jobsRequests = {
  'jobs.list': request({
    description: 'Jobs started since the app started, newest first.',
    params: z.strictObject({}),
    result: z.array(jobSummarySchema),
  }),
  'jobs.cancel': request({
    description: 'Asks a running job to stop; it ends with status "cancelled".',
    params: z.strictObject({ jobId: jobIdSchema }),
    result: z.object({ cancelled: z.boolean() }),
  }),
};

export const jobsEvents = {
  'job.progress': event({ description: 'A running job moved on.', payload: jobProgressSchema }),
  'job.finished': event({ description: 'A job ended.', payload: jobSummarySchema }),
};
