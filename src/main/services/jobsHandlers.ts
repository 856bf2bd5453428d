import type { jobsRequests } from '../../shared/api/jobs.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { JobManager } from './jobs.ts';

export function jobsHandlers(jobs: JobManager): HandlersFor<typeof jobsRequests> {
  return {
    'jobs.list': () => jobs.list(),
    'jobs.cancel': ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
  };
}
