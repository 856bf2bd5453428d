import { describe, expect, it } from 'vitest';
import type { JobSummary } from '../../shared/api/jobs.ts';
import { EventBus } from '../rpc/eventBus.ts';
import { JobManager } from './jobs.ts';

describe('JobManager', () => {
  it('streams progress and reports success', async () => {
    const events = new EventBus();
    const seen: string[] = [];
    events.subscribe((e) => seen.push(e));
    const jobs = new JobManager(events);
    const result = await jobs.run('demo', 'Demo', async (job) => {
      job.progress({ stage: 'one', done: 1, total: 2 });
      job.progress({ stage: 'two', done: 2, total: 2 });
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual(['job.progress', 'job.progress', 'job.finished']);
    expect(jobs.list()[0]).toMatchObject({ status: 'succeeded', kind: 'demo' });
  });

  it('cancels a running job', async () => {
    const events = new EventBus();
    const jobs = new JobManager(events);
    let finished: JobSummary | undefined;
    events.on('job.finished', (s) => (finished = s));
    const running = jobs.run('slow', 'Slow', async (job) => {
      for (;;) {
        await new Promise((r) => setTimeout(r, 5));
        job.throwIfCancelled();
      }
    });
    const id = jobs.list()[0]!.jobId;
    expect(jobs.cancel(id)).toBe(true);
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(finished?.status).toBe('cancelled');
    expect(jobs.cancel(id)).toBe(false);
  });

  it('records a failure with its error', async () => {
    const jobs = new JobManager(new EventBus());
    await expect(jobs.run('bad', 'Bad', async () => Promise.reject(new Error('disk full')))).rejects.toThrow(
      'disk full',
    );
    expect(jobs.list()[0]).toMatchObject({ status: 'failed', error: { message: 'disk full' } });
  });
});
