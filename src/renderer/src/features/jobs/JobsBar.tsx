import { client } from '../../api/client.ts';
import { useAppSelector } from '../../app/hooks.ts';

/** Running jobs of any kind, with progress and a cancel button, docked at the bottom of every page. */
export function JobsBar() {
  const running = useAppSelector((s) => Object.values(s.jobs.running));
  if (running.length === 0) return null;
  return (
    <aside className="jobs-bar" aria-label="Running jobs">
      {running.map((job) => {
        const pct = job.total ? Math.min(100, (job.done / job.total) * 100) : null;
        return (
          <div className="job" key={job.jobId}>
            <span className="job-title">{job.title}</span>
            <span className="muted small">{job.stage}</span>
            <progress max={100} value={pct ?? undefined} aria-label={`${job.title} progress`} />
            <button type="button" onClick={() => void client.invoke('jobs.cancel', { jobId: job.jobId })}>
              Cancel
            </button>
          </div>
        );
      })}
    </aside>
  );
}
