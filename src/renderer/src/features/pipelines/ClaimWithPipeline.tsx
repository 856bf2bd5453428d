import { useId, useState } from 'react';
import { useConnection } from 'wagmi';
import { hrefFor } from '../../app/router.ts';
import { Empty, ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { useStartClaimMutation } from '../models/modelsApi.ts';
import { useLineagesQuery } from '../wallet/chainApi.ts';
import { AccountLine } from '../wallet/WalletPage.tsx';
import { WalletGate } from '../wallet/WalletProvider.tsx';
import type { ClaimablePipelineModel } from './pipelineView.ts';

/**
 * Starts a claim of the pipeline's model in a lineage, with the pipeline's CID, and opens the claim
 * wizard on it: the CID goes into the token's metadata, so anyone can re-run the pipeline.
 */
export function ClaimWithPipeline({ name, model }: { name: string; model: ClaimablePipelineModel }) {
  return (
    <section aria-labelledby="pipeline-claim-title">
      <h3 id="pipeline-claim-title">Claim the improvement</h3>
      <p className="muted small">
        Propose this model as the next version of a lineage. The claim wizard opens with it; the pipeline’s
        CID goes into the minted token’s metadata, so anyone can reproduce the model.
      </p>
      <WalletGate what="the lineages">
        <AccountLine />
        <ClaimForm name={name} model={model} />
      </WalletGate>
    </section>
  );
}

function ClaimForm({ name, model }: { name: string; model: ClaimablePipelineModel }) {
  const id = useId();
  const lineages = useLineagesQuery(undefined);
  const me = useConnection().address;
  const [start, startState] = useStartClaimMutation();
  const [lineageId, setLineageId] = useState<number | ''>('');
  const list = lineages.data ?? [];
  const lineage = list.find((l) => l.lineageId === (lineageId === '' ? list[0]?.lineageId : lineageId));

  const claim = async () => {
    if (!lineage || !me) return;
    const r = await start({
      lineageId: lineage.lineageId,
      modelCid: model.modelCid,
      trainer: me,
      name,
      pipelineCid: model.pipelineCid,
      ...(model.checkpointCid ? { checkpointCid: model.checkpointCid } : {}),
      ...(model.datasetCid ? { datasetCid: model.datasetCid } : {}),
    });
    if ('data' in r && r.data) location.hash = hrefFor('models', 'claim', r.data.id);
  };

  if (lineages.isLoading) return <Loading what="the lineages" />;
  if (lineages.error) return <ErrorNotice error={lineages.error} onRetry={() => void lineages.refetch()} />;
  if (list.length === 0) {
    return (
      <Empty title="No lineage yet">
        <a href={hrefFor('models', 'new-lineage')}>Create one</a> to claim this model in.
      </Empty>
    );
  }
  return (
    <>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void claim();
        }}
      >
        <label htmlFor={`${id}-lineage`}>Lineage</label>
        <select
          id={`${id}-lineage`}
          value={lineage?.lineageId ?? ''}
          onChange={(e) => setLineageId(Number(e.target.value))}
        >
          {list.map((l) => (
            <option key={l.lineageId} value={l.lineageId}>
              {l.name}
            </option>
          ))}
        </select>
        <button type="submit" disabled={!me || !lineage || startState.isLoading}>
          Claim improvement
        </button>
      </form>
      {startState.error ? <ErrorNotice error={startState.error} /> : null}
    </>
  );
}
