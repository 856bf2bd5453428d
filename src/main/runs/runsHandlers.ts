import type { runsRequests } from '../../shared/api/runs.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { RunsService } from './runsService.ts';

export function runsHandlers(runs: () => RunsService): HandlersFor<typeof runsRequests> {
  return {
    'runs.presets': () => runs().presets(),
    'runs.create': (p) => runs().create(p),
    'runs.list': () => runs().list(),
    'runs.get': ({ runId }) => runs().get(runId),
    'runs.pause': ({ runId }) => runs().pause(runId),
    'runs.resume': ({ runId, device, precision, maxIters, data }) =>
      runs().resume(runId, { device, precision, maxIters, data }),
    'runs.stop': ({ runId }) => runs().stop(runId),
    'runs.checkpoints': ({ runId }) => runs().checkpoints(runId),
    'runs.sample': (p) => runs().sample(p),
    'runs.export': (p) => runs().export(p),
    'runs.import': (p) => runs().import(p),
  };
}
