import type { RunStatus, RunSummary } from '../../../../shared/api/runs.ts';
import { useAppSelector } from '../../app/hooks.ts';
import { formatDuration } from '../../util/format.ts';

const TONE: Record<RunStatus, string> = {
  created: 'badge-neutral',
  starting: 'badge-info',
  running: 'badge-info',
  paused: 'badge-warn',
  stopping: 'badge-warn',
  completed: 'badge-ok',
  stopped: 'badge-neutral',
  failed: 'badge-no',
  interrupted: 'badge-warn',
};

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <span className={`badge ${TONE[status]}`} data-status={status}>
      {status}
    </span>
  );
}

export const isActive = (s: RunStatus): boolean => s === 'starting' || s === 'running' || s === 'stopping';
export const canPause = (s: RunStatus): boolean => s === 'running';
export const canResume = (s: RunStatus): boolean =>
  s === 'created' || s === 'paused' || s === 'stopped' || s === 'interrupted' || s === 'failed';
export const canStop = (s: RunStatus): boolean => s === 'running' || s === 'paused' || s === 'starting';

/** The run as the events last described it (falls back to the fetched summary). */
export function useLiveRun(run: RunSummary | undefined): RunSummary | undefined {
  const live = useAppSelector((s) => (run ? s.runs.summaries[run.id] : undefined));
  if (!run) return undefined;
  if (!live) return run;
  // Whichever is newer wins (a refetch after the event carries the same or later state).
  return Date.parse(live.updatedAt) >= Date.parse(run.updatedAt) || live.step > run.step ? live : run;
}

export function etaText(run: RunSummary): string {
  const m = run.lastMetric;
  if (!isActive(run.status) || !m || m.etaMs === null) return '—';
  return formatDuration(m.etaMs / 1000);
}
