import { useState } from 'react';
import { useConnection } from 'wagmi';
import type { LineageView } from '../../../../shared/api/chain.ts';
import type { RunSummary } from '../../../../shared/api/runs.ts';
import type { EvaluationReport } from '../../../../shared/eval/report.ts';
import { hrefFor } from '../../app/router.ts';
import { CopyableValue } from '../../components/CopyButton.tsx';
import { Empty, ErrorNotice, Loading } from '../../components/StatusViews.tsx';
import { formatCompact, formatLoss, shortCid } from '../../util/format.ts';
import { formatScore } from '../../util/score.ts';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useRunCheckpointsQuery, useRunsQuery } from '../runs/runsApi.ts';
import { RunStatusBadge } from '../runs/RunStatus.tsx';
import { useLineagesQuery } from '../wallet/chainApi.ts';
import { useEvaluateMutation, usePublishModelMutation, useStartClaimMutation } from './modelsApi.ts';
import { rememberPublished, usePublishedModels, type PublishedModel } from './publishedModels.ts';

/** Runs with a checkpoint: publish one as a model package, evaluate it, claim it as an improvement. */
export function YourModels() {
  const runs = useRunsQuery(undefined);
  const lineages = useLineagesQuery(undefined);
  const published = usePublishedModels();
  const trained = (runs.data ?? []).filter(
    (r) => r.step > 0 && r.status !== 'running' && r.status !== 'starting',
  );
  return (
    <article className="card" aria-labelledby="your-models">
      <h2 id="your-models">Your trained models</h2>
      <p className="muted small">
        Publish a run’s best checkpoint to IPFS as a model package (ONNX model, tokenizer, card with its loss
        curve), evaluate it on a lineage’s text, then claim it as the lineage’s next version.
      </p>
      {runs.isLoading ? <Loading what="runs" /> : null}
      {runs.error ? <ErrorNotice error={runs.error} onRetry={() => void runs.refetch()} /> : null}
      {runs.data && trained.length === 0 ? (
        <Empty title="No trained model yet">
          Train one on the <a href={hrefFor('runs', 'new')}>Runs</a> page; it appears here once it has a
          checkpoint and is not running.
        </Empty>
      ) : null}
      {trained.map((r) => (
        <RunModel key={r.id} run={r} lineages={lineages.data ?? []} published={published[r.id]} />
      ))}
      <InlineJobProgress kind="eval.publish" label="Publishing the model" />
      <InlineJobProgress kind="eval.run" label="Evaluating" />
    </article>
  );
}

