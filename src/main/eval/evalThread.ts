import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { EvaluationResult } from '../../shared/eval/report.ts';
import type { TokenizerFile } from '../../shared/tokenizers/tokenizer.ts';
import { entryPath } from '../util/entryPath.ts';
import { evaluateModel, EvaluationError } from './evaluator.ts';
import { openEvaluableOnnx } from './onnxSession.ts';
import type { LoadedModelPackage } from './modelPackage.ts';

/**
 * Runs an evaluation in a worker thread (evalWorker.ts) when its entry exists — always from the sources;
 * in the built desktop app once electron.vite.config.ts lists `eval-evalWorker` — and in this thread
 * otherwise. The model was checked by the ONNX policy before it gets here (and is checked again where it
 * is opened).
 */
export interface EvalWorkerInput {
  onnx: Uint8Array;
  tokenizer: TokenizerFile;
  blockSize: number;
  text: string;
  maxTokens: number;
}

export type FromEvalWorker =
  | { type: 'progress'; done: number; total: number }
  | { type: 'result'; result: EvaluationResult }
  | { type: 'error'; name: string; message: string };

export interface RunEvalOptions {
  maxTokens: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Force a thread: true = worker (fails if its entry is missing), false = this thread. */
  worker?: boolean | undefined;
}

export function evalWorkerAvailable(): boolean {
  return existsSync(entryPath('eval/evalWorker'));
}

const WORKER_EXIT_GRACE_MS = 30_000;

export async function runEvaluation(
  pkg: LoadedModelPackage,
  text: string,
  o: RunEvalOptions,
): Promise<EvaluationResult> {
  if (o.signal?.aborted) throw new EvaluationError('evaluation cancelled');
  const useWorker = o.worker ?? evalWorkerAvailable();
  if (!useWorker) {
    const model = await openEvaluableOnnx(pkg.onnx, pkg.tokenizer, pkg.card.config.blockSize);
    try {
      return await evaluateModel(model, text, {
        maxTokens: o.maxTokens,
        signal: o.signal,
        onProgress: o.onProgress,
      });
    } finally {
      await model.release();
    }
  }
  const input: EvalWorkerInput = {
    onnx: pkg.onnx,
    tokenizer: pkg.tokenizer.toFile(),
    blockSize: pkg.card.config.blockSize,
    text,
    maxTokens: o.maxTokens,
  };
  const worker = new Worker(entryPath('eval/evalWorker'), { workerData: input });
  return new Promise<EvaluationResult>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, result?: EvaluationResult) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      // The worker ends by itself after its last message (evalWorker.ts); ending it from here is only the
      // fallback for one that hangs, since terminating a thread inside ONNX Runtime can abort the process.
      setTimeout(() => void worker.terminate(), WORKER_EXIT_GRACE_MS).unref();
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = () => worker.postMessage({ type: 'cancel' });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromEvalWorker) => {
      if (m.type === 'progress') o.onProgress?.(m.done, m.total);
      else if (m.type === 'result') finish(null, m.result);
      else finish(m.name === 'EvaluationError' ? new EvaluationError(m.message) : new Error(m.message));
    });
    worker.on('error', (e) => finish(e));
    worker.on('exit', (code) =>
      finish(new Error(`the evaluation worker exited (code ${code}) before finishing`)),
    );
  });
}
