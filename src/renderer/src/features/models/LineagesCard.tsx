import { hrefFor } from '../../app/router.ts';
import { Empty, ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatScore, metricLabel } from '../../util/score.ts';
import { useLineagesQuery } from '../wallet/chainApi.ts';

export function LineagesCard() {
  const lineages = useLineagesQuery(undefined);
  return (
    <article className="card" aria-labelledby="lineages-title">
      <h2 id="lineages-title">Lineages</h2>
      <p className="muted small">
        A lineage is a competition around one evaluation: each new version must beat the current best by ε,
        proven by verifiers, before it is minted.
      </p>
      {lineages.isLoading ? <Loading what="lineages" /> : null}
      {lineages.error ? <ErrorNotice error={lineages.error} onRetry={() => void lineages.refetch()} /> : null}
      {lineages.data && lineages.data.length === 0 ? (
        <Empty title="No lineage on this chain yet">
          <a href={hrefFor('models', 'new-lineage')}>Create one</a> around an evaluation text.
        </Empty>
      ) : null}
      {lineages.data && lineages.data.length > 0 ? (
        <table className="table" aria-label="Lineages">
          <thead>
            <tr>
              <th scope="col">Lineage</th>
              <th scope="col">Metric</th>
              <th scope="col">Best</th>
              <th scope="col">To beat now</th>
              <th scope="col">Versions</th>
              <th scope="col">Verifiers</th>
            </tr>
          </thead>
          <tbody>
            {lineages.data.map((l) => (
              <tr key={l.lineageId} data-lineage={l.lineageId}>
                <td>
                  <a href={hrefFor('models', 'lineage', String(l.lineageId))}>{l.name}</a>
                </td>
                <td>{metricLabel(l.metricName, l.higherIsBetter)}</td>
                <td>
                  {l.bestTokenId ? `#${l.bestTokenId} ` : 'genesis '}
                  {formatScore(l.bestScore, l.metricName)}
                </td>
                <td>{l.scoreToBeat ? formatScore(l.scoreToBeat, l.metricName) : '—'}</td>
                <td>{l.modelCount}</td>
                <td>
                  {l.quorum} of {l.verifiers.length}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
