import { spawnSync } from 'node:child_process';

/**
 * What the WebGPU adapter is, as far as the machine says: ONNX Runtime's Node binding does not report the
 * adapter Dawn picked, so this names the Vulkan driver it was pointed at (software lavapipe in CI) or the
 * GPU nvidia-smi lists. A label for benchmarks and the System page, not a capability check.
 */
export function describeAdapter(env: NodeJS.ProcessEnv = process.env): string {
  const icd = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES ?? '';
  if (/lvp_icd/.test(icd)) return 'Mesa lavapipe (software Vulkan)';
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const name = smi.status === 0 ? smi.stdout.trim().split('\n')[0] : '';
  if (name) return `${name} (Vulkan)`;
  if (process.platform === 'darwin') return 'Apple GPU (Metal)';
  if (process.platform === 'win32') return 'GPU (Direct3D 12)';
  return 'GPU (Vulkan)';
}
