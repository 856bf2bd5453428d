/**
 * The evaluation protocol and the on-chain score: THE one definition. The contracts (contracts/src,
 * `uint64 score`), src/shared/chain/rules.ts (ε rule, prices) and docs/contracts.md treat a score as an
 * opaque uint64 whose direction is the lineage's `higherIsBetter`; what the number means is defined here.
 *
 * ## Metrics
 * - `bits_per_byte` (lower is better; the default): total negative log-likelihood of the evaluated tokens,
 *   in nats, divided by ln 2 and by the UTF-8 bytes those tokens spell. Tokenizer-independent, so models
 *   with different tokenizers compete fairly in one lineage.
 * - `top1_accuracy` (higher is better): the fraction of evaluated tokens whose most likely next token
 *   (argmax of the logits, ties to the lowest id) is the actual one. It depends on the tokenizer, so a
 *   lineage that uses it fixes the tokenizer: its metric name is `top1_accuracy@tokenizer:<sha256>`, the
 *   SHA-256 of the tokenizer.json every model of the lineage must use.
 *
 * ## Score (what `Improvement.score` and `ModelRegistry` store)
 *     score = round(value × 1 000 000)   as an unsigned 64-bit integer
 * so 1.234567 bits per byte is 1 234 567, and 48.5 % top-1 accuracy is 485 000. The direction comes from
 * the lineage (`higherIsBetter`: false for bits_per_byte, true for top1_accuracy); a lineage whose
 * metric name and direction disagree is refused by `checkLineageMetric`.
 *
 * ## Evaluation windows (evaluator protocol version 1)
 * The evaluation text (UTF-8, identified by its CID) is encoded as a whole with the model's own tokenizer
 * into ids[0..N). With T the model's block size, window w (w = 0, 1, …) feeds ids[wT .. wT+T) and is
 * scored on the targets ids[wT+1 .. wT+T]: every token from position 1 to W·T is predicted exactly once,
 * in order, and each window starts with an empty context. W = min(⌊(N−1)/T⌋, ⌊EVAL_MAX_TOKENS/T⌋): all
 * non-overlapping windows, capped so that at most EVAL_MAX_TOKENS tokens are scored.
 * The bytes of a window are the sum, over its T target tokens, of the length of each token's UTF-8 bytes
 * (`Tokenizer.tokenBytes(id).length`; a byte-level BPE token that holds part of a character counts the
 * bytes it holds), so the bytes of all windows add up to exactly the UTF-8 bytes of text ids[1..W·T] spell.
 * Windows run in batches of EVAL_BATCH_WINDOWS (the last batch padded with copies of its last window,
 * whose results are discarded, so every run has the same shapes), on ONNX Runtime's CPU provider with one
 * intra-op thread, sequential execution and deterministic compute. The log-softmax and the sums are
 * computed in float64 in window and position order, so two runs on one machine agree bit for bit; other
 * machines (other CPU kernels) may differ in the last digits, hence a claim's tolerance.
 */

export const EVALUATOR_NAME = 'xai-link-eval';
/** Bumped whenever a change could move a score; a verifier refuses claims of another version. */
export const EVALUATOR_VERSION = 1;
/** At most this many tokens are scored (2^18). */
export const EVAL_MAX_TOKENS = 262_144;
export const EVAL_BATCH_WINDOWS = 8;

export const SCORE_SCALE = 1_000_000;
export const MAX_UINT64 = (1n << 64n) - 1n;
/** Default (and default maximum accepted) difference between a claimed and a re-computed score, in score units (0.001). */
export const DEFAULT_SCORE_TOLERANCE = 1_000;

export const metricIds = ['bits_per_byte', 'top1_accuracy'] as const;
export type MetricId = (typeof metricIds)[number];

export interface MetricInfo {
  id: MetricId;
  label: string;
  unit: string;
  higherIsBetter: boolean;
  description: string;
}

export const METRICS: Record<MetricId, MetricInfo> = {
  bits_per_byte: {
    id: 'bits_per_byte',
    label: 'bits per byte',
    unit: 'bits/byte',
    higherIsBetter: false,
    description:
      'Negative log-likelihood per UTF-8 byte of the evaluation text, in bits. Tokenizer-independent; lower is better.',
  },
  top1_accuracy: {
    id: 'top1_accuracy',
    label: 'top-1 accuracy',
    unit: '',
    higherIsBetter: true,
    description:
      'Fraction of evaluated tokens predicted exactly (argmax). Needs a fixed tokenizer; higher is better.',
  },
};

/** A lineage's metric: the metric and, for top1_accuracy, the tokenizer it fixes. */
export interface MetricSpec {
  metric: MetricId;
  /** SHA-256 (hex) of the tokenizer.json every model must use; null when any tokenizer may compete. */
  tokenizerSha256: string | null;
}

const TOKENIZER_SUFFIX = /^@tokenizer:([0-9a-f]{64})$/;

