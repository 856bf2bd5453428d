import { EMBEDDED_CHAIN_ID } from '../../../../shared/chain/deployment.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatEth, formatTime, shortAddress, shortCid } from '../../util/format.ts';
import { formatScore, metricLabel } from '../../util/score.ts';
import { useLineageQuery } from '../wallet/chainApi.ts';
import { useContracts } from '../wallet/WalletProvider.tsx';
import { ClaimsCard } from './ClaimsCard.tsx';
import { useVersionsQuery } from './modelsApi.ts';

type Version = NonNullable<ReturnType<typeof useVersionsQuery>['data']>[number];

/** A lineage's rules and its versions as a tree: genesis → v1 → v2 …, each with its evaluation. */
export function LineageDetail({ lineageId }: { lineageId: number }) {
  const lineage = useLineageQuery(lineageId);
  const versions = useVersionsQuery(lineageId);
  const contracts = useContracts();
  const l = lineage.data;
  return (
    <>
      {lineage.isLoading ? <Loading what="the lineage" /> : null}
      {lineage.error ? <ErrorNotice error={lineage.error} onRetry={() => void lineage.refetch()} /> : null}
      {l ? (
        <>
          <h2 className="subtitle">{l.name}</h2>
          <div className="cards">
            <article className="card" aria-labelledby="rules-title">
              <h3 id="rules-title">Rules</h3>
              <dl className="kv">
                <dt>Metric</dt>
                <dd>{metricLabel(l.metricName, l.higherIsBetter)}</dd>
                <dt>Evaluation text</dt>
                <dd>
                  <CopyableValue
                    value={l.evalDatasetCid}
                    display={shortCid(l.evalDatasetCid)}
                    what="evaluation CID"
                  />
                </dd>
                <dt>ε now</dt>
                <dd>
                  {(l.currentEpsilonBps / 100).toFixed(2)} % (from {(l.epsilon.startBps / 100).toFixed(2)} %
                  down to {(l.epsilon.floorBps / 100).toFixed(2)} %, {l.epsilon.decayBpsPerDay} bp a day)
                </dd>
                <dt>To beat now</dt>
                <dd>{l.scoreToBeat ? formatScore(l.scoreToBeat, l.metricName) : 'nothing can'}</dd>
                <dt>Commit age</dt>
                <dd>at least {l.minCommitAge} s before the claim</dd>
                <dt>Verifiers</dt>
                <dd>
                  {l.quorum} of {l.verifiers.map((v) => shortAddress(v)).join(', ')}
                  {contracts.chainId === EMBEDDED_CHAIN_ID ? ' (local test accounts)' : ''}
                </dd>
                <dt>Pricing</dt>
                <dd>
                  {formatEth(BigInt(l.pricing.basePriceWei))} +{' '}
                  {formatEth(BigInt(l.pricing.pricePerPointWei))} per score point gained; owner may set{' '}
                  {(l.pricing.minPriceBps / 100).toFixed(0)}–{(l.pricing.maxPriceBps / 100).toFixed(0)} % of
                  it
                </dd>
                <dt>Revenue shares</dt>
                <dd>
                  owner {l.shares.ownerBps / 100} %, ancestors {l.shares.ancestorsBps / 100} %, creator{' '}
                  {l.shares.creatorBps / 100} %
                </dd>
                <dt>Created</dt>
                <dd>
                  {formatTime(l.createdAt * 1000)} by <code title={l.creator}>{shortAddress(l.creator)}</code>
                </dd>
              </dl>
            </article>
            <article className="card" aria-labelledby="tree-title">
              <h3 id="tree-title">Versions</h3>
              {versions.isLoading ? <Loading what="versions" /> : null}
              {versions.error ? <ErrorNotice error={versions.error} /> : null}
              <ul className="tree" aria-label="Lineage tree">
                <li>
                  <span className="tree-node">
                    <strong>genesis</strong> {formatScore(l.genesisScore, l.metricName)}
                    {l.genesisModelCid ? <code className="small"> {shortCid(l.genesisModelCid)}</code> : null}
                  </span>
                  {versions.data ? (
                    <Children parent={0} all={versions.data} metric={l.metricName} best={l.bestTokenId} />
                  ) : null}
                </li>
              </ul>
            </article>
          </div>
          <ClaimsCard lineageId={lineageId} />
        </>
      ) : null}
    </>
  );
}

function Children({
  parent,
  all,
  metric,
  best,
}: {
  parent: number;
  all: Version[];
  metric: string;
  best: number;
}) {
  const kids = all.filter((v) => v.parentTokenId === parent).sort((a, b) => a.version - b.version);
  if (kids.length === 0) return null;
  return (
    <ul>
      {kids.map((v) => (
        <li key={v.tokenId} data-token={v.tokenId}>
          <span className="tree-node">
            <strong>v{v.version}</strong> token #{v.tokenId} · {formatScore(v.score, metric)}
            {v.tokenId === best ? <span className="badge badge-ok">best</span> : null}
            <span className="muted small">
              {' '}
              by <code title={v.trainer}>{shortAddress(v.trainer)}</code> · {formatEth(BigInt(v.priceWei))}
            </span>
          </span>
          {v.evaluation ? (
            <div className="muted small tree-eval">
              {v.evaluation.result.metrics.bits_per_byte.toFixed(4)} bits/byte ·{' '}
              {(v.evaluation.result.metrics.top1_accuracy * 100).toFixed(1)} % top-1 ·{' '}
              {v.evaluation.result.tokens.toLocaleString('en')} tokens · evaluator v
              {v.evaluation.evaluator.version}
            </div>
          ) : null}
          <Children parent={v.tokenId} all={all} metric={metric} best={best} />
        </li>
      ))}
    </ul>
  );
}
