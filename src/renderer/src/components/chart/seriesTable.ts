/**
 * An append-only table of chart data, shaped the way uPlot draws it (one x column, one column per
 * series, all the same length), kept in plain arrays that only ever grow at the end: appending a point
 * is a push (amortised O(1), no copy of what is there), and the chart is handed the very same arrays
 * (no copy either). A series that has no value at some x (the validation loss, measured every few
 * hundred steps) holds null there, which uPlot skips (`spanGaps` joins its points).
 *
 * x must grow. A point with the last row's x is merged into that row (the validation loss of the step
 * whose training metrics just came). A point below it is a replay (a run resumed from an earlier
 * checkpoint logs those steps again): the rows from x on are dropped first, so the chart shows the run as
 * it is now, not twice.
 *
 * Smoothing (exponential moving average, debiased as TensorBoard does) is kept per series, computed
 * incrementally as points arrive; changing the weight recomputes it once.
 */
export type Column = (number | null)[];

export class SeriesTable {
  readonly keys: readonly string[];
  readonly x: number[] = [];
  readonly #columns: Column[];
  readonly #smoothed: Column[];
  /** Per series: [EMA accumulator, number of values seen] after the last row. */
  #emaState: { acc: number; count: number }[];
  #weight = 0;
  /** Bumped on every change; charts redraw when it moves. */
  version = 0;
  readonly #listeners = new Set<() => void>();

  constructor(keys: readonly string[]) {
    this.keys = keys;
    this.#columns = keys.map(() => []);
    this.#smoothed = keys.map(() => []);
    this.#emaState = keys.map(() => ({ acc: 0, count: 0 }));
  }

  /** Called after every change (charts schedule a redraw; cheap enough to run per point). */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.version++;
    for (const l of this.#listeners) l();
  }

  get length(): number {
    return this.x.length;
  }

  column(key: string): Column {
    return this.#columns[this.#index(key)]!;
  }

  smoothedColumn(key: string): Column {
    return this.#smoothed[this.#index(key)]!;
  }

  get smoothingWeight(): number {
    return this.#weight;
  }

  /** 0 = raw values, 0.99 = very smooth. */
  setSmoothing(weight: number): void {
    const w = Math.min(Math.max(weight, 0), 0.999);
    if (w === this.#weight) return;
    this.#weight = w;
    for (let s = 0; s < this.keys.length; s++) this.#recomputeSmoothing(s);
    this.#changed();
  }

  /** Adds the values of one x (keys not given stay empty at this x). */
  append(x: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const n = this.x.length;
    if (n > 0 && x === this.x[n - 1]) {
      this.#merge(n - 1, values);
      return;
    }
    if (n > 0 && x < this.x[n - 1]!) this.truncate(lowerBound(this.x, x));
    this.x.push(x);
    for (let s = 0; s < this.keys.length; s++) {
      const v = values[this.keys[s]!];
      const value = v === undefined || v === null || !Number.isFinite(v) ? null : v;
      this.#columns[s]!.push(value);
      this.#smoothed[s]!.push(this.#smoothNext(s, value));
    }
    this.#changed();
  }

  /**
   * Puts values at x without dropping anything: merged into the row of that x, or a row inserted in
   * order (for sparse series whose points may arrive after later dense points). Insertion in the middle
   * copies the tail, so it is meant for the occasional point, not for streams.
   */
  set(x: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const n = this.x.length;
    if (n === 0 || x > this.x[n - 1]!) {
      this.append(x, values);
      return;
    }
    const at = lowerBound(this.x, x);
    if (this.x[at] === x) {
      this.#merge(at, values);
      return;
    }
    this.x.splice(at, 0, x);
    for (let s = 0; s < this.keys.length; s++) {
      const v = values[this.keys[s]!];
      this.#columns[s]!.splice(at, 0, v === undefined || v === null || !Number.isFinite(v) ? null : v);
      this.#smoothed[s]!.splice(at, 0, null);
      this.#recomputeSmoothing(s);
    }
    this.#changed();
  }

  /** Appends many rows at once (history loaded from main); same rules as append. */
  appendMany(
    rows: Iterable<{ x: number; values: Readonly<Record<string, number | null | undefined>> }>,
  ): void {
    for (const row of rows) this.append(row.x, row.values);
  }

  /** Drops the rows from index `at` on. */
  truncate(at: number): void {
    if (at >= this.x.length) return;
    this.x.length = at;
    for (let s = 0; s < this.keys.length; s++) {
      this.#columns[s]!.length = at;
      this.#smoothed[s]!.length = at;
      this.#recomputeSmoothing(s);
    }
    this.#changed();
  }

  clear(): void {
    this.truncate(0);
  }

  /** The last non-empty value of a series, or null. */
  last(key: string): number | null {
    const col = this.column(key);
    for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null) return col[i]!;
    return null;
  }

  /** The row index and value of a series' minimum, or null when it is empty. */
  min(key: string): { x: number; value: number } | null {
    const col = this.column(key);
    let best: { x: number; value: number } | null = null;
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v !== null && v !== undefined && (best === null || v < best.value))
        best = { x: this.x[i]!, value: v };
    }
    return best;
  }

  #index(key: string): number {
    const i = this.keys.indexOf(key);
    if (i < 0) throw new Error(`unknown series "${key}"`);
    return i;
  }

  #merge(row: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const lastRow = row === this.x.length - 1;
    for (let s = 0; s < this.keys.length; s++) {
      const v = values[this.keys[s]!];
      if (v === undefined || v === null || !Number.isFinite(v)) continue;
      const hadValue = this.#columns[s]![row] !== null;
      this.#columns[s]![row] = v;
      if (lastRow && !hadValue) {
        // The common case (a validation loss joining the step's training metrics): one more EMA step.
        this.#smoothed[s]![row] = this.#smoothNext(s, v);
      } else {
        this.#recomputeSmoothing(s);
      }
    }
    this.#changed();
  }

  #smoothNext(s: number, value: number | null): number | null {
    if (value === null) return null;
    const st = this.#emaState[s]!;
    const w = this.#weight;
    if (w === 0) return value;
    st.acc = st.acc * w + (1 - w) * value;
    st.count++;
    return st.acc / (1 - w ** st.count);
  }

  #recomputeSmoothing(s: number): void {
    this.#emaState[s] = { acc: 0, count: 0 };
    const col = this.#columns[s]!;
    const out = this.#smoothed[s]!;
    out.length = col.length;
    for (let i = 0; i < col.length; i++) out[i] = this.#smoothNext(s, col[i] ?? null);
  }
}

/** First index whose value is >= x (arr sorted ascending). */
export function lowerBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
