import { describe, expect, it } from 'vitest';
import { deviceSpans } from './runs.ts';

describe('deviceSpans', () => {
  it('joins consecutive steps on one device and starts a span where a resumed run changed device', () => {
    const m = (step: number, device?: string) => ({ kind: 'train', step, device });
    expect(
      deviceSpans([
        m(1, 'cpu'),
        m(2, 'cpu'),
        { kind: 'eval', step: 2 },
        m(3, 'webgpu'),
        m(4, 'webgpu'),
        m(5),
      ]),
    ).toEqual([
      { device: 'cpu', from: 1, to: 2 },
      { device: 'webgpu', from: 3, to: 4 },
    ]);
    expect(deviceSpans([m(1), m(2)])).toEqual([]);
  });
});