/** Parses a lineage's `metricName` ("bits_per_byte", "top1_accuracy@tokenizer:<sha256>"). */
export function parseMetricSpec(metricName: string): MetricSpec {
  for (const metric of metricIds) {
    if (metricName === metric) {
      if (metric === 'top1_accuracy') {
        throw new Error(
          'a top1_accuracy lineage must fix its tokenizer: name the metric "top1_accuracy@tokenizer:<sha256 of tokenizer.json>"',
        );
      }
      return { metric, tokenizerSha256: null };
    }
    if (metricName.startsWith(metric)) {
      const m = TOKENIZER_SUFFIX.exec(metricName.slice(metric.length));
      if (m) return { metric, tokenizerSha256: m[1]! };
    }
  }
  throw new Error(`unknown metric "${metricName}": use bits_per_byte or top1_accuracy@tokenizer:<sha256>`);
}

export function formatMetricSpec(spec: MetricSpec): string {
  return spec.tokenizerSha256 ? `${spec.metric}@tokenizer:${spec.tokenizerSha256}` : spec.metric;
}

/** Throws unless the lineage's direction is the metric's. */
export function checkLineageMetric(metricName: string, higherIsBetter: boolean): MetricSpec {
  const spec = parseMetricSpec(metricName);
  if (METRICS[spec.metric].higherIsBetter !== higherIsBetter) {
    throw new Error(
      `${spec.metric} is ${METRICS[spec.metric].higherIsBetter ? 'higher' : 'lower'}-is-better, but the lineage says the opposite`,
    );
  }
  return spec;
}

/** The on-chain score of a metric value: round(value × 10^6), as a uint64. */
export function scoreOf(value: number): bigint {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`a metric value must be a finite non-negative number, not ${value}`);
  const scaled = BigInt(Math.round(value * SCORE_SCALE));
  if (scaled > MAX_UINT64) throw new Error(`metric value ${value} does not fit in a uint64 score`);
  return scaled;
}

/** The metric value a score stands for. */
export function valueOfScore(score: bigint): number {
  return Number(score) / SCORE_SCALE;
}

/** A score as people read it: "1.234567". */
export function formatScore(score: bigint): string {
  const whole = score / BigInt(SCORE_SCALE);
  const frac = (score % BigInt(SCORE_SCALE)).toString().padStart(6, '0');
  return `${whole}.${frac}`;
}

/** Whether `recomputed` agrees with `claimed` within `tolerance` score units. */
export function withinTolerance(claimed: bigint, recomputed: bigint, tolerance: bigint): boolean {
  const diff = claimed > recomputed ? claimed - recomputed : recomputed - claimed;
  return diff <= tolerance;
}

/** The metric values of an evaluation, from its sums (float64, in the protocol's order). */
export interface MetricValues {
  bits_per_byte: number;
  mean_loss: number;
  perplexity: number;
  top1_accuracy: number;
}

export function metricValues(
  totalNats: number,
  tokens: number,
  bytes: number,
  correct: number,
): MetricValues {
  const meanLoss = totalNats / tokens;
  return {
    bits_per_byte: totalNats / Math.LN2 / bytes,
    mean_loss: meanLoss,
    perplexity: Math.exp(meanLoss),
    top1_accuracy: correct / tokens,
  };
}

/**
 * Float64 log-softmax accumulation over logits rows (in the protocol's order). `add` scores one position:
 * nll = logsumexp(row) − row[target]; top-1 is the argmax (ties to the lowest id).
 */
export class NllAccumulator {
  totalNats = 0;
  tokens = 0;
  bytes = 0;
  correct = 0;

  add(logits: Float32Array, offset: number, vocab: number, target: number, targetBytes: number): void {
    let max = -Infinity;
    let arg = 0;
    for (let i = 0; i < vocab; i++) {
      const v = logits[offset + i]!;
      if (v > max) {
        max = v;
        arg = i;
      }
    }
    if (!Number.isFinite(max))
      throw new Error(`the model produced a non-finite logit (${max}) at token ${this.tokens}`);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i]! - max);
    const nll = max + Math.log(sum) - logits[offset + target]!;
    if (!Number.isFinite(nll))
      throw new Error(`the model produced a non-finite loss at token ${this.tokens}`);
    this.totalNats += nll;
    this.tokens++;
    this.bytes += targetBytes;
    if (arg === target) this.correct++;
  }

  values(): MetricValues {
    return metricValues(this.totalNats, this.tokens, this.bytes, this.correct);
  }
}

/** The window plan of the protocol for N tokens and block size T. */
export function planWindows(
  tokenCount: number,
  blockSize: number,
  maxTokens = EVAL_MAX_TOKENS,
): { windows: number; truncated: boolean } {
  const all = Math.max(0, Math.floor((tokenCount - 1) / blockSize));
  const cap = Math.floor(maxTokens / blockSize);
  return { windows: Math.min(all, cap), truncated: all > cap };
}
