import type { SystemStats } from '../../../../shared/api/system.ts';
import { formatBytes } from '../../util/format.ts';
import { cpuLoadText, gpuText, percentText } from './liveReadings.ts';

/**
 * The rows of live readings, to place inside a `<dl className="kv">`: machine CPU load, the app's own
 * CPU use, machine memory, and each NVIDIA GPU (or, muted, why there are none).
 */
export function LiveReadingRows({ stats, appMemory = false }: { stats: SystemStats; appMemory?: boolean }) {
  return (
    <>
      <dt>CPU load</dt>
      <dd>{cpuLoadText(stats.cpu)}</dd>
      <dt>XAI-Link CPU</dt>
      <dd>
        {percentText(stats.process.cpuPercent)} <span className="muted">of one core, training included</span>
      </dd>
      {appMemory ? (
        <>
          <dt>XAI-Link memory</dt>
          <dd>{formatBytes(stats.process.rssBytes)}</dd>
        </>
      ) : null}
      <dt>Machine memory</dt>
      <dd>
        {formatBytes(stats.memory.totalBytes - stats.memory.freeBytes)} used of{' '}
        {formatBytes(stats.memory.totalBytes)}
      </dd>
      {stats.gpus.length > 0 ? (
        stats.gpus.map((g) => [
          <dt key={`t${g.index}`}>GPU {g.index}</dt>,
          <dd key={`d${g.index}`} data-gpu={g.index}>
            {gpuText(g)}
          </dd>,
        ])
      ) : (
        <>
          <dt>GPU</dt>
          <dd className="muted">{stats.gpuNote ?? 'no readings'}</dd>
        </>
      )}
    </>
  );
}
