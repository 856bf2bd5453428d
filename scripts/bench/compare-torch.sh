#!/usr/bin/env bash
# Alternates `npm run bench:train` (this engine) and the PyTorch nanoGPT baseline (scripts/bench/nanogpt_torch.py)
# on the same prepared tiny-shakespeare char dataset, ROUNDS times each, and prints every JSON line.
#
#   bash scripts/bench/compare-torch.sh [ROUNDS=3] [ITERS=2000] [TORCH_THREADS=1] [OPENBLAS_THREADS=2]
#
# Needs Debian's python3-torch (1.13) and libopenblas0-pthread (apt-get install python3-torch libopenblas0-pthread);
# OpenBLAS is put in front of the reference BLAS that Debian's torch links by default.
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
ITERS=${2:-2000}
TT=${3:-1}
OBT=${4:-2}
export PATH="$PWD/node_modules/.bin:$PATH"
DATA=$(node -e "import('./src/main/engine/testing/charDataset.ts').then((m) => console.log(m.shakespeareCharDataset()))")
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
for i in $(seq 1 "$ROUNDS"); do
  echo "== round $i ($(uptime | sed 's/.*load average/load average/'))"
  node scripts/bench/train.ts --iters "$ITERS" --quiet | tail -1
  LD_LIBRARY_PATH=$OPENBLAS_DIR OPENBLAS_NUM_THREADS=$OBT /usr/bin/python3 scripts/bench/nanogpt_torch.py \
    --data "$DATA" --iters "$ITERS" --torch-threads "$TT" --quiet | tail -1
done
