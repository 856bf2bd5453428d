import { Loading, ErrorNotice } from '../../components/StatusViews.tsx';
import { PipelineRunForm } from './PipelineRunForm.tsx';
import { PipelineIssues, PipelineStages } from './PipelineStages.tsx';
import { useValidatePipelineQuery } from './pipelinesApi.ts';
import type { ChosenPipeline } from './pipelineSession.ts';
import { pipelineIssues } from './pipelineView.ts';

/** The chosen file, checked against the pipeline schema: its stages and the run form, or what to fix. */
export function PipelineCheckCard({ chosen }: { chosen: ChosenPipeline }) {
  // Checked each time the view opens: a file given by path may have been edited since.
  const check = useValidatePipelineQuery({ file: chosen.file }, { refetchOnMountOrArgChange: true });
  const issues = pipelineIssues(check.error);
  const pipeline = check.isSuccess ? check.data : undefined;
  return (
    <article className="card" aria-labelledby="pipeline-check-title" aria-busy={check.isFetching}>
      <div className="card-head">
        <h2 id="pipeline-check-title">
          {pipeline ? `Pipeline “${pipeline.name}”` : `Checking ${chosen.name}`}
        </h2>
        <button
          type="button"
          className="secondary small-button"
          disabled={check.isFetching}
          onClick={() => void check.refetch()}
        >
          Check again
        </button>
      </div>
      {check.isLoading ? <Loading what="the pipeline" /> : null}
      {issues ? (
        <PipelineIssues issues={issues} />
      ) : check.isError ? (
        <ErrorNotice error={check.error} />
      ) : null}
      {pipeline ? (
        <>
          {pipeline.description ? <p>{pipeline.description}</p> : null}
          <PipelineStages pipeline={pipeline} />
          <PipelineRunForm pipeline={pipeline} file={chosen.file} />
        </>
      ) : null}
    </article>
  );
}
