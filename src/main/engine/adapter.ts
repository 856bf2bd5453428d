import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv } from '../system/systemStats.ts';

/**
 * What the WebGPU adapter is, as far as the machine says: ONNX Runtime's Node binding does not report the
 * adapter Dawn picked, so this names the Vulkan driver it was pointed at (software lavapipe in CI) or the
 * GPU nvidia-smi lists. A label for benchmarks and the System page, not a capability check.
 */
export async function describeAdapter(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const icd = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES ?? '';
  if (/lvp_icd/.test(icd)) return 'Mesa lavapipe (software Vulkan)';
  // asynchronous: the host's event loop keeps serving clients while nvidia-smi answers (or times out)
  const name = await promisify(execFile)('nvidia-smi', NVIDIA_SMI_ARGS, { timeout: 5000 }).then(
    ({ stdout }) => parseNvidiaSmiCsv(stdout)[0]?.name,
    () => undefined,
  );
  if (name) return `${name} (Vulkan)`;
  if (process.platform === 'darwin') return 'Apple GPU (Metal)';
  if (process.platform === 'win32') return 'GPU (Direct3D 12)';
  return 'GPU (Vulkan)';
}
