#!/usr/bin/env bash
# Device check of the XAI-Link training engine on a machine with an NVIDIA GPU (Linux x86-64), in one call,
# under 8 minutes:
#
#   bash scripts/device-check.sh                      # baby preset, 200 steps (each run capped at 90 s)
#   bash scripts/device-check.sh --steps 100 --skip torch
#
# What it does (scripts/bench/device-check.ts), the headline figures first: ONNX Runtime's
# placement report for the training graph on WebGPU (nodes left on the CPU, copies), one step with dropout on WebGPU
# against the CPU (1e-4), the baby preset (nanoGPT's shakespeare_char model) trained on WebGPU with its state on the
# device, on the engine's own kernels (Dawn) and on the engine's CPU path, and PyTorch nanoGPT on the same GPU with
# the same batch and steps (fp32 eager with TF32 as train.py sets it; bf16 + torch.compile, its defaults). Then the
# diagnostics, each only if its time is left before the deadline (else a SKIP line): the Dawn step rewritten, node
# by node, on untuned tiles and with f16 products on the tensor cores where the adapter offers f16 subgroup
# matrices; its products alone (with and without bounds clamps, blocked K sums, f16); the tiles tuned for this GPU;
# GPU timestamps per kernel (read as TFLOP/s for products, GB/s for the rest); the WebGPU provider's options, the
# step's pieces alone and its profile.
# Prints PASS / FAIL / SKIP lines stamped with the seconds since the start, a table and one JSON line; with $OUT set,
# the log, the JSON and both profiles (dawn-profile.json: every dispatch with its node's bytes and FLOPs) are written
# there too. Exit status 0 when nothing failed.
#
# Expects:
#   - Node 22 and onnxruntime-node: node_modules (node_modules/.bin/node), or, on a machine without the
#     project's node_modules, .device/runtime.tar.xz (a Node 22 binary with onnxruntime-node, onnxruntime-common,
#     zod and webgpu), unpacked to /tmp.
#   - WebGPU (Dawn inside onnxruntime-node and the webgpu package) runs on Vulkan: the Vulkan loader (libvulkan1) and
#     the NVIDIA driver's ICD. Where the loader is missing, the .deb files in .gl/ (the loader and the GL/X11 client
#     libraries the NVIDIA ICD needs) are unpacked into /.
#     `bash scripts/device-prepare.sh` makes both .device/ and .gl/ on a machine with the project's node_modules
#     and apt, to be copied to the GPU machine with the checkout.
#   - python3 with PyTorch (CUDA) and numpy for the comparison; without it those rows FAIL and the rest runs.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-}
log() { if [ -n "$out" ]; then tee -a "$out/device-check.log"; else cat; fi; }

NODE=node_modules/.bin/node
if [ ! -x "$NODE" ] && [ -f .device/runtime.tar.xz ]; then
  mkdir -p /tmp/xai-link-runtime
  tar xJf .device/runtime.tar.xz -C /tmp/xai-link-runtime
  [ -e node_modules ] || ln -s /tmp/xai-link-runtime/node_modules node_modules
  NODE=/tmp/xai-link-runtime/bin/node
fi
if [ ! -x "$NODE" ]; then
  if command -v node >/dev/null 2>&1; then NODE=$(command -v node); else echo "FAIL setup: no Node 22 (node_modules or .device/runtime.tar.xz)"; exit 2; fi
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$icd" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
{
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
  python3 -c 'import torch; print("torch:", torch.__version__, "cuda:", torch.cuda.is_available())' 2>&1 | tail -1
  if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then echo "vulkan loader: present"; else echo "vulkan loader: MISSING (libvulkan1)"; fi
  echo "vulkan driver files: ${VK_DRIVER_FILES:-system}"
  echo "== checks"
} 2>&1 | log
set -o pipefail
timeout 470 "$NODE" scripts/bench/device-check.ts ${out:+--out "$out"} "$@" 2>&1 | grep --line-buffered -v '^Warning: maxDynamic' | log
status=$?
if [ $status -eq 124 ]; then echo "FAIL device check: timed out after 470 s" | log; fi
exit $status
