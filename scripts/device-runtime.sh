#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on a GPU machine that has no network and no node_modules into
# .device/runtime.tar.xz (~50 MB): the Node 22 binary the project pins and the packages the training engine
# loads (onnxruntime-node with only its linux/x64 binaries, onnxruntime-common, zod, and webgpu — Dawn, for the
# engine's own kernels — with only its linux-x64 binary).
#
#   npm ci && bash scripts/device-runtime.sh
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux" .device
cp "$(readlink -f node_modules/.bin/node)" "$stage/bin/node"
cp -r node_modules/onnxruntime-node/{dist,package.json} "$stage/node_modules/onnxruntime-node/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cp -r node_modules/onnxruntime-common node_modules/zod "$stage/node_modules/"
mkdir -p "$stage/node_modules/webgpu/dist"
cp node_modules/webgpu/{index.js,package.json} "$stage/node_modules/webgpu/"
cp -r node_modules/webgpu/dist/linux-x64 "$stage/node_modules/webgpu/dist/"
tar cf - -C "$stage" . | xz -T0 -6 >.device/runtime.tar.xz.tmp
mv .device/runtime.tar.xz.tmp .device/runtime.tar.xz
ls -la .device/runtime.tar.xz
