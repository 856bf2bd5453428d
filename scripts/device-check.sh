#!/usr/bin/env bash
# Device check of the XAI-Link training engine on a GPU machine (written for an NVIDIA H100, Linux x86-64).
#
#   bash scripts/device-check.sh            # all checks, < 4 minutes
#   bash scripts/device-check.sh --providers cpu,webgpu --baby-iters 20
#
# What it does (scripts/bench/device-check.ts): probes the execution providers (cpu, webgpu, cuda),
# checks that one training step on each accelerator gives the CPU's loss, gradient norm and updated
# parameters (tolerance 1e-4), trains cpu-tiny (150 steps) on every usable provider and the baby preset
# (40 steps) on the accelerators, each capped at 45 s, and checks that --device auto picks the fastest
# device. Prints PASS / FAIL / SKIP lines, a "tokens/s" line per provider and preset, and a final JSON line.
# Exit status 0 when nothing failed. WebGPU state stays in host memory between steps unless
# XAI_LINK_WEBGPU_STATE=device (which aborted onnxruntime-node 1.30 on an H100; see src/main/engine/device.ts).
#
# Expects:
#   - the repository with node_modules carried along: node_modules/.bin/node (Node 22; the system node is
#     used only if that is missing), node_modules/onnxruntime-node (its linux/x64 binaries),
#     node_modules/onnxruntime-common and node_modules/zod. No network; the data is resources/tinyshakespeare.txt (generated text if missing).
#   - WebGPU (bundled in onnxruntime-node, Dawn) runs on Vulkan on Linux: the Vulkan loader
#     (libvulkan.so.1, Debian/Ubuntu package libvulkan1) and the NVIDIA Vulkan ICD (nvidia_icd.json, shipped
#     with the NVIDIA driver's GL/Vulkan libraries). Without them the webgpu provider FAILs with "no adapter".
#     The NVIDIA ICD (libGLX_nvidia.so.0) also needs the GL dispatch and X11 client libraries (Debian:
#     libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0
#     libmd0 libx11-xcb1); on a bare machine unpack them and point VK_DRIVER_FILES at nvidia_icd.json.
#   - CUDA: onnxruntime-node was installed with its CUDA download skipped (.npmrc), so the cuda provider is
#     reported as SKIP unless its provider libraries were added; it is not required.
set -u
cd "$(dirname "$0")/.."

NODE=node_modules/.bin/node
if [ ! -x "$NODE" ]; then
  if command -v node >/dev/null 2>&1; then NODE=$(command -v node); else echo "FAIL setup: no node_modules/.bin/node and no node on PATH"; exit 2; fi
fi
echo "== machine"
echo "node: $("$NODE" --version) ($NODE)"
uname -srm
grep -m1 'model name' /proc/cpuinfo | sed 's/^/cpu: /'
echo "cores: $(nproc)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'
else
  echo "gpu: nvidia-smi not found"
fi
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then echo "vulkan loader: present"; else echo "vulkan loader: MISSING (libvulkan1): WebGPU will not find an adapter"; fi
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -i nvidia | sed 's/^/vulkan icd: /' || true
if [ ! -f node_modules/onnxruntime-node/package.json ]; then echo "FAIL setup: node_modules/onnxruntime-node is missing"; exit 2; fi

echo "== checks"
timeout 230 "$NODE" scripts/bench/device-check.ts "$@"
status=$?
if [ $status -eq 124 ]; then echo "FAIL device check: timed out after 230 s"; fi
exit $status
