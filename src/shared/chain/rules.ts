/**
 * The contracts' rules mirrored in TypeScript, so the UI and the CLI can explain a claim or a price before
 * sending a transaction ("needs a score ≤ 1 234 567", "suggested price 0.012 ETH"). The contracts stay the
 * authority; contracts/test/rules.test.ts checks these against them on random inputs.
 */

export const BPS = 10_000n;
export const DAY_SECONDS = 86_400n;
export const MAX_ANCESTORS_PAID = 8;

export interface EpsilonRule {
  startBps: number;
  floorBps: number;
  decayBpsPerDay: number;
}

export interface Pricing {
  basePrice: bigint;
  pricePerPoint: bigint;
  minPriceBps: number;
  maxPriceBps: number;
  royaltyBps: number;
}

/** ε in basis points for a model committed at `committedAt`, the current best standing since `bestSince`. */
export function epsilonAt(rule: EpsilonRule, bestSince: bigint, committedAt: bigint): bigint {
  const elapsed = committedAt > bestSince ? committedAt - bestSince : 0n;
  const decayed = (BigInt(rule.decayBpsPerDay) * elapsed) / DAY_SECONDS;
  const span = BigInt(rule.startBps - rule.floorBps);
  return decayed >= span ? BigInt(rule.floorBps) : BigInt(rule.startBps) - decayed;
}

/** Whether `score` beats `best` by at least `epsilonBps` (relative), strictly, in the metric's direction. */
export function beatsBest(score: bigint, best: bigint, epsilonBps: bigint, higherIsBetter: boolean): boolean {
  return higherIsBetter
    ? score > best && score * BPS >= best * (BPS + epsilonBps)
    : score < best && score * BPS <= best * (BPS - epsilonBps);
}

/**
 * The weakest score that still passes: the smallest passing score when higher is better, the largest when
 * lower is better; null when no uint64 score can pass (lower is better and the best is already 0).
 */
export function improvementThreshold(
  best: bigint,
  epsilonBps: bigint,
  higherIsBetter: boolean,
): bigint | null {
  if (higherIsBetter) {
    const min = (best * (BPS + epsilonBps) + BPS - 1n) / BPS; // ceil
    return min > best ? min : best + 1n;
  }
  if (best === 0n) return null;
  const max = (best * (BPS - epsilonBps)) / BPS; // floor
  return max < best ? max : best - 1n;
}

/** `basePrice + pricePerPoint × gain`, gain = the score's distance from the genesis in the better direction. */
export function suggestedPrice(
  pricing: Pricing,
  genesisScore: bigint,
  higherIsBetter: boolean,
  score: bigint,
): bigint {
  const gain = higherIsBetter
    ? score > genesisScore
      ? score - genesisScore
      : 0n
    : genesisScore > score
      ? genesisScore - score
      : 0n;
  return pricing.basePrice + pricing.pricePerPoint * gain;
}

/** The range a manual price must lie in, given the suggested price. */
export function priceBounds(pricing: Pricing, suggested: bigint): { min: bigint; max: bigint } {
  return {
    min: (suggested * BigInt(pricing.minPriceBps)) / BPS,
    max: (suggested * BigInt(pricing.maxPriceBps)) / BPS,
  };
}
