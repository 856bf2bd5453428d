/**
 * The evaluation in its own thread (ONNX Runtime's `run` blocks the thread it runs on): the main process,
 * Electron's included, stays responsive while a large model is evaluated. Same code, same settings, same
 * numbers as in-thread (evalThread.ts compares them in its test).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from '../../shared/tokenizers/tokenizer.ts';
import { evaluateModel } from './evaluator.ts';
import { openEvaluableOnnx } from './onnxSession.ts';
import type { EvalWorkerInput, FromEvalWorker } from './evalThread.ts';

const input = workerData as EvalWorkerInput;
const post = (m: FromEvalWorker) => parentPort!.postMessage(m);
const controller = new AbortController();
parentPort!.on('message', (m: { type: 'cancel' }) => {
  if (m.type === 'cancel') controller.abort();
});

// The result is posted only once the session is released, and the thread then ends by itself: a thread
// terminated from outside while ONNX Runtime still owns native objects can abort the whole process.
let message: FromEvalWorker;
try {
  const tokenizer = await loadTokenizer(input.tokenizer);
  const model = await openEvaluableOnnx(input.onnx, tokenizer, input.blockSize);
  try {
    const result = await evaluateModel(model, input.text, {
      maxTokens: input.maxTokens,
      signal: controller.signal,
      onProgress: (done, total) => post({ type: 'progress', done, total }),
    });
    message = { type: 'result', result };
  } finally {
    await model.release();
  }
} catch (e) {
  message = { type: 'error', name: (e as Error).name ?? 'Error', message: (e as Error).message ?? String(e) };
}
post(message);
parentPort!.close();
