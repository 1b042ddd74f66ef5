#!/usr/bin/env bash
# SELFY on a CUDA GPU, one command (a few minutes): the CUDA tests
# (tests/models/test_selfy_cuda.py: op and block against the float64 CPU
# reference, float16/bfloat16 autocast, an AMP training step), then
# benchmark_selfy.py's tables on the GPU (SELFYNet vs TSM steps, memory).
#
#   bash tools/analysis/gpu_check.sh [OUT_DIR]    (default work_dirs/gpu_check)
#
# Needs a CUDA build of torch in the environment (README, Install); PYTHON
# picks the interpreter (default: .venv/bin/python if there, else python).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-work_dirs/gpu_check}
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
mkdir -p "$out"
if ! "$python" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    echo "gpu_check: torch.cuda.is_available() is False with $python" >&2
    exit 2
fi
"$python" -m pytest -q -rs tests/models/test_selfy_cuda.py 2>&1 | tee "$out/cuda_tests.txt"
"$python" tools/analysis/benchmark_selfy.py --device cuda --profile 8 \
    --out "$out/benchmark_cuda.md"
echo "gpu_check: wrote $out/cuda_tests.txt and $out/benchmark_cuda.md"
