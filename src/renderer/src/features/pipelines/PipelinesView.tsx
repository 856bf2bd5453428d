import { InlineJobProgress } from '../jobs/InlineJobProgress.tsx';
import { PipelineCheckCard } from './PipelineCheckCard.tsx';
import { PipelineFileCard } from './PipelineFileCard.tsx';
import { PipelineResultCard } from './PipelineResultCard.tsx';
import { usePipelineSession } from './pipelineSession.ts';

/**
 * #/models/pipelines: run a pipeline file (prepare → train → evaluate → publish → claim) with the runner
 * the CLI's `xai-link run` uses: choose the file, check it, run it stage by stage, read what each stage
 * did and produced, and claim the model with the pipeline's CID in its metadata.
 */
export function PipelinesView() {
  const { chosen, lastRun } = usePipelineSession();
  return (
    <>
      <PipelineFileCard chosen={chosen} />
      {chosen ? (
        <PipelineCheckCard key={chosen.file} chosen={chosen} />
      ) : (
        // A run started before a reload still shows its progress.
        <InlineJobProgress kind="pipelines.run" label="Running a pipeline" />
      )}
      {lastRun ? <PipelineResultCard run={lastRun} /> : null}
    </>
  );
}
