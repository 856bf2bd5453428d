import type { evalRequests } from '../../shared/api/eval.ts';
import type { IpfsService } from '../ipfs/ipfsService.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { ProofServices } from '../claims/proofServices.ts';
import type { JobManager } from '../services/jobs.ts';
import { EvalFailure } from './evalService.ts';

export function evalHandlers(
  proof: () => ProofServices,
  jobs: JobManager,
  /** Kept for the registry's call; publishing goes through the EvalService, which holds the IPFS node. */
  _ipfs?: () => IpfsService,
): HandlersFor<typeof evalRequests> {
  return {
    'eval.run': (p) =>
      jobs.run('eval.run', 'Evaluate a model', async (job) => {
        const { report, reportCid } = await proof().eval.evaluate({
          model: p.model,
          text: p.text,
          maxTokens: p.maxTokens,
          publish: p.publish,
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        });
        return { report, reportCid };
      }),
    // The UI's "Publish to IPFS" (issue 7): the pipeline's train → publish outputs, for one checkpoint.
    'eval.publish': (p) =>
      jobs.run('eval.publish', 'Publish a model to IPFS', (job) =>
        proof().eval.publishCheckpoint(p, {
          signal: job.signal,
          onProgress: (stage, done, total, unit) => job.progress({ stage, done, total, unit }),
        }),
      ),
    'eval.report': ({ cid }) => proof().eval.getReport(cid),
    'eval.inspect': async ({ model }) => {
      try {
        const r = await proof().eval.inspect(model);
        return { ok: true, card: r.card, tokenizerSha256: r.tokenizerSha256, facts: r.facts, refusal: null };
      } catch (e) {
        if (e instanceof EvalFailure && e.reason !== 'missing-content') {
          return {
            ok: false,
            card: null,
            tokenizerSha256: null,
            facts: null,
            refusal: { reason: e.detail ?? e.reason, message: e.message },
          };
        }
        throw e;
      }
    },
    'eval.hold': ({ file }) => proof().eval.hold(file),
  };
}
