import ort from 'onnxruntime-node';
import type { EngineSession } from './device.ts';
import { INFERENCE_IO } from './graphs.ts';
import type { Rng } from './rng.ts';

/**
 * Autoregressive sampling, as nanoGPT's GPT.generate: crop the context to blockSize, run the model,
 * take the last position's logits, divide by the temperature, keep the top k, sample from the softmax.
 * Temperature 0 is greedy decoding.
 */
export interface SampleOptions {
  temperature: number;
  /** 0 = no top-k filter. */
  topK: number;
}

/** Picks the next token from one row of logits. */
export function sampleFromLogits(logits: Float32Array, opts: SampleOptions, rng: Rng): number {
  const V = logits.length;
  if (opts.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  const scaled = new Float64Array(V);
  for (let i = 0; i < V; i++) scaled[i] = logits[i]! / opts.temperature;
  let threshold = -Infinity;
  if (opts.topK > 0 && opts.topK < V) {
    const sorted = Float64Array.from(scaled).sort();
    threshold = sorted[V - opts.topK]!;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (scaled[i]! >= threshold && scaled[i]! > max) max = scaled[i]!;
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const p = scaled[i]! >= threshold ? Math.exp(scaled[i]! - max) : 0;
    scaled[i] = p;
    sum += p;
  }
  let u = rng.random() * sum;
  for (let i = 0; i < V; i++) {
    u -= scaled[i]!;
    if (u < 0) return i;
  }
  for (let i = V - 1; i >= 0; i--) if (scaled[i]! > 0) return i;
  return 0;
}

export interface GenerateOptions extends SampleOptions {
  prompt: readonly number[];
  maxNewTokens: number;
  blockSize: number;
  vocabSize: number;
  rng: Rng;
  /** Extra feeds (the flat `params` of a training-time sampling graph). */
  extraFeeds?: Record<string, ort.Tensor>;
  /**
   * The session takes exactly this many positions (a fixed-shape graph): the window is padded after
   * its end, which the causal mask keeps from affecting the positions before.
   */
  padTo?: number;
  /** Called with each new token; return false to stop early. */
  onToken?: (id: number) => boolean | void;
}

/**
 * Runs an inference session (input_ids → logits [1, seq, V], or [1, 1, V] for the position it is given) token by
 * token; returns the new tokens.
 */
export async function generate(session: EngineSession, o: GenerateOptions): Promise<number[]> {
  // a graph built with buildInferenceGraph's `position` returns only the position it is given
  const onePosition = session.inputNames.includes(INFERENCE_IO.position);
  const ctx = o.prompt.length > 0 ? [...o.prompt] : [0];
  const out: number[] = [];
  for (let n = 0; n < o.maxNewTokens; n++) {
    const window = ctx.slice(-o.blockSize);
    const width = o.padTo ?? window.length;
    const padded = new BigInt64Array(width);
    window.forEach((v, i) => (padded[i] = BigInt(v)));
    const ids = new ort.Tensor('int64', padded, [1, width]);
    const last = window.length - 1;
    const feeds: Record<string, ort.Tensor> = { ...o.extraFeeds, [INFERENCE_IO.inputIds]: ids };
    if (onePosition)
      feeds[INFERENCE_IO.position] = new ort.Tensor('int64', BigInt64Array.of(BigInt(last)), [1]);
    const result = await session.run(feeds, [INFERENCE_IO.logits]);
    const logits = result[INFERENCE_IO.logits]!;
    const data = logits.data as Float32Array; // a CPU output (getData() on a gpu-buffer would abort)
    const at = onePosition ? 0 : last;
    const row = data.subarray(at * o.vocabSize, (at + 1) * o.vocabSize);
    const next = sampleFromLogits(row, o, o.rng);
    logits.dispose();
    ctx.push(next);
    out.push(next);
    if (o.onToken?.(next) === false) break;
  }
  return out;
}
