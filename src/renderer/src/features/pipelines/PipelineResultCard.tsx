import { CopyableValue } from '../../components/CopyButton.tsx';
import { formatCompact, formatCount, formatLoss, formatTime, shortCid } from '../../util/format.ts';
import { ClaimWithPipeline } from './ClaimWithPipeline.tsx';
import type { PipelineRun } from './pipelineSession.ts';
import { claimablePipelineModel, formatStageSeconds, STAGE_TITLES, stageOutcome } from './pipelineView.ts';

/** The latest run: what each stage did (ran, cached, skipped) and took, and what it produced. */
export function PipelineResultCard({ run }: { run: PipelineRun }) {
  const r = run.result;
  const { prepare, train, evaluate, publish, claim } = r.outputs;
  const claimable = claimablePipelineModel(r);
  return (
    <article className="card" aria-labelledby="pipeline-result-title" data-testid="pipeline-result">
      <h2 id="pipeline-result-title">
        Last run of “{r.name}”: {formatStageSeconds(r.seconds)}
      </h2>
      <p className="muted small">
        Finished {formatTime(run.finishedAt)} · <code title={run.file}>{run.file}</code>
      </p>
      <table className="table compact" aria-label="Stages of the last run">
        <thead>
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Outcome</th>
            <th scope="col">Time</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {r.stages.map((s) => {
            const outcome = stageOutcome(s);
            return (
              <tr key={s.stage} data-stage={s.stage} data-status={s.status}>
                <th scope="row">{STAGE_TITLES[s.stage]}</th>
                <td>
                  <span className={`badge ${outcome.tone}`}>{outcome.label}</span>
                </td>
                <td>{s.status === 'skipped' ? '—' : formatStageSeconds(s.seconds)}</td>
                <td className="small" style={{ overflowWrap: 'anywhere' }}>
                  {s.message}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Outputs</h3>
      <dl className="kv">
        {prepare ? (
          <>
            <dt>Dataset</dt>
            <dd>
              <CopyableValue
                value={prepare.datasetCid}
                display={shortCid(prepare.datasetCid)}
                what="dataset CID"
              />{' '}
              <span className="muted small">
                {prepare.tokenizer} tokenizer, vocabulary {formatCount(prepare.vocabSize)},{' '}
                {formatCount(prepare.trainTokens)} training tokens
              </span>
            </dd>
          </>
        ) : null}
        {train ? (
          <>
            <dt>Training run</dt>
            <dd>
              <CopyableValue
                value={train.checkpointCid}
                display={shortCid(train.checkpointCid)}
                what="checkpoint CID"
              />{' '}
              <span className="muted small">
                {formatCount(train.iterations)} steps, {formatCompact(train.tokens)} tokens, val loss{' '}
                {formatLoss(train.valLoss)}
                {train.parentModelCid ? `, continued from ${shortCid(train.parentModelCid)}` : ''}
              </span>
            </dd>
          </>
        ) : null}
        {evaluate ? (
          <>
            <dt>Model</dt>
            <dd data-testid="pipeline-model">
              <CopyableValue
                value={evaluate.modelCid}
                display={shortCid(evaluate.modelCid)}
                what="model CID"
              />{' '}
              <span className="muted small">{formatCompact(evaluate.parameters)} parameters</span>
            </dd>
            <dt>Evaluation</dt>
            <dd>
              <CopyableValue
                value={evaluate.evaluationCid}
                display={shortCid(evaluate.evaluationCid)}
                what="evaluation CID"
              />{' '}
              <span className="muted small">
                {evaluate.bitsPerByte.toFixed(4)} bits per byte, {(evaluate.top1Accuracy * 100).toFixed(1)} %
                top-1
              </span>
            </dd>
          </>
        ) : null}
        {publish ? (
          <>
            <dt>Pipeline</dt>
            <dd data-testid="pipeline-cid">
              <CopyableValue value={publish.pipelineCid} what="pipeline CID" />{' '}
              <span className="muted small">
                the pipeline file on IPFS
                {publish.pinned.length ? `, ${publish.pinned.length} CIDs pinned` : ''}
              </span>
            </dd>
          </>
        ) : null}
        {claim ? (
          <>
            <dt>Claim</dt>
            <dd>
              {claim.tokenId ? `minted: token #${claim.tokenId}` : claim.status}
              {claim.metadataCid ? (
                <>
                  {' '}
                  <CopyableValue
                    value={claim.metadataCid}
                    display={shortCid(claim.metadataCid)}
                    what="metadata CID"
                  />
                </>
              ) : null}
            </dd>
          </>
        ) : null}
      </dl>
      {claimable ? <ClaimWithPipeline name={r.name} model={claimable} /> : null}
    </article>
  );
}
