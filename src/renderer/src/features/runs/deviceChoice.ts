import type { DeviceRequestName } from '../../../../shared/api/runs.ts';
import type { ExecutionProviderReport } from '../../../../shared/api/system.ts';
import { isDeviceName, type DeviceName } from '../../../../shared/engine/devices.ts';

const DEVICE_LABEL: Record<DeviceRequestName, string> = {
  auto: 'Automatic',
  cpu: 'CPU',
  webgpu: 'WebGPU',
  dawn: 'WebGPU (engine kernels)',
  cuda: 'CUDA (NVIDIA)',
  dml: 'DirectML',
};

/**
 * What the new-run form offers, from the System probe: "auto" and every device that ran the probe here, a
 * software WebGPU adapter marked as such (it trains when chosen, but "auto" passes over it: engine/device.ts).
 */
export function deviceChoices(providers: readonly ExecutionProviderReport[]): {
  devices: DeviceRequestName[];
  label: (device: DeviceRequestName) => string;
  autoHint: string;
} {
  const usable = providers.filter((p) => p.usable && isDeviceName(p.name));
  const software = new Set<string>(usable.filter((p) => p.software).map((p) => p.name));
  const timed = usable
    .filter((p) => p.name !== 'cpu' && !p.software)
    .map((p) => DEVICE_LABEL[p.name as DeviceName]);
  const autoHint =
    timed.length > 0
      ? `Times ${timed.join(', ')} and the CPU on one step each, then trains on the fastest.`
      : software.size > 0
        ? 'Trains on the CPU: WebGPU here is a software adapter, slower than the CPU (choose it to use it anyway).'
        : 'Trains on the CPU: no GPU could run a test graph here (see System).';
  return {
    devices: ['auto', ...usable.map((p) => p.name as DeviceName)],
    label: (d) => (software.has(d) ? `${DEVICE_LABEL[d]}, software adapter` : DEVICE_LABEL[d]),
    autoHint,
  };
}
