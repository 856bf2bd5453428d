import { CompareRuns } from './CompareRuns.tsx';
import { NewRunForm } from './NewRunForm.tsx';
import { RunDetail } from './RunDetail.tsx';
import { RunList } from './RunList.tsx';

/** #/runs, #/runs/new[/<dataset>], #/runs/compare/<id>,<id>, #/runs/<id> */
export function RunsPage({ rest }: { rest: string[] }) {
  const [first, second] = rest;
  if (!first) return <RunList />;
  if (first === 'new') return <NewRunForm datasetId={second} />;
  if (first === 'compare') return <CompareRuns runIds={(second ?? '').split(',').filter(Boolean)} />;
  return <RunDetail runId={first} />;
}
