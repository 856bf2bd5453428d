import { Worker } from 'node:worker_threads';
import type { Sample } from '../../shared/api/runs.ts';
import { entryPath } from '../util/entryPath.ts';
import type { TrainerEvent, TrainerOptions } from './trainer.ts';

/** Messages between the main thread and the training worker (trainWorker.ts). */
export type SampleRequest = {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed?: number;
};
export type ToWorker =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'sample'; id: number; request: SampleRequest };
export type FromWorker =
  | { type: 'event'; event: TrainerEvent }
  | { type: 'sampleResult'; id: number; sample?: Sample; error?: string; errorName?: string }
  | { type: 'finished' }
  | {
      type: 'error';
      name: string;
      message: string;
      hint?: string;
      issues?: { path: string; message: string }[];
      stack?: string;
    };

export class TrainingError extends Error {
  readonly hint: string | undefined;
  readonly issues: { path: string; message: string }[] | undefined;
  readonly kind: string;
  constructor(kind: string, message: string, hint?: string, issues?: { path: string; message: string }[]) {
    super(message);
    this.name = 'TrainingError';
    this.kind = kind;
    this.hint = hint;
    this.issues = issues;
  }
}

export interface TrainingHandle {
  pause(): void;
  resume(): void;
  stop(): void;
  sample(r: SampleRequest): Promise<Sample>;
  /** Resolves when the worker finished normally (completed or stopped); rejects with a TrainingError. */
  readonly done: Promise<void>;
  /** Ends the worker at once (its last checkpoint stays). */
  terminate(): Promise<void>;
}

/** Starts a training run in a worker thread; `onEvent` receives every trainer event on the main thread. */
export function startTrainingWorker(
  opts: Omit<TrainerOptions, 'onEvent'>,
  onEvent: (e: TrainerEvent) => void,
): TrainingHandle {
  const worker = new Worker(entryPath('engine/trainWorker'), { workerData: opts });
  const pending = new Map<number, { resolve: (s: Sample) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failure: TrainingError | null = null;
  let finished = false;
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'event') onEvent(m.event);
    else if (m.type === 'sampleResult') {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.sample) p?.resolve(m.sample);
      else {
        const err = new Error(m.error ?? 'sampling failed');
        err.name = m.errorName ?? 'Error';
        p?.reject(err);
      }
    } else if (m.type === 'finished') finished = true;
    else if (m.type === 'error') failure = new TrainingError(m.name, m.message, m.hint, m.issues);
  });
  const done = new Promise<void>((resolve, reject) => {
    worker.on('error', (e) => {
      failure ??= new TrainingError(e.name, e.message);
    });
    worker.on('exit', (code) => {
      for (const p of pending.values()) p.reject(new Error('the training worker ended'));
      pending.clear();
      if (failure) reject(failure);
      else if (finished) resolve();
      else
        reject(new TrainingError('WorkerExit', `the training worker exited (code ${code}) before finishing`));
    });
  });
  const send = (m: ToWorker) => worker.postMessage(m);
  return {
    pause: () => send({ type: 'pause' }),
    resume: () => send({ type: 'resume' }),
    stop: () => send({ type: 'stop' }),
    sample: (request) =>
      new Promise<Sample>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        send({ type: 'sample', id, request });
      }),
    done,
    terminate: async () => {
      await worker.terminate();
    },
  };
}
