import type { ApiIssue } from '../../../../shared/api/errors.ts';
import type { Pipeline } from '../../../../shared/pipelines/pipeline.ts';
import { STAGE_TITLES, stageSettings } from './pipelineView.ts';

/** Each stage of a valid pipeline with its settings, defaults filled in. */
export function PipelineStages({ pipeline }: { pipeline: Pipeline }) {
  return (
    <>
      <h3 id="pipeline-stages-title">Stages</h3>
      <ol className="cards plain-list" aria-labelledby="pipeline-stages-title">
        {stageSettings(pipeline).map(({ stage, settings }, i) => (
          <li key={stage} className="card" data-stage={stage}>
            <h4>
              {i + 1}. {STAGE_TITLES[stage]}
            </h4>
            <dl className="kv small">
              {settings.map((s) => (
                <div className="kv-row" key={s.label}>
                  <dt>{s.label}</dt>
                  <dd>{s.mono ? <code>{s.value}</code> : s.value}</dd>
                </div>
              ))}
            </dl>
          </li>
        ))}
      </ol>
      {pipeline.stages.claim ? null : (
        <p className="muted small">
          No claim stage: once the pipeline has run, claim its model below with your wallet.
        </p>
      )}
    </>
  );
}

/** Why a pipeline file is refused, field by field (paths as in the file, e.g. stages.train.iters). */
export function PipelineIssues({ issues }: { issues: ApiIssue[] }) {
  return (
    <div className="state state-error" role="alert" data-testid="pipeline-invalid">
      <strong>
        This pipeline file is not valid: fix {issues.length === 1 ? 'this field' : 'these fields'}, then
        choose the file again.
      </strong>
      <ul className="problems">
        {issues.map((issue, i) => (
          <li key={i}>
            <code>{issue.path || 'the file'}</code>: {issue.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
