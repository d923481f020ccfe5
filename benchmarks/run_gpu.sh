#!/usr/bin/env bash
# The GPU figures of benchmarks/RESULTS.md, as measured on a lent GPU machine (no browser there:
# no Chromium, no Panel). Usage: bash benchmarks/run_gpu.sh OUTDIR
set -uo pipefail
out=${1:-.}
export PYTHONUNBUFFERED=1
python3 - <<'PY' 2>&1 | tee "$out/gpu_info.txt"
import torch, platform, os
print(platform.platform(), os.cpu_count(), "cores; torch", torch.__version__, torch.cuda.get_device_name())
PY
python3 -m benchmarks.study_speed --no-browser --seconds 8 --device cuda 2>&1 | tee "$out/study_speed_cuda.txt"
python3 -m benchmarks.step_variants --steps 2000 --device cuda 2>&1 | tee "$out/step_variants_fast.txt"
python3 -m benchmarks.step_variants --preset nanda2023 --steps 1000 --device cuda 2>&1 | tee "$out/step_variants_nanda.txt"
python3 -m benchmarks.ensemble_speed --seeds 64 --steps 50 --spread-seeds 64 --spread-steps 1000 --device cuda \
  2>&1 | tee "$out/ensemble_cuda.txt"
python3 -m pytest -q -x -p no:cacheprovider -n 8 tests/runtime tests/studies tests/analysis tests/models tests/tasks \
  2>&1 | tail -n 15 | tee "$out/gpu_tests.txt"
python3 -m benchmarks.study_speed --no-browser --seconds 8 --device cpu 2>&1 | tee "$out/study_speed_cpu16.txt"
