#!/usr/bin/env bash
# The whole GPU check of issue 16 in one command (under 8 minutes on one H100; every run stops by --budget):
#   bash bench/bench_gpu.sh            # then copy the printed table into notebook 14 ("Speed") and the README
# Per GAN stage of the paper preset (128x128, 41.8M + 2.8M parameters), bf16 autocast + channels-last, PyTorch's fused
# Adam, pix2pix's iteration (one generator forward): images/s, MFU (vs 989 TFLOP/s dense bf16 on an H100 SXM), peak
# memory, eager against torch.compile with the number of compiled graphs (it must not grow while timing).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-/tmp/s2i_inductor}
# bs 256: the batch of the figures in issue 16 (11.4% / 13.0% MFU before it); another with BS=...
timeout 470 "$PY" bench/bench_gpu.py --device cuda --bs "${BS:-256}" --warmup 10 --steps 20 --budget 380 "$@"
