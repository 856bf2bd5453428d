import { describe, expect, it } from 'vitest';
import { SeriesTable } from './seriesTable.ts';

describe('SeriesTable', () => {
  it('appends rows and keeps sparse series empty where they have no value', () => {
    const t = new SeriesTable(['loss', 'val']);
    t.append(0, { loss: 4 });
    t.append(1, { loss: 3, val: 3.5 });
    t.append(2, { loss: 2 });
    expect(t.x).toEqual([0, 1, 2]);
    expect(t.column('loss')).toEqual([4, 3, 2]);
    expect(t.column('val')).toEqual([null, 3.5, null]);
    expect(t.last('val')).toBe(3.5);
    expect(t.min('loss')).toEqual({ x: 2, value: 2 });
  });

  it('hands out the same arrays after appending (no copy)', () => {
    const t = new SeriesTable(['loss']);
    const x = t.x;
    const col = t.column('loss');
    for (let i = 0; i < 1000; i++) t.append(i, { loss: i });
    expect(t.x).toBe(x);
    expect(t.column('loss')).toBe(col);
  });

  it('merges a value into the row of the same x', () => {
    const t = new SeriesTable(['loss', 'val']);
    t.append(10, { loss: 2 });
    t.append(10, { val: 2.5 });
    expect(t.length).toBe(1);
    expect(t.column('val')).toEqual([2.5]);
  });

  it('drops the replayed tail when a resumed run logs earlier steps again', () => {
    const t = new SeriesTable(['loss']);
    for (let i = 0; i < 10; i++) t.append(i, { loss: 10 - i });
    t.append(5, { loss: 7 });
    expect(t.x).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.column('loss').at(-1)).toBe(7);
  });

  it('smooths with a debiased exponential moving average, incrementally and on demand', () => {
    const t = new SeriesTable(['loss']);
    t.setSmoothing(0.5);
    t.append(0, { loss: 4 });
    t.append(1, { loss: 2 });
    // debiased EMA: first value is the value itself; second (0.5*4*0.5 + 0.5*2) / (1 - 0.25)
    expect(t.smoothedColumn('loss')[0]).toBeCloseTo(4);
    expect(t.smoothedColumn('loss')[1]).toBeCloseTo((0.5 * 0.5 * 4 + 0.5 * 2) / 0.75);
    const incremental = [...t.smoothedColumn('loss')];
    t.setSmoothing(0);
    t.setSmoothing(0.5);
    expect(t.smoothedColumn('loss')).toEqual(incremental);
  });

  it('notifies subscribers on every change', () => {
    const t = new SeriesTable(['loss']);
    let calls = 0;
    const off = t.subscribe(() => calls++);
    t.append(0, { loss: 1 });
    t.append(1, { loss: 1 });
    off();
    t.append(2, { loss: 1 });
    expect(calls).toBe(2);
  });

  it('treats NaN and infinities as missing', () => {
    const t = new SeriesTable(['loss']);
    t.append(0, { loss: Number.NaN });
    t.append(1, { loss: Number.POSITIVE_INFINITY });
    expect(t.column('loss')).toEqual([null, null]);
  });
});

describe('SeriesTable.set', () => {
  it('merges into an existing row or inserts in order, dropping nothing', () => {
    const t = new SeriesTable(['loss', 'val']);
    t.append(1, { loss: 3 });
    t.append(3, { loss: 2 });
    t.set(3, { val: 2.5 });
    t.set(2, { val: 2.7 });
    expect(t.x).toEqual([1, 2, 3]);
    expect(t.column('loss')).toEqual([3, null, 2]);
    expect(t.column('val')).toEqual([null, 2.7, 2.5]);
  });
});
