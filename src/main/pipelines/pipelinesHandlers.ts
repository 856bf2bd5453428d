import type { pipelinesRequests } from '../../shared/api/pipelines.ts';
import type { ChainService } from '../chain/chainService.ts';
import type { ProofServices } from '../claims/proofServices.ts';
import { runDemo } from '../demo/demo.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { JobManager } from '../services/jobs.ts';
import { examplePipelineFile } from './examplePipeline.ts';

export function pipelinesHandlers(
  proof: () => ProofServices,
  chain: () => ChainService,
  jobs: JobManager,
  dataDir: string,
): HandlersFor<typeof pipelinesRequests> {
  return {
    'pipelines.validate': ({ source }) => proof().pipelines.load(source).pipeline,
    'pipelines.run': ({ source, force, until }) =>
      proof().pipelines.run(source, { force, ...(until ? { until } : {}) }),
    'pipelines.example': () => ({ file: examplePipelineFile() }),
    'demo.run': ({ iters, input, force }) =>
      jobs.run('demo.run', 'XAI-Link demo', (job) =>
        runDemo(proof(), chain(), dataDir, {
          iters,
          ...(input ? { input } : {}),
          force,
          signal: job.signal,
          onProgress: (stage, done, total, unit, message) =>
            job.progress({ stage, done, total, unit, ...(message ? { message } : {}) }),
        }),
      ),
  };
}
