import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../../shared/api/runs.ts';
import { lastSpeedPerDevice } from './measuredSpeed.ts';

const run = (name: string, used: string | null, tps: number | null, updatedAt: string) =>
  ({
    name,
    preset: 'baby',
    config: { model: { nLayer: 6, nEmbd: 384 } },
    device: { requested: 'auto', used, threads: null, message: '' },
    lastMetric: tps === null ? null : { tokensPerSec: tps },
    updatedAt,
  }) as unknown as RunSummary;

describe('lastSpeedPerDevice', () => {
  it('keeps the most recent run per device and skips runs that never trained', () => {
    const rows = lastSpeedPerDevice([
      run('old gpu', 'webgpu', 40_000, '2026-12-01'),
      run('new gpu', 'webgpu', 53_000, '2026-12-04'),
      run('cpu', 'cpu', 3_700, '2026-12-02'),
      run('never started', null, null, '2026-12-05'),
    ]);
    expect(rows.map((r) => [r.device, r.tokensPerSec, r.runName])).toEqual([
      ['cpu', 3_700, 'cpu'],
      ['webgpu', 53_000, 'new gpu'],
    ]);
  });
});
