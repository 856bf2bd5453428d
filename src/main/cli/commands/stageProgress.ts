import type { JobProgress } from '../../../shared/api/jobs.ts';
import type { CliApp } from '../cliApp.ts';
import { ProgressBar } from '../progress.ts';

/**
 * Progress of multi-stage jobs (pipelines, the demo, claims): one bar per stage, so each stage's ETA is
 * measured from its own start, and a plain line for steps without a known total ("starting the chain").
 * Everything goes to stderr; stdout stays clean for --json.
 */
export async function withStageProgress<T>(
  app: CliApp,
  work: () => Promise<T>,
  opts: { json?: boolean } = {},
): Promise<T> {
  const enabled = !opts.json;
  let bar: ProgressBar | null = null;
  let stage = '';
  let lastLine = '';
  const off = app.client.on('job.progress', (p: JobProgress) => {
    if (!enabled) return;
    if (p.stage !== stage) {
      bar?.done();
      bar = null;
      stage = p.stage;
    }
    if (p.total === null) {
      const line = `${p.stage}${p.message ? `: ${p.message}` : ''}`;
      if (line !== lastLine) {
        bar?.done();
        bar = null;
        process.stderr.write(`${line}\n`);
        lastLine = line;
      }
      return;
    }
    bar ??= new ProgressBar(process.stderr, true);
    bar.fromJob(p);
  });
  try {
    return await work();
  } finally {
    off();
    (bar as ProgressBar | null)?.done();
  }
}
