import type { ClaimStatus } from '../../../../shared/api/claims.ts';
import { hrefFor } from '../../app/router.ts';
import { Empty, ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatTime, shortCid } from '../../util/format.ts';
import { useClaimsQuery } from './modelsApi.ts';

const TONE: Record<ClaimStatus, string> = {
  created: 'badge-neutral',
  committed: 'badge-info',
  evaluated: 'badge-info',
  signed: 'badge-warn',
  minted: 'badge-ok',
  failed: 'badge-no',
};

export function ClaimStatusBadge({ status }: { status: ClaimStatus }) {
  return (
    <span className={`badge ${TONE[status]}`} data-claim-status={status}>
      {status}
    </span>
  );
}

export function ClaimsCard({ lineageId }: { lineageId?: number }) {
  const claims = useClaimsQuery(lineageId === undefined ? {} : { lineageId });
  return (
    <article className="card" aria-labelledby="claims-title">
      <h2 id="claims-title">Claims on this machine</h2>
      {claims.isLoading ? <Loading what="claims" /> : null}
      {claims.error ? <ErrorNotice error={claims.error} onRetry={() => void claims.refetch()} /> : null}
      {claims.data && claims.data.length === 0 ? (
        <Empty title="No claims yet">Publish a model above and claim it as an improvement.</Empty>
      ) : null}
      {claims.data && claims.data.length > 0 ? (
        <table className="table compact" aria-label="Claims">
          <thead>
            <tr>
              <th scope="col">Claim</th>
              <th scope="col">Lineage</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              <th scope="col">Attestations</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {claims.data.map((c) => (
              <tr key={c.id} data-claim={c.id}>
                <td>
                  <a href={hrefFor('models', 'claim', c.id)}>{c.model.name}</a>
                </td>
                <td>#{c.lineageId}</td>
                <td>
                  <code title={c.model.cid}>{shortCid(c.model.cid)}</code>
                </td>
                <td>
                  <ClaimStatusBadge status={c.status} />
                  {c.mint ? <span className="muted small"> token #{c.mint.tokenId}</span> : null}
                </td>
                <td>
                  {c.attestations.length} / {c.quorum}
                </td>
                <td>{formatTime(Date.parse(c.updatedAt))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
