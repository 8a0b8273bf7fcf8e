#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4F kernel counts (platforms/cortex-m4/kernel_count.cpp under qemu-system-arm with the
# bench/qemu plugin): dense forward, dW, dX, the Adam update and a whole training step's kernels
# of 196-64-32-10 at batch 1 and 16, plain reference ("plain/") and Cortex-M4F GEMMs ("m4/"), with
# the cycle estimate at the Cortex-M4 TRM's timings; gated like step 52 (+10% instructions per
# unit against bench/qemu/baseline.json fails). Uses step 55's build (a few seconds under qemu).
set -euo pipefail
b=build/cortex-m4
[ -d "$b" ] || cmake --preset cortex-m4
cmake --build "$b" --target fennec_insn_count fennec_m4_kernel_count
t0=$(date +%s)
python3 bench/qemu/count.py --config "$b/platforms/cortex-m4/count_config.json" \
  --baseline bench/qemu/baseline.json --check --markdown "$b/insn_counts.md"
echo "=== cortex-m4 kernel counts: $(( $(date +%s) - t0 )) s under qemu ==="
