#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa's lavapipe) so that onnxruntime-node's WebGPU provider finds an adapter on a
# machine without a GPU: CI and development machines test every GPU code path with it (slowly, but with the same
# shaders and the same numbers).
#
#   bash scripts/webgpu/install-software-vulkan.sh      # idempotent; prints the folder it filled
#
# Debian bookworm's own Mesa 22 is refused by Dawn (no shaderUniformArrayDynamicIndexing), so lavapipe comes from
# bookworm-backports (Mesa 25) with the libdrm it was built against. Those three packages are unpacked with `dpkg -x`
# into .cache/software-vulkan (nothing of the system is replaced); their run-time dependencies that bookworm itself
# ships (the Vulkan loader, LLVM 15, xcb) are installed with apt. The Debian mirror is the one the machine's apt sources
# already use. scripts/webgpu/env.ts points VK_ICD_FILENAMES and LD_LIBRARY_PATH at the result.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="$PWD/.cache/software-vulkan"
icd="$dest/lvp_icd.json"
if [ -f "$icd" ] && [ -f "$dest/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ] && ldconfig -p | grep -q 'libvulkan.so.1'; then
  echo "software Vulkan: ready in $dest"
  exit 0
fi
if [ "$(uname -m)" != x86_64 ] || ! command -v apt-get >/dev/null; then
  echo "software Vulkan: needs Debian/Ubuntu on x86-64 (apt-get); install a Vulkan driver for your GPU instead" >&2
  exit 1
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The mirror the machine already uses for Debian's main suite (deb822 .sources or one-line .list).
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; } | awk '
    /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found = uri }
    /^$/ { uri = "" } END { print found }'
)
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb [^ ]+ bookworm ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk 'NR==1 { print $2 }')
fi
if [ -z "$mirror" ]; then
  echo "software Vulkan: no Debian bookworm source in /etc/apt (this script needs Debian 12's apt sources)" >&2
  exit 1
fi

as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  libvulkan1 libllvm15 libelf1 libexpat1 libwayland-client0 libx11-xcb1 libxcb-dri3-0 libxcb-present0 \
  libxcb-randr0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb1 libxshmfence1 libzstd1 zlib1g >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/debs"
echo "deb $mirror bookworm-backports main" >"$work/sources.list"
o=(-oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists="$work/lists"
  -oDir::Cache="$work/cache" -oAPT::Architecture=amd64 -oAPT::Sandbox::User=root)
mkdir -p "$work/cache"
apt-get "${o[@]}" update -qq
(cd "$work/debs" && apt-get "${o[@]}" download -qq \
  mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports)
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$dest"; done
lib="$dest/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"
[ -f "$lib" ] || { echo "software Vulkan: $lib missing after unpacking" >&2; exit 1; }
# The packaged ICD file names the library relatively (for a system install); ours names the unpacked one.
sed "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$lib\"|" "$dest/usr/share/vulkan/icd.d/lvp_icd.json" >"$icd"
grep -q "$lib" "$icd" || { echo "software Vulkan: could not write $icd" >&2; exit 1; }
echo "software Vulkan: ready in $dest ($(ls "$work"/debs | tr '\n' ' '))"
