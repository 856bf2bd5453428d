import { client } from '../../api/client.ts';
import { useAppSelector } from '../../app/hooks.ts';
import { formatBytes, formatCount } from '../../util/format.ts';

/** Formats a job's done/total in its unit ("12.0 MiB of 40.0 MiB", "300 of 2,000 steps"). */
export function jobAmount(done: number, total: number | null, unit: string): string {
  const fmt = unit === 'bytes' ? formatBytes : (n: number) => `${formatCount(n)}${unit ? ` ${unit}` : ''}`;
  return total === null ? fmt(done) : `${fmt(done)} of ${fmt(total)}`;
}

/**
 * The progress of the running job(s) of one kind (e.g. "datasets.prepare"), shown where the user started
 * it, with a Cancel button. The jobs bar at the bottom shows the same for every page.
 */
export function InlineJobProgress({ kind, label }: { kind: string; label?: string }) {
  const jobs = useAppSelector((s) => Object.values(s.jobs.running).filter((j) => j.kind === kind));
  if (jobs.length === 0) return null;
  return (
    <div className="inline-jobs">
      {jobs.map((job) => {
        const pct = job.total ? Math.min(100, (job.done / job.total) * 100) : undefined;
        return (
          <div key={job.jobId} className="inline-job" role="status" aria-live="polite">
            <div className="inline-job-head">
              <strong>{label ?? job.title}</strong>
              <span className="muted small">
                {job.stage}
                {job.total !== null || job.done > 0 ? ` · ${jobAmount(job.done, job.total, job.unit)}` : ''}
              </span>
            </div>
            <progress max={100} value={pct} aria-label={`${label ?? job.title} progress`} />
            {job.message ? <span className="muted small">{job.message}</span> : null}
            <button
              type="button"
              className="secondary small-button"
              onClick={() => void client.invoke('jobs.cancel', { jobId: job.jobId })}
            >
              Cancel
            </button>
          </div>
        );
      })}
    </div>
  );
}
