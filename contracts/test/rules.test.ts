/**
 * Property tests of the contracts' rules against their TypeScript mirrors (src/shared/chain/rules.ts) on
 * random inputs: suggested price (and its monotonicity), ε decay, and the improvement threshold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseMarketAbi, modelRegistryAbi } from '../generated/index.ts';
import { beatsBest, epsilonAt, improvementThreshold, suggestedPrice } from '../../src/shared/chain/rules.ts';
import {
  createLineage,
  deployAll,
  devAccount,
  startTestChain,
  type Deployed,
  type TestChain,
} from './fixture.ts';
import { rng } from './random.ts';

let chain: TestChain;
let d: Deployed;

beforeAll(async () => {
  chain = await startTestChain();
  d = await deployAll(chain, devAccount(0));
});
afterAll(async () => {
  await chain?.stop();
});

describe('rules (contract vs TypeScript, random inputs)', () => {
  it('suggested price matches and rises with quality in both directions', async () => {
    const r = rng(2981);
    for (let i = 0; i < 6; i++) {
      const higherIsBetter = i % 2 === 0;
      const pricing = {
        basePrice: r.big(100),
        pricePerPoint: r.big(64),
        minPriceBps: 5_000,
        maxPriceBps: 20_000,
        royaltyBps: 0,
      };
      const genesisScore = r.big(63);
      const lineageId = await createLineage(chain, d, devAccount(1), {
        verifiers: [devAccount(2).address],
        higherIsBetter,
        genesisScore,
        basePrice: pricing.basePrice,
        pricePerPoint: pricing.pricePerPoint,
      });
      const scores = Array.from({ length: 12 }, () => r.big(64)).concat([0n, genesisScore, 2n ** 64n - 1n]);
      const quotes: [bigint, bigint][] = [];
      for (const score of scores) {
        const onChain = (await chain.publicClient.readContract({
          address: d.market,
          abi: licenseMarketAbi,
          functionName: 'quotePrice',
          args: [lineageId, score],
        })) as bigint;
        expect(onChain).toBe(suggestedPrice(pricing, genesisScore, higherIsBetter, score));
        quotes.push([score, onChain]);
      }
      // Monotonic: a better score never costs less.
      quotes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (let k = 1; k < quotes.length; k++) {
        if (higherIsBetter) expect(quotes[k]![1]).toBeGreaterThanOrEqual(quotes[k - 1]![1]);
        else expect(quotes[k]![1]).toBeLessThanOrEqual(quotes[k - 1]![1]);
      }
    }
  });

  it('ε decays identically', async () => {
    const r = rng(42);
    for (let i = 0; i < 4; i++) {
      const startBps = r.int(0, 10_000);
      const rule = { startBps, floorBps: r.int(0, startBps), decayBpsPerDay: r.int(0, 2_000) };
      const lineageId = await createLineage(chain, d, devAccount(1), {
        verifiers: [devAccount(2).address],
        epsilon: rule,
      });
      const lineage = (await chain.publicClient.readContract({
        address: d.registry,
        abi: modelRegistryAbi,
        functionName: 'getLineage',
        args: [lineageId],
      })) as { bestSince: bigint };
      for (let k = 0; k < 8; k++) {
        const at = lineage.bestSince + BigInt(r.int(-1000, 400 * 86_400));
        const onChain = await chain.publicClient.readContract({
          address: d.registry,
          abi: modelRegistryAbi,
          functionName: 'requiredEpsilonBps',
          args: [lineageId, at < 0n ? 0n : at],
        });
        expect(onChain).toBe(epsilonAt(rule, lineage.bestSince, at < 0n ? 0n : at));
      }
    }
  });

  it('improvementThreshold is the weakest passing score', () => {
    const r = rng(7);
    for (let i = 0; i < 2_000; i++) {
      const higher = r.bool();
      const best = r.big(r.int(1, 63));
      const eps = BigInt(r.int(0, 10_000));
      const t = improvementThreshold(best, eps, higher);
      if (t === null) {
        expect(higher).toBe(false);
        expect(best).toBe(0n);
        continue;
      }
      expect(beatsBest(t, best, eps, higher)).toBe(true);
      expect(beatsBest(higher ? t - 1n : t + 1n, best, eps, higher)).toBe(false);
    }
  });
});