function RunModel({
  run,
  lineages,
  published,
}: {
  run: RunSummary;
  lineages: LineageView[];
  published: PublishedModel | undefined;
}) {
  const checkpoints = useRunCheckpointsQuery(run.id);
  const [publish, publishState] = usePublishModelMutation();
  const [evaluate, evalState] = useEvaluateMutation();
  const [start, startState] = useStartClaimMutation();
  const me = useConnection().address;
  const [lineageId, setLineageId] = useState<number | ''>('');
  const best =
    checkpoints.data?.find((c) => c.isBest) ??
    checkpoints.data?.find((c) => c.kind === 'best') ??
    checkpoints.data?.[0];
  const lineage = lineages.find(
    (l) => l.lineageId === (lineageId === '' ? lineages[0]?.lineageId : lineageId),
  );
  const modelCid = published && best && published.step === best.step ? published.modelCid : null;

  const doPublish = async () => {
    if (!best) return;
    const r = await publish({
      checkpoint: best.path,
      runDir: run.runDir,
      name: `${run.name} (step ${best.step})`,
    });
    if ('data' in r && r.data) {
      rememberPublished({
        runId: run.id,
        step: best.step,
        modelCid: r.data.modelCid,
        checkpointCid: r.data.checkpointCid,
        name: r.data.card.name,
        publishedAt: Date.now(),
      });
    }
  };

  const doClaim = async () => {
    if (!modelCid || !lineage || !me || !published) return;
    const r = await start({
      lineageId: lineage.lineageId,
      modelCid,
      trainer: me,
      name: run.name,
      checkpointCid: published.checkpointCid,
    });
    if ('data' in r && r.data) location.hash = hrefFor('models', 'claim', r.data.id);
  };

  return (
    <div className="model-row" data-run={run.id}>
      <div className="row">
        <strong>{run.name}</strong>
        <RunStatusBadge status={run.status} />
        <span className="muted small">
          {formatCompact(run.params)} parameters · step {run.step} · best val loss{' '}
          {formatLoss(run.bestValLoss)}
        </span>
      </div>
      {checkpoints.error ? <ErrorNotice error={checkpoints.error} /> : null}
      {best ? (
        <div className="row">
          {modelCid ? (
            <span className="small" data-testid="model-cid">
              Model <CopyableValue value={modelCid} display={shortCid(modelCid)} what="model CID" />
            </span>
          ) : (
            <button type="button" onClick={() => void doPublish()} disabled={publishState.isLoading}>
              {publishState.isLoading ? 'Publishing…' : `Publish to IPFS (step ${best.step})`}
            </button>
          )}
          {modelCid && lineages.length > 0 ? (
            <>
              <label className="row small">
                Lineage
                <select
                  value={lineage?.lineageId ?? ''}
                  onChange={(e) => setLineageId(Number(e.target.value))}
                >
                  {lineages.map((l) => (
                    <option key={l.lineageId} value={l.lineageId}>
                      {l.name}
                    </option>
                  ))}
                </select>
              </label>
              <button
                type="button"
                className="secondary"
                disabled={evalState.isLoading || !lineage}
                onClick={() =>
                  lineage &&
                  void evaluate({ model: { cid: modelCid }, text: { cid: lineage.evalDatasetCid } })
                }
              >
                {evalState.isLoading ? 'Evaluating…' : 'Evaluate'}
              </button>
              <button type="button" disabled={!me || startState.isLoading} onClick={() => void doClaim()}>
                Claim improvement
              </button>
            </>
          ) : null}
          {modelCid && lineages.length === 0 ? (
            <span className="muted small">
              No lineage yet: <a href={hrefFor('models', 'new-lineage')}>create one</a> to claim this model
              in.
            </span>
          ) : null}
        </div>
      ) : checkpoints.isLoading ? null : (
        <p className="muted small">No checkpoint yet.</p>
      )}
      {publishState.error ? <ErrorNotice error={publishState.error} /> : null}
      {evalState.error ? <ErrorNotice error={evalState.error} /> : null}
      {startState.error ? <ErrorNotice error={startState.error} /> : null}
      {evalState.data && lineage ? (
        <EvaluationSummary report={evalState.data.report} lineage={lineage} />
      ) : null}
    </div>
  );
}

export function EvaluationSummary({ report, lineage }: { report: EvaluationReport; lineage?: LineageView }) {
  const r = report.result;
  const score = lineage?.metricName.startsWith('top1') ? r.scores.top1_accuracy : r.scores.bits_per_byte;
  const toBeat = lineage?.scoreToBeat ?? null;
  const beats =
    lineage && toBeat !== null
      ? lineage.higherIsBetter
        ? BigInt(score) >= BigInt(toBeat)
        : BigInt(score) <= BigInt(toBeat)
      : null;
  return (
    <div className="evaluation" role="status" data-testid="evaluation">
      <dl className="kv">
        <dt>Bits per byte</dt>
        <dd>{r.metrics.bits_per_byte.toFixed(4)}</dd>
        <dt>Mean loss</dt>
        <dd>
          {r.metrics.mean_loss.toFixed(4)} (perplexity {r.metrics.perplexity.toFixed(2)})
        </dd>
        <dt>Top-1 accuracy</dt>
        <dd>{(r.metrics.top1_accuracy * 100).toFixed(2)} %</dd>
        <dt>Evaluated</dt>
        <dd>
          {r.tokens.toLocaleString('en')} tokens, {r.bytes.toLocaleString('en')} bytes in {r.windows} windows
          {r.truncated ? ' (capped)' : ''}
        </dd>
        {lineage ? (
          <>
            <dt>In “{lineage.name}”</dt>
            <dd>
              score {formatScore(score, lineage.metricName)}
              {toBeat !== null ? ` · needs ${formatScore(toBeat, lineage.metricName)} or better: ` : ''}
              {beats === null ? (
                ''
              ) : beats ? (
                <strong className="ok-text">an improvement</strong>
              ) : (
                <strong className="error-text">not enough</strong>
              )}
            </dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}
