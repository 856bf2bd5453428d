import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { leaderboardSchema, type TokenView } from '../../shared/api/chain.ts';
import { bestFirst, rankContributors } from './leaderboard.ts';

const alice = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Address;
const bob = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' as Address;
const carol = '0x90F79bf6EB2c4f870365E785982E1f8E28b0e0F2' as Address;

function token(tokenId: number, trainer: Address, score: string, extra: Partial<TokenView> = {}): TokenView {
  return {
    tokenId,
    lineageId: 1,
    version: tokenId,
    parentTokenId: tokenId - 1,
    trainer,
    owner: trainer,
    score,
    modelCid: `bafymodel${tokenId}`,
    metadataCid: `bafymeta${tokenId}`,
    evaluationCid: `bafyeval${tokenId}`,
    tokenURI: `ipfs://bafymeta${tokenId}`,
    committedAt: 0,
    mintedAt: 0,
    isBest: false,
    suggestedPriceWei: '1000',
    manualPriceWei: null,
    priceWei: '1000',
    minPriceWei: '500',
    maxPriceWei: '2000',
    licences: 0,
    revenueWei: '0',
    ...extra,
  };
}

describe('leaderboard ranking', () => {
  // Alice trained v1 (2.10 bits/byte) and v3 (1.85, the lineage's best); Bob trained v2 (1.95).
  const tokens = [
    token(1, alice, '2100000', { licences: 2 }),
    token(2, bob, '1950000', { licences: 1 }),
    token(3, alice, '1850000', { isBest: true }),
  ];

  it('orders models best first in the lineage’s metric direction', () => {
    expect([...tokens].sort(bestFirst(false)).map((t) => t.tokenId)).toEqual([3, 2, 1]);
    expect([...tokens].sort(bestFirst(true)).map((t) => t.tokenId)).toEqual([1, 2, 3]);
    // Equal scores: the older token first.
    expect([token(5, bob, '7'), token(4, alice, '7')].sort(bestFirst(false)).map((t) => t.tokenId)).toEqual([
      4, 5,
    ]);
  });

  it('gives each contributor its best score in the metric direction, its licences and its lead', () => {
    // Carol created the lineage: paid her share, trained nothing.
    const earned = new Map<Address, bigint>([
      [alice, 300n],
      [bob, 300n],
      [carol, 900n],
    ]);
    const lowerIsBetter = rankContributors(tokens, earned, false);
    expect(lowerIsBetter).toEqual([
      {
        rank: 1,
        account: carol,
        earnedWei: '900',
        modelsTrained: 0,
        licencesOfItsModels: 0,
        bestScore: null,
        bestTokenId: null,
        lineagesLed: 0,
      },
      // Same earnings as Bob: more proven improvements ranks first.
      {
        rank: 2,
        account: alice,
        earnedWei: '300',
        modelsTrained: 2,
        licencesOfItsModels: 2,
        bestScore: '1850000',
        bestTokenId: 3,
        lineagesLed: 1,
      },
      {
        rank: 3,
        account: bob,
        earnedWei: '300',
        modelsTrained: 1,
        licencesOfItsModels: 1,
        bestScore: '1950000',
        bestTokenId: 2,
        lineagesLed: 0,
      },
    ]);
    // Where higher is better, Alice's best is her other version.
    const higherIsBetter = rankContributors(tokens, earned, true);
    expect(higherIsBetter.find((c) => c.account === alice)).toMatchObject({
      bestScore: '2100000',
      bestTokenId: 1,
    });
  });

  it('leaves the best score out of the overall table, where lineages do not compare', () => {
    const otherLineage = token(4, bob, '480000', { lineageId: 2, isBest: true });
    const overall = rankContributors(
      [...tokens, otherLineage],
      new Map([
        [alice, 10n],
        [bob, 20n],
      ]),
      null,
    );
    expect(overall.map((c) => [c.account, c.bestScore, c.bestTokenId, c.lineagesLed])).toEqual([
      [bob, null, null, 1],
      [alice, null, null, 1],
    ]);
    // Rows satisfy the API contract.
    const board = leaderboardSchema.parse({
      chainId: 31337,
      blockNumber: '1',
      lineages: [],
      overall: { licences: 0, revenueWei: '0', contributors: overall },
    });
    expect(board.overall.contributors).toHaveLength(2);
  });
});
