import { parentPort, workerData } from 'node:worker_threads';
import { trainThroughDeviceLoss } from './deviceRecovery.ts';
import type { Trainer, TrainerOptions } from './trainer.ts';
import type { ToWorker, FromWorker } from './trainingWorker.ts';

/**
 * Worker-thread entry of a training run: ONNX Runtime's `run` blocks its thread for a whole step, so
 * the loop lives here and the main process stays responsive. Control messages (pause, resume, stop,
 * sample) are handled between steps; every trainer event is posted to the parent.
 */
const port = parentPort;
if (!port) throw new Error('trainWorker.ts must run in a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

let trainer: Trainer | null = null;
const early: ToWorker[] = [];

function handle(m: ToWorker): void {
  if (!trainer) {
    early.push(m);
    return;
  }
  if (m.type === 'pause') trainer.pause();
  else if (m.type === 'resume') trainer.resume();
  else if (m.type === 'stop') trainer.stop();
  else if (m.type === 'sample') {
    trainer.requestSample(m.request).then(
      (sample) => post({ type: 'sampleResult', id: m.id, sample }),
      (e: unknown) =>
        post({
          type: 'sampleResult',
          id: m.id,
          error: e instanceof Error ? e.message : String(e),
          errorName: e instanceof Error ? e.name : 'Error',
        }),
    );
  }
}
port.on('message', handle);

try {
  const opts = workerData as Omit<TrainerOptions, 'onEvent'>;
  await trainThroughDeviceLoss(
    { ...opts, onEvent: (event) => post({ type: 'event', event }) },
    {
      // messages that come while a lost device is reopened wait for the trainer that takes over
      onTrainer: (t) => {
        trainer = t;
        if (t) for (const m of early.splice(0)) handle(m);
      },
    },
  );
  post({ type: 'finished' });
} catch (e) {
  const err = e as Error & { hint?: string; issues?: { path: string; message: string }[] };
  post({
    type: 'error',
    name: err?.name ?? 'Error',
    message: err?.message ?? String(e),
    hint: err?.hint,
    issues: err?.issues,
    stack: err?.stack,
  });
} finally {
  port.off('message', handle);
  port.close();
}
