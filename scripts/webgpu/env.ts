/**
 * node scripts/webgpu/env.ts [--install] <command> [args…]
 * node scripts/webgpu/env.ts [--install] --matrix <node script> [args…]
 *
 * --install first runs scripts/webgpu/install-software-vulkan.sh (a no-op once installed).
 * --matrix uses the driver with matrix units instead (scripts/webgpu/install-software-vulkan-matrix.sh: Mesa 26, which
 * Dawn offers f16 subgroup matrices on) and runs a Node script under that driver's own C library: the script is
 * started as `<folder>/ld-linux-x86-64.so.2 --library-path <folder> <node> <script>`, so it cannot start further
 * Node processes of its own (vitest runs with `--pool threads` there).
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

let argv = process.argv.slice(2);
const flag = (name: string) => {
  const on = argv[0] === name;
  if (on) argv = argv.slice(1);
  return on;
};
const install = flag('--install');
const matrix = flag('--matrix');
let [command, ...args] = argv;
if (!command) {
  console.error('usage: node scripts/webgpu/env.ts [--install] [--matrix] <command> [args…]');
  process.exit(2);
}
const driver = matrix ? 'software-vulkan-matrix' : 'software-vulkan';
const folder = join(root, '.cache', driver);
const libs = join(folder, 'usr/lib/x86_64-linux-gnu');
const icd = join(folder, 'lvp_icd.json');
const env = { ...process.env };
if (process.env.XAI_LINK_VULKAN !== 'system') {
  if (install) {
    const r = spawnSync('bash', [join(root, `scripts/webgpu/install-${driver}.sh`)], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  if (!existsSync(icd)) {
    console.error(
      `The software Vulkan driver is not installed (${icd} is missing): run bash scripts/webgpu/install-${driver}.sh`,
    );
    process.exit(1);
  }
  env.VK_ICD_FILENAMES = icd;
  env.VK_DRIVER_FILES = icd;
  if (matrix) {
    // The driver's C library with its own loader; the system's libraries stay out of the search path.
    args = ['--library-path', libs, process.execPath, command, ...args];
    command = join(libs, 'ld-linux-x86-64.so.2');
  } else {
    env.LD_LIBRARY_PATH = [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
} else if (matrix) {
  // a real GPU: its own driver, the script started as usual
  args = [command, ...args];
  command = process.execPath;
}
const child = spawn(command, args, { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
