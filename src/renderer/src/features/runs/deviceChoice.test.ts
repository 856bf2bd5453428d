import { describe, expect, it } from 'vitest';
import type { ExecutionProviderReport } from '../../../../shared/api/system.ts';
import { deviceChoices } from './deviceChoice.ts';

const report = (
  name: ExecutionProviderReport['name'],
  usable: boolean,
  software = false,
): ExecutionProviderReport => ({
  name,
  usable,
  detail: '',
  probeMs: 1,
  ...(software ? { software } : {}),
});

describe('deviceChoices', () => {
  it('times the GPUs against the CPU, and lists only what ran the probe', () => {
    const c = deviceChoices([
      report('cpu', true),
      report('webgpu', true),
      report('dawn', true),
      report('cuda', false),
      report('coreml', true), // not a training device
    ]);
    expect(c.devices).toEqual(['auto', 'cpu', 'webgpu', 'dawn']);
    expect(c.autoHint).toBe(
      'Times WebGPU, WebGPU (engine kernels) and the CPU on one step each, then trains on the fastest.',
    );
    expect(c.label('dawn')).toBe('WebGPU (engine kernels)');
  });

  it('says the CPU trains when WebGPU is a software adapter, which stays selectable and marked', () => {
    const c = deviceChoices([report('cpu', true), report('webgpu', true, true), report('dawn', true, true)]);
    expect(c.devices).toEqual(['auto', 'cpu', 'webgpu', 'dawn']);
    expect(c.autoHint).toMatch(/^Trains on the CPU: WebGPU here is a software adapter/);
    expect(c.label('webgpu')).toBe('WebGPU, software adapter');
    expect(c.label('dawn')).toBe('WebGPU (engine kernels), software adapter');
    expect(c.label('cpu')).toBe('CPU');
  });

  it('says so when no GPU works at all', () => {
    expect(deviceChoices([report('cpu', true), report('webgpu', false)]).autoHint).toBe(
      'Trains on the CPU: no GPU could run a test graph here (see System).',
    );
  });
});
