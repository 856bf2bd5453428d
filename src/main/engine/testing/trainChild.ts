/**
 * A training run in its own process, for the SIGKILL test: `node trainChild.ts '<TrainerOptions JSON>' [delayMs]`.
 * Each logged step waits `delayMs` so the parent can kill it mid-run.
 */
import { Trainer, type TrainerOptions } from '../trainer.ts';

const opts = JSON.parse(process.argv[2]!) as Omit<TrainerOptions, 'onEvent'>;
const delay = Number(process.argv[3] ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const trainer = await Trainer.create({
  ...opts,
  onEvent: (e) => {
    if (e.type === 'metric' && delay > 0) Atomics.wait(sleeper, 0, 0, delay);
    if (e.type === 'checkpoint')
      process.stdout.write(`checkpoint ${e.checkpoint.kind} ${e.checkpoint.step}\n`);
  },
});
await trainer.run();
await trainer.close();
