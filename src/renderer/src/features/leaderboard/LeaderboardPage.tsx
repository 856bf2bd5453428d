import { useState } from 'react';
import type { ContributorView } from '../../../../shared/api/chain.ts';
import { Empty, ErrorNotice, Loading, PageHeader } from '../../components/StatusViews.tsx';
import { formatEth, shortAddress } from '../../util/format.ts';
import { formatScore, metricLabel } from '../../util/score.ts';
import { useLeaderboardQuery } from '../wallet/chainApi.ts';

/** Contributors and models ranked from chain state and events: overall and per lineage. */
export function LeaderboardPage() {
  const board = useLeaderboardQuery({}, { pollingInterval: 30_000 });
  const [lineage, setLineage] = useState<number | 'all'>('all');
  const data = board.data;
  const shown = data?.lineages.filter((l) => lineage === 'all' || l.lineageId === lineage) ?? [];
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Leaderboard">
        {data && data.lineages.length > 1 ? (
          <label className="row">
            Lineage
            <select
              value={String(lineage)}
              onChange={(e) => setLineage(e.target.value === 'all' ? 'all' : Number(e.target.value))}
            >
              <option value="all">All lineages</option>
              {data.lineages.map((l) => (
                <option key={l.lineageId} value={l.lineageId}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="button" className="secondary" onClick={() => void board.refetch()}>
          Refresh
        </button>
      </PageHeader>
      {board.isLoading ? <Loading what="the leaderboard (the local chain starts on first use)" /> : null}
      {board.error ? <ErrorNotice error={board.error} onRetry={() => void board.refetch()} /> : null}
      {data ? (
        <>
          <p className="muted small">
            Chain {data.chainId}, block {data.blockNumber}. Ranked from the contracts’ state and events:
            proven improvements (minted versions), best scores and licence revenue.
          </p>
          {lineage === 'all' ? (
            <article className="card" aria-labelledby="overall-title">
              <div className="card-head">
                <h2 id="overall-title">Overall</h2>
                <span className="muted">
                  {data.overall.licences} licence{data.overall.licences === 1 ? '' : 's'} sold ·{' '}
                  {formatEth(BigInt(data.overall.revenueWei))} revenue
                </span>
              </div>
              <p className="muted small">
                Best scores are per lineage: each lineage measures its own evaluation, so they do not compare
                across lineages. Overall, “Lineages led” counts the lineages whose best version a contributor
                trained.
              </p>
              <Contributors list={data.overall.contributors} label="Contributors overall" />
            </article>
          ) : null}
          {data.lineages.length === 0 ? (
            <Empty title="No lineages yet">
              A lineage is a competition around one evaluation. Create one on the Models page, then prove
              improvements in it.
            </Empty>
          ) : null}
          {shown.map((l) => (
            <article
              key={l.lineageId}
              className="card"
              aria-labelledby={`lineage-${l.lineageId}`}
              data-lineage={l.lineageId}
            >
              <div className="card-head">
                <h2 id={`lineage-${l.lineageId}`}>{l.name}</h2>
                <span className="muted small">
                  {metricLabel(l.metricName, l.higherIsBetter)} · best{' '}
                  {l.bestTokenId
                    ? `#${l.bestTokenId}, ${formatScore(l.bestScore, l.metricName)}`
                    : 'the genesis model'}{' '}
                  · {l.licences} licence{l.licences === 1 ? '' : 's'} · {formatEth(BigInt(l.revenueWei))}
                </span>
              </div>
              {/* Models above contributors, not beside them: each table needs the card's width. */}
              <div>
                <div>
                  <h3>Models</h3>
                  {l.models.length === 0 ? (
                    <p className="muted">No version minted yet.</p>
                  ) : (
                    <table className="table compact" aria-label={`${l.name}: models by score`}>
                      <thead>
                        <tr>
                          <th scope="col">Rank</th>
                          <th scope="col">Model</th>
                          <th scope="col">Score</th>
                          <th scope="col">Trainer</th>
                          <th scope="col">Licences</th>
                          <th scope="col">Revenue</th>
                        </tr>
                      </thead>
                      <tbody>
                        {l.models.map((m) => (
                          <tr key={m.tokenId} data-token={m.tokenId}>
                            <td>{m.rank}</td>
                            <td>
                              #{m.tokenId} <span className="muted small">v{m.version}</span>
                            </td>
                            <td>{formatScore(m.score, l.metricName)}</td>
                            <td>
                              <code title={m.trainer}>{shortAddress(m.trainer)}</code>
                            </td>
                            <td>{m.licences}</td>
                            <td>{formatEth(BigInt(m.revenueWei))}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </div>
                <div>
                  <h3>Contributors</h3>
                  <Contributors
                    list={l.contributors}
                    label={`${l.name}: contributors`}
                    metricName={l.metricName}
                  />
                </div>
              </div>
            </article>
          ))}
        </>
      ) : null}
    </section>
  );
}

/**
 * Contributors ranked by earnings. In a lineage (`metricName` given) each shows the best score it trained;
 * overall, where scores of different lineages do not compare, the number of lineages it leads.
 */
function Contributors({
  list,
  label,
  metricName,
}: {
  list: ContributorView[];
  label: string;
  metricName?: string;
}) {
  if (list.length === 0) return <p className="muted">No contributors yet.</p>;
  return (
    <table className="table compact" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Rank</th>
          <th scope="col">Account</th>
          <th scope="col">Improvements</th>
          {metricName === undefined ? <th scope="col">Lineages led</th> : <th scope="col">Best score</th>}
          <th scope="col">Licences of their models</th>
          <th scope="col">Earned</th>
        </tr>
      </thead>
      <tbody>
        {list.map((c) => (
          <tr key={c.account} data-account={c.account}>
            <td>{c.rank}</td>
            <td>
              <code title={c.account}>{shortAddress(c.account)}</code>
            </td>
            <td>{c.modelsTrained}</td>
            {metricName === undefined ? (
              <td data-testid="lineages-led">{c.lineagesLed}</td>
            ) : (
              <td data-testid="best-score">
                {c.bestScore === null ? (
                  <span className="muted">—</span>
                ) : (
                  <>
                    {formatScore(c.bestScore, metricName)}{' '}
                    <span className="muted small">#{c.bestTokenId}</span>
                  </>
                )}
              </td>
            )}
            <td>{c.licencesOfItsModels}</td>
            <td>{formatEth(BigInt(c.earnedWei))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
