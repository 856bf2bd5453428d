import type { ReactNode } from 'react';
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
          <CidOutput label="Dataset" cid={prepare.datasetCid} what="dataset CID">
            {prepare.tokenizer} tokenizer, vocabulary {formatCount(prepare.vocabSize)},{' '}
            {formatCount(prepare.trainTokens)} training tokens
          </CidOutput>
        ) : null}
        {train ? (
          <CidOutput label="Training run" cid={train.checkpointCid} what="checkpoint CID">
            {formatCount(train.iterations)} steps, {formatCompact(train.tokens)} tokens, val loss{' '}
            {formatLoss(train.valLoss)}
            {train.parentModelCid ? `, continued from ${shortCid(train.parentModelCid)}` : ''}
          </CidOutput>
        ) : null}
        {evaluate ? (
          <>
            <CidOutput label="Model" cid={evaluate.modelCid} what="model CID" testId="pipeline-model">
              {formatCompact(evaluate.parameters)} parameters
            </CidOutput>
            <CidOutput label="Evaluation" cid={evaluate.evaluationCid} what="evaluation CID">
              {evaluate.bitsPerByte.toFixed(4)} bits per byte, {(evaluate.top1Accuracy * 100).toFixed(1)} %
              top-1
            </CidOutput>
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

/** One output of the run: its CID (shortened, copyable) and what it is. */
function CidOutput({
  label,
  cid,
  what,
  testId,
  children,
}: {
  label: string;
  cid: string;
  what: string;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>
        <CopyableValue value={cid} display={shortCid(cid)} what={what} />{' '}
        <span className="muted small">{children}</span>
      </dd>
    </>
  );
}
