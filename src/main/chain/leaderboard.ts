/**
 * The leaderboard's ranking rules, apart from the chain reads that feed them: models best first in their
 * lineage's metric direction, and contributors by earnings with their proven improvements, licences and
 * best score. Scores of different lineages measure different things (bits per byte on one text, accuracy
 * on another), so the overall table ranks by earnings and counts the lineages an account leads instead.
 */
import type { Address } from 'viem';
import type { ContributorView, TokenView } from '../../shared/api/chain.ts';

/** Orders two minted versions of one lineage: the better score first, then the older token. */
export function bestFirst(higherIsBetter: boolean): (a: TokenView, b: TokenView) => number {
  return (a, b) => {
    const x = BigInt(a.score);
    const y = BigInt(b.score);
    if (x === y) return a.tokenId - b.tokenId;
    return (higherIsBetter ? y > x : x > y) ? 1 : -1;
  };
}

/**
 * Contributors ranked by what they earned (then improvements proven, then address, for a stable order).
 * `tokens` are the versions in scope (one lineage's, or every lineage's for the overall table);
 * `earned` holds every account that earned or trained in that scope. With `higherIsBetter` (one
 * lineage) each row carries the best score it trained; without (overall) the best score stays null.
 */
export function rankContributors(
  tokens: readonly TokenView[],
  earned: ReadonlyMap<Address, bigint>,
  higherIsBetter: boolean | null,
): ContributorView[] {
  const rows = [...earned].map(([account, earnedWei]) => {
    const trained = tokens.filter((t) => t.trainer === account);
    const best = higherIsBetter === null ? null : ([...trained].sort(bestFirst(higherIsBetter))[0] ?? null);
    return {
      account,
      earnedWei,
      modelsTrained: trained.length,
      licencesOfItsModels: trained.reduce((s, t) => s + t.licences, 0),
      bestScore: best?.score ?? null,
      bestTokenId: best?.tokenId ?? null,
      lineagesLed: trained.filter((t) => t.isBest).length,
    };
  });
  return rows
    .sort((a, b) =>
      a.earnedWei !== b.earnedWei
        ? b.earnedWei > a.earnedWei
          ? 1
          : -1
        : b.modelsTrained - a.modelsTrained || a.account.localeCompare(b.account),
    )
    .map(({ account, earnedWei, ...figures }, i) => ({
      rank: i + 1,
      account,
      earnedWei: earnedWei.toString(),
      ...figures,
    }));
}
