import type { Tokenizer } from '../../shared/tokenizers/tokenizer.ts';
import {
  EVAL_BATCH_WINDOWS,
  EVAL_MAX_TOKENS,
  NllAccumulator,
  planWindows,
  scoreOf,
} from '../../shared/eval/metrics.ts';
import type { EvaluationResult } from '../../shared/eval/report.ts';

/**
 * The deterministic evaluation loop (protocol: src/shared/eval/metrics.ts). It only needs an
 * `EvaluableModel`: a block size, a vocabulary, a tokenizer, and ids → logits. onnxSession.ts provides one
 * over ONNX Runtime; tests may provide others.
 */
export interface EvaluableModel {
  readonly blockSize: number;
  readonly vocabSize: number;
  readonly tokenizer: Tokenizer;
  /** Logits [batch, seq, vocab] for ids [batch, seq] (row-major). */
  run(ids: BigInt64Array, batch: number, seq: number): Promise<Float32Array>;
}

export interface EvaluateOptions {
  maxTokens?: number;
  batchWindows?: number;
  signal?: AbortSignal;
  onProgress?: (doneWindows: number, totalWindows: number) => void;
}

export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Encodes the text and plans its windows (exposed for reports and tests). */
export function tokenizeForEvaluation(tokenizer: Tokenizer, text: string): Int32Array {
  const ids = tokenizer.encode(text);
  return Int32Array.from(ids);
}

/** Evaluates `model` on `text`: all non-overlapping windows of its block size, in order, capped. */
export async function evaluateModel(
  model: EvaluableModel,
  text: string,
  opts: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const T = model.blockSize;
  const V = model.vocabSize;
  const B = opts.batchWindows ?? EVAL_BATCH_WINDOWS;
  if (model.tokenizer.vocabSize > V) {
    throw new EvaluationError(
      `the tokenizer has ${model.tokenizer.vocabSize} tokens but the model predicts only ${V}`,
    );
  }
  const ids = tokenizeForEvaluation(model.tokenizer, text);
  const plan = planWindows(ids.length, T, opts.maxTokens ?? EVAL_MAX_TOKENS);
  if (plan.windows === 0) {
    throw new EvaluationError(
      `the evaluation text encodes to ${ids.length} tokens: it needs at least ${T + 1} (one window of the model's block size ${T} plus one)`,
    );
  }
  // Bytes of each token id, computed once.
  const tokenBytes = new Map<number, number>();
  const bytesOf = (id: number): number => {
    let n = tokenBytes.get(id);
    if (n === undefined) {
      n = model.tokenizer.tokenBytes(id).length;
      tokenBytes.set(id, n);
    }
    return n;
  };

  const acc = new NllAccumulator();
  const input = new BigInt64Array(B * T);
  const W = plan.windows;
  for (let first = 0; first < W; first += B) {
    if (opts.signal?.aborted) throw new EvaluationError('evaluation cancelled');
    const inBatch = Math.min(B, W - first);
    for (let b = 0; b < B; b++) {
      // Padding rows repeat the batch's last window (their results are ignored).
      const w = first + Math.min(b, inBatch - 1);
      for (let t = 0; t < T; t++) input[b * T + t] = BigInt(ids[w * T + t]!);
    }
    const logits = await model.run(input, B, T);
    if (logits.length !== B * T * V) {
      throw new EvaluationError(
        `the model returned ${logits.length} logits for a [${B}, ${T}] batch; expected ${B * T * V} (vocab ${V})`,
      );
    }
    for (let b = 0; b < inBatch; b++) {
      const w = first + b;
      for (let t = 0; t < T; t++) {
        const target = ids[w * T + t + 1]!;
        acc.add(logits, (b * T + t) * V, V, target, bytesOf(target));
      }
    }
    opts.onProgress?.(first + inBatch, W);
    await yieldToEventLoop();
  }
  const metrics = acc.values();
  return {
    tokens: acc.tokens,
    bytes: acc.bytes,
    windows: W,
    blockSize: T,
    textTokens: ids.length,
    truncated: plan.truncated,
    totalNats: acc.totalNats,
    correct: acc.correct,
    metrics,
    scores: {
      bits_per_byte: scoreOf(metrics.bits_per_byte).toString(),
      top1_accuracy: scoreOf(metrics.top1_accuracy).toString(),
    },
  };
}
