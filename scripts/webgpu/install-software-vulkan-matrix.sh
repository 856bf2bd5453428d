#!/usr/bin/env bash
# Installs a software Vulkan driver whose adapter has matrix units: Mesa's lavapipe from Debian testing (Mesa 26),
# which implements VK_KHR_cooperative_matrix, so that Dawn offers `chromium-experimental-subgroup-matrix` and the
# f16 products of `--precision f16` (src/main/engine/dawn/kernels/matmulSubgroup.ts) run — and are tested — on a
# machine without a GPU. Bookworm-backports' Mesa 25.0 (install-software-vulkan.sh) has no cooperative matrices.
#
#   bash scripts/webgpu/install-software-vulkan-matrix.sh      # idempotent; prints the folder it filled
#
# Mesa 26 is built against a newer C library than bookworm's, so the driver cannot be loaded into a process of the
# system's: the packages and their whole dependency closure (glibc, libstdc++, LLVM, the Vulkan loader) are unpacked
# with `dpkg -x` into .cache/software-vulkan-matrix (nothing of the system is replaced), and
# `node scripts/webgpu/env.ts --matrix <script>` starts Node under that folder's own dynamic loader. The Debian
# mirror is the one the machine's apt sources already use.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest="$PWD/.cache/software-vulkan-matrix"
libdir="$dest/usr/lib/x86_64-linux-gnu"
icd="$dest/lvp_icd.json"
if [ -f "$icd" ] && [ -f "$libdir/libvulkan_lvp.so" ] && [ -x "$libdir/ld-linux-x86-64.so.2" ]; then
  echo "software Vulkan with matrix units: ready in $dest"
  exit 0
fi
if [ "$(uname -m)" != x86_64 ] || ! command -v apt-get >/dev/null; then
  echo "software Vulkan with matrix units: needs Debian/Ubuntu on x86-64 (apt-get)" >&2
  exit 1
fi

# The mirror the machine already uses for Debian's main archive (deb822 .sources or one-line .list).
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null; } | awk '
    /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ /^(bookworm|trixie|forky|testing|sid|unstable)$/) found = uri }
    /^$/ { uri = "" } END { print found }'
)
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb [^ ]+ (bookworm|trixie|forky|testing|sid|unstable) ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk 'NR==1 { print $2 }')
fi
if [ -z "$mirror" ]; then
  echo "software Vulkan with matrix units: no Debian source in /etc/apt to take the mirror from" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb $mirror testing main" >"$work/sources.list"
: >"$work/status"
# An empty dpkg status: apt resolves the complete dependency closure, C library included, and downloads it.
o=(-oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists="$work/lists"
  -oDir::Cache="$work/cache" -oDir::Cache::archives="$work/cache/archives" -oDir::State::status="$work/status"
  -oAPT::Architecture=amd64 -oAPT::Sandbox::User=root -oDebug::NoLocking=1)
apt-get "${o[@]}" update -qq
apt-get "${o[@]}" install --download-only -y -qq --no-install-recommends \
  mesa-vulkan-drivers libvulkan1 libstdc++6 >/dev/null
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$work"/cache/archives/*.deb; do dpkg -x "$deb" "$dest"; done
[ -f "$libdir/libvulkan_lvp.so" ] || { echo "software Vulkan with matrix units: lavapipe missing after unpacking" >&2; exit 1; }
sed "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$libdir/libvulkan_lvp.so\"|" \
  "$dest/usr/share/vulkan/icd.d/lvp_icd.json" >"$icd"
grep -q "$libdir/libvulkan_lvp.so" "$icd" || { echo "software Vulkan with matrix units: could not write $icd" >&2; exit 1; }
mesa=$(ls "$work"/cache/archives/ | grep -o 'mesa-vulkan-drivers_[^_]*' | head -1)
echo "software Vulkan with matrix units: ready in $dest ($mesa, $(ls "$work"/cache/archives/*.deb | wc -l) packages)"
