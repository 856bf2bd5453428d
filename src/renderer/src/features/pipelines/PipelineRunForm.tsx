import { useId, useState } from 'react';
import type { Pipeline, StageName } from '../../../../shared/pipelines/pipeline.ts';
import { useAppSelector } from '../../app/hooks.ts';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { useRunPipelineMutation } from './pipelinesApi.ts';
import { recordPipelineRun } from './pipelineSession.ts';
import { liveStages, pipelineJobTitle, STAGE_TITLES, stopAfterChoices } from './pipelineView.ts';

/** Runs the pipeline (a job) with its options, and shows which stage it is at while it runs. */
export function PipelineRunForm({ pipeline, file }: { pipeline: Pipeline; file: string }) {
  const id = useId();
  const [force, setForce] = useState(false);
  const [until, setUntil] = useState<StageName | ''>('');
  const [run, runState] = useRunPipelineMutation();
  const job = useAppSelector((s) =>
    Object.values(s.jobs.running).find(
      (j) => j.kind === 'pipelines.run' && j.title === pipelineJobTitle(pipeline.name),
    ),
  );
  const busy = runState.isLoading || job !== undefined;
  const choices = stopAfterChoices(pipeline);

  const start = () => {
    // Recorded even when the user has left this view meanwhile: the result is what a claim needs.
    run({ source: { file }, force, ...(until ? { until } : {}) })
      .unwrap()
      .then((result) => recordPipelineRun({ file, result, finishedAt: Date.now() }))
      .catch(() => {
        // shown from runState.error
      });
  };

  return (
    <>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          start();
        }}
      >
        <label className="checkbox">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> re-run every
          stage (ignore the cache)
        </label>
        <label htmlFor={`${id}-until`}>Stop after</label>
        <select id={`${id}-until`} value={until} onChange={(e) => setUntil(e.target.value as StageName | '')}>
          <option value="">the last stage (run them all)</option>
          {choices.map((s) => (
            <option key={s} value={s}>
              {STAGE_TITLES[s]}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          {busy ? 'Running…' : 'Run pipeline'}
        </button>
      </form>
      {job ? (
        <ol className="steps" aria-label="Progress of the run">
          {liveStages(pipeline, until || undefined, job.stage).map(({ stage, state }, i) => (
            <li
              key={stage}
              className={`step step-${state}`}
              aria-current={state === 'current' ? 'step' : undefined}
              data-stage={stage}
            >
              <span className="step-num" aria-hidden="true">
                {state === 'done' ? '✓' : i + 1}
              </span>
              {STAGE_TITLES[stage]}
              <span className="visually-hidden">
                {state === 'done' ? ' (done)' : state === 'current' ? ' (running)' : ''}
              </span>
            </li>
          ))}
        </ol>
      ) : null}
      <InlineJobProgress kind="pipelines.run" />
      {runState.error ? <ErrorNotice error={runState.error} /> : null}
    </>
  );
}
