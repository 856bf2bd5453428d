/**
 * node scripts/webgpu/env.ts [--install] <command> [args…]
 *
 * --install first runs scripts/webgpu/install-software-vulkan.sh (a no-op once installed).
 * Runs a command with the software Vulkan driver (scripts/webgpu/install-software-vulkan.sh) as the only Vulkan
 * driver, so that ONNX Runtime's WebGPU provider finds lavapipe's adapter on a machine without a GPU. The loader reads
 * VK_ICD_FILENAMES, and lavapipe needs the libdrm it was built with, which only LD_LIBRARY_PATH can provide: both must
 * be set when the process starts, hence a launcher rather than code in the tests. A machine whose own Vulkan driver is
 * wanted (a real GPU) sets XAI_LINK_VULKAN=system and the environment passes through unchanged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const folder = join(root, '.cache', 'software-vulkan');
const icd = join(folder, 'lvp_icd.json');

const argv = process.argv.slice(2);
const install = argv[0] === '--install';
const [command, ...args] = install ? argv.slice(1) : argv;
if (!command) {
  console.error('usage: node scripts/webgpu/env.ts <command> [args…]');
  process.exit(2);
}
const env = { ...process.env };
if (process.env.XAI_LINK_VULKAN !== 'system') {
  if (install) {
    const r = spawnSync('bash', [join(root, 'scripts/webgpu/install-software-vulkan.sh')], {
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  if (!existsSync(icd)) {
    console.error(
      `The software Vulkan driver is not installed (${icd} is missing): run bash scripts/webgpu/install-software-vulkan.sh`,
    );
    process.exit(1);
  }
  env.VK_ICD_FILENAMES = icd;
  env.VK_DRIVER_FILES = icd;
  env.LD_LIBRARY_PATH = [join(folder, 'usr/lib/x86_64-linux-gnu'), process.env.LD_LIBRARY_PATH]
    .filter(Boolean)
    .join(':');
}
const child = spawn(command, args, { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
