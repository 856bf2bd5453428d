import type { RunSummary } from '../../../../shared/api/runs.ts';

export interface DeviceSpeed {
  device: string;
  tokensPerSec: number;
  runName: string;
  /** Preset or layer × width, so speeds of different models are not compared blindly. */
  model: string;
  updatedAt: string;
}

/** Per device a run trained on, the most recently updated run's last measured tokens/s. */
export function lastSpeedPerDevice(runs: readonly RunSummary[]): DeviceSpeed[] {
  const best = new Map<string, DeviceSpeed>();
  for (const r of runs) {
    const device = r.device.used;
    const tps = r.lastMetric?.tokensPerSec;
    if (!device || !tps || !Number.isFinite(tps)) continue;
    const cur = best.get(device);
    if (cur && cur.updatedAt >= r.updatedAt) continue;
    best.set(device, {
      device,
      tokensPerSec: tps,
      runName: r.name,
      model: r.preset ?? `${r.config.model.nLayer} × ${r.config.model.nEmbd}`,
      updatedAt: r.updatedAt,
    });
  }
  return [...best.values()].sort((a, b) => a.device.localeCompare(b.device));
}
