import type { datasetsRequests } from '../../shared/api/datasets.ts';
import type { HandlersFor } from '../rpc/dispatcher.ts';
import type { DatasetsService } from './datasetsService.ts';

export function datasetsHandlers(datasets: DatasetsService): HandlersFor<typeof datasetsRequests> {
  return {
    'datasets.prepare': (params) => datasets.prepare(params),
    'datasets.list': () => datasets.list(),
    'datasets.get': ({ id }) => datasets.get(id),
    'datasets.publish': ({ id }) => datasets.publish(id),
    'datasets.delete': ({ id }) => datasets.delete(id),
    'datasets.tokenize': (params) => datasets.tokenize(params),
    'datasets.inspect': (params) => datasets.inspect(params),
  };
}
