import { FilePicker } from '../../components/FilePicker.tsx';
import { ErrorNotice } from '../../components/StatusViews.tsx';
import { useLazyExamplePipelineQuery } from './pipelinesApi.ts';
import { choosePipeline, type ChosenPipeline } from './pipelineSession.ts';

/** Choose the pipeline file: pick or drop one, type its path, or start from the example. */
export function PipelineFileCard({ chosen }: { chosen: ChosenPipeline | null }) {
  const [loadExample, example] = useLazyExamplePipelineQuery();
  return (
    <article className="card" aria-labelledby="pipeline-file-title">
      <h2 id="pipeline-file-title">Choose a pipeline</h2>
      <p className="muted small">
        A pipeline file (JSON) says how a model version is made: prepare the data, train, evaluate, publish to
        IPFS and, optionally, claim it in a lineage. Each stage’s inputs and outputs are content-addressed, so
        running it again skips every stage whose inputs did not change. Relative paths in the file are
        relative to its folder; a file chosen in a browser is uploaded to the machine running XAI-Link on its
        own, so give its inputs as absolute paths there, or type the file’s own path instead.
      </p>
      <FilePicker
        label="Pipeline file"
        accept=".json,application/json"
        onPicked={(files) => {
          const f = files[0];
          if (f) choosePipeline({ file: f.path, name: f.name });
        }}
      />
      <div className="row">
        <button
          type="button"
          className="secondary"
          disabled={example.isFetching}
          onClick={() =>
            void loadExample(undefined)
              .unwrap()
              .then(({ file }) => choosePipeline({ file, name: 'the example pipeline' }))
              .catch(() => {
                // shown from example.error
              })
          }
        >
          Start from the example
        </button>
        <span className="muted small">
          docs/examples/pipeline.json: a small character-level GPT on the bundled tiny-shakespeare
        </span>
      </div>
      {example.error ? <ErrorNotice error={example.error} /> : null}
      {chosen ? (
        <p className="small" data-testid="chosen-pipeline">
          Chosen: <strong>{chosen.name}</strong> <code title={chosen.file}>{chosen.file}</code>
        </p>
      ) : null}
    </article>
  );
}
