import type { JobProgress } from '../../shared/api/jobs.ts';

/**
 * A one-line progress bar on stderr (stdout stays clean for --json and for piping).
 * On a terminal it redraws in place; otherwise it prints a line per stage and every 10%.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #tty: boolean;
  /** ETA is measured from the start of the current stage: stages of one job progress at different rates. */
  #stageStarted = Date.now();
  #lastDecile = -1;
  #lastStage = '';
  #lastDraw = 0;
  #active = false;

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled = true) {
    this.#stream = stream;
    this.#enabled = enabled;
    this.#tty = enabled && Boolean(stream.isTTY);
  }

  update(stage: string, done: number, total: number | null, unit = '', extra = ''): void {
    if (!this.#enabled) return;
    if (stage !== this.#lastStage) this.#stageStarted = Date.now();
    const fraction = total && total > 0 ? Math.min(1, done / total) : null;
    if (!this.#tty) {
      const decile = fraction === null ? -1 : Math.floor(fraction * 10);
      if (stage !== this.#lastStage || decile > this.#lastDecile) {
        this.#lastStage = stage;
        this.#lastDecile = decile;
        this.#stream.write(`${this.#line(stage, done, total, unit, fraction, extra)}\n`);
      }
      return;
    }
    const now = Date.now();
    if (now - this.#lastDraw < 80 && fraction !== 1 && stage === this.#lastStage) return;
    this.#lastDraw = now;
    this.#lastStage = stage;
    this.#active = true;
    const width = this.#stream.columns ?? 100;
    this.#stream.write(
      `\r\x1b[2K${this.#line(stage, done, total, unit, fraction, extra).slice(0, width - 1)}`,
    );
  }

  fromJob(p: JobProgress): void {
    this.update(p.stage, p.done, p.total, p.unit, p.message ?? '');
  }

  /** Ends the bar's line so later output starts clean. */
  done(message?: string): void {
    if (this.#tty && this.#active) this.#stream.write('\r\x1b[2K');
    this.#active = false;
    if (message) this.#stream.write(`${message}\n`);
  }

  #line(
    stage: string,
    done: number,
    total: number | null,
    unit: string,
    fraction: number | null,
    extra: string,
  ): string {
    const barWidth = 24;
    const bar =
      fraction === null ? '' : `[${'#'.repeat(Math.round(fraction * barWidth)).padEnd(barWidth, '.')}] `;
    const count = total === null ? `${fmt(done)} ${unit}` : `${fmt(done)}/${fmt(total)} ${unit}`;
    const pct = fraction === null ? '' : ` ${(fraction * 100).toFixed(0)}%`;
    const elapsed = (Date.now() - this.#stageStarted) / 1000;
    const eta =
      fraction && fraction > 0 && fraction < 1
        ? ` ETA ${formatDuration((elapsed / fraction) * (1 - fraction))}`
        : '';
    return `${stage} ${bar}${count.trim()}${pct}${eta}${extra ? `  ${extra}` : ''}`;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
