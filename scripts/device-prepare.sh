#!/usr/bin/env bash
# Readies this checkout for scripts/device-check.sh on a lent GPU machine that has no network and no node_modules,
# so that the device's minutes go to measuring, not to setting up:
#   - .device/runtime.tar.xz: Node 22 and the packages the engine loads (scripts/device-runtime.sh);
#   - .gl/*.deb: the Vulkan loader and the GL/X11 client libraries NVIDIA's Vulkan driver needs, fetched from this
#     machine's own apt sources and named after their packages (the check unpacks them only where the loader is
#     missing).
# Both folders are git-ignored: copy them to the GPU machine with the checkout (about 50 MB; the GPU machines this
# project is checked on take 64 MiB in all, which the end of this script checks). Then, there, in one call:
#   OUT=<folder for the log and JSON> bash scripts/device-check.sh
#
#   npm ci && bash scripts/device-prepare.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# What NVIDIA's ICD (libGLX_nvidia) links against, beyond the C library: the Vulkan loader, GLVND and X11's client side.
packages=(libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 libx11-6 libxext6 libxcb1 libxau6
  libxdmcp6 libbsd0 libmd0 libx11-xcb1 libx11-data)

bash scripts/device-runtime.sh

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 777 "$stage" # apt's download user (_apt) writes there
(cd "$stage" && apt-get download -q "${packages[@]}") || {
  echo "device-prepare: apt-get download failed: this machine's apt sources must reach Debian (see the error above)" >&2
  exit 1
}
rm -rf .gl.tmp && mkdir .gl.tmp
for f in "$stage"/*.deb; do
  # apt names files package_version_arch.deb with the epoch's colon escaped as %3a; the package name alone is enough.
  name=$(basename "$f")
  mv "$f" ".gl.tmp/${name%%_*}.deb"
done
found=$(ls .gl.tmp | wc -l)
if [ "$found" -ne "${#packages[@]}" ]; then
  echo "device-prepare: fetched $found of ${#packages[@]} packages: $(ls .gl.tmp | tr '\n' ' ')" >&2
  exit 1
fi
rm -rf .gl && mv .gl.tmp .gl

# What travels to the GPU machine: the tracked files, .device and .gl; 64 MiB at most there.
tracked=$(git ls-files -z | xargs -0 cat | wc -c)
carried=$(cat .device/* .gl/* | wc -c)
total=$((tracked + carried))
echo "travels: $((total / 1048576)) MiB of 64 (tracked files $((tracked / 1048576)) MiB, .device and .gl $((carried / 1048576)) MiB)"
if [ "$total" -gt $((64 * 1048576)) ]; then
  echo "device-prepare: over 64 MiB: the checkout and these folders do not fit a GPU machine's copy" >&2
  exit 1
fi
echo "ready: copy the checkout with .device and .gl, then run there: OUT=<folder> bash scripts/device-check.sh"
