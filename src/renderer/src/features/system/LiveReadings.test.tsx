import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SystemStats } from '../../../../shared/api/system.ts';
import { LiveReadingRows } from './LiveReadings.tsx';

const GiB = 1024 ** 3;
const base: SystemStats = {
  at: 0,
  cpu: { cores: 8, loadPercent: 55, loadAverage1m: 4 },
  process: { cpuPercent: 180, rssBytes: 0.5 * GiB },
  memory: { totalBytes: 32 * GiB, freeBytes: 8 * GiB },
  gpus: [],
  gpuNote: 'nvidia-smi not found: GPU readings are shown for NVIDIA GPUs with their driver installed.',
};

function render(stats: SystemStats, appMemory = false): string {
  return renderToStaticMarkup(
    <dl className="kv">
      <LiveReadingRows stats={stats} appMemory={appMemory} />
    </dl>,
  );
}

/** The tag names of the list's children, in order: a valid list alternates dt, dd. */
function children(html: string): string[] {
  return [...html.matchAll(/<(dt|dd)[\s>]/g)].map((m) => m[1]!);
}

describe('LiveReadingRows', () => {
  it('shows CPU load, the app share and memory, and the GPU note muted when there is no GPU', () => {
    const html = render(base);
    expect(html).toContain('<dt>CPU load</dt><dd>55 % of 8 cores, load average 4.00</dd>');
    expect(html).toContain('180 %');
    expect(html).toContain('24.0 GiB used of 32.0 GiB');
    expect(html).toContain('<dd class="muted">nvidia-smi not found');
    expect(html).not.toContain('XAI-Link memory');
    expect(children(html)).toEqual(['dt', 'dd', 'dt', 'dd', 'dt', 'dd', 'dt', 'dd']);
  });

  it('shows one row per GPU and no note', () => {
    const gpu = {
      name: 'NVIDIA A100',
      utilizationPercent: 90,
      memoryUsedBytes: 30 * GiB,
      memoryTotalBytes: 40 * GiB,
      temperatureC: 61,
      source: 'nvidia-smi' as const,
    };
    const html = render(
      {
        ...base,
        gpus: [
          { ...gpu, index: 0 },
          { ...gpu, index: 1 },
        ],
        gpuNote: null,
      },
      true,
    );
    expect(html).toContain(
      '<dt>GPU 1</dt><dd data-gpu="1">NVIDIA A100: 90 % busy, 30.0 GiB of 40.0 GiB, 61 °C</dd>',
    );
    expect(html).toContain('<dt>XAI-Link memory</dt><dd>512 MiB</dd>');
    expect(html).not.toContain('muted">nvidia-smi');
    expect(children(html)).toEqual(Array.from({ length: 6 }, () => ['dt', 'dd']).flat());
  });
});
