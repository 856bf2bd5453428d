import { randomBytes } from 'node:crypto';
import { ApiError } from '../../shared/api/errors.ts';
import type { JobProgress, JobSummary } from '../../shared/api/jobs.ts';
import type { EventBus } from '../rpc/eventBus.ts';

export interface ProgressUpdate {
  stage: string;
  done: number;
  total: number | null;
  unit?: string;
  message?: string;
}

/** What a running job's body sees. */
export interface JobHandle {
  readonly id: string;
  readonly signal: AbortSignal;
  /** Reports progress; events are throttled, a change of stage is always sent. */
  progress(update: ProgressUpdate): void;
  /** Throws a CANCELLED ApiError if the job was cancelled: call it between units of work. */
  throwIfCancelled(): void;
}

const PROGRESS_INTERVAL_MS = 100;
const MAX_KEPT_JOBS = 200;

export class JobManager {
  readonly #events: EventBus;
  readonly #jobs = new Map<string, { summary: JobSummary; controller: AbortController }>();

  constructor(events: EventBus) {
    this.#events = events;
  }

  /** Runs `body` as a job: progress streams as events, the result or error is returned to the caller. */
  async run<T>(kind: string, title: string, body: (job: JobHandle) => Promise<T>): Promise<T> {
    const id = `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const controller = new AbortController();
    const summary: JobSummary = {
      jobId: id,
      kind,
      title,
      status: 'running',
      startedAt: Date.now(),
      endedAt: null,
      progress: null,
      error: null,
    };
    this.#jobs.set(id, { summary, controller });
    this.#trim();

    let lastSent = 0;
    let lastStage = '';
    const handle: JobHandle = {
      id,
      signal: controller.signal,
      progress: (u) => {
        const progress: JobProgress = {
          jobId: id,
          kind,
          title,
          stage: u.stage,
          done: u.done,
          total: u.total,
          unit: u.unit ?? '',
          ...(u.message === undefined ? {} : { message: u.message }),
        };
        summary.progress = progress;
        const now = Date.now();
        const finished = u.total !== null && u.done >= u.total;
        if (u.stage !== lastStage || finished || now - lastSent >= PROGRESS_INTERVAL_MS) {
          lastSent = now;
          lastStage = u.stage;
          this.#events.emit('job.progress', progress);
        }
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new ApiError('CANCELLED', `${title}: cancelled`);
      },
    };

    try {
      const result = await body(handle);
      summary.status = 'succeeded';
      return result;
    } catch (e) {
      const cancelled = controller.signal.aborted;
      summary.status = cancelled ? 'cancelled' : 'failed';
      const error =
        e instanceof ApiError
          ? e
          : new ApiError(cancelled ? 'CANCELLED' : 'INTERNAL', String((e as Error)?.message ?? e));
      summary.error = error.toData();
      throw cancelled && !(e instanceof ApiError) ? new ApiError('CANCELLED', `${title}: cancelled`) : e;
    } finally {
      summary.endedAt = Date.now();
      this.#events.emit('job.finished', { ...summary });
    }
  }

  cancel(jobId: string): boolean {
    const job = this.#jobs.get(jobId);
    if (!job || job.summary.status !== 'running') return false;
    job.controller.abort();
    return true;
  }

  list(): JobSummary[] {
    return [...this.#jobs.values()].map((j) => ({ ...j.summary })).reverse();
  }

  /** Cancels every running job (on shutdown). */
  cancelAll(): void {
    for (const job of this.#jobs.values()) if (job.summary.status === 'running') job.controller.abort();
  }

  #trim(): void {
    if (this.#jobs.size <= MAX_KEPT_JOBS) return;
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size <= MAX_KEPT_JOBS) break;
      if (job.summary.status !== 'running') this.#jobs.delete(id);
    }
  }
}
