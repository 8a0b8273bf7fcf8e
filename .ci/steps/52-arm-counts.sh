#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instruction counts on ARM Linux (bench/qemu): every kernel at the 784-512-256-10 shapes and the
# end-to-end steps, counted under qemu-user with the project's TCG plugin, printed as a table and
# gated: a case whose instructions per MAC (per element for memory-bound kernels) exceed the
# committed baseline (bench/qemu/baseline.json) by more than 10% fails. Counts are exact and
# deterministic, so the gate is not noisy. Reuses the build dirs of step 50 (about 25 s a target
# under qemu). After an intended change: the same command with --update-baseline, and commit it.
# aarch64-dotprod (step 50 built its library) has a baseline of its own: its int8 GEMMs use sdot.
set -euo pipefail
jobs=${FENNEC_CI_JOBS:-$(nproc)}
status=0
for preset in aarch64 armv7 aarch64-dotprod; do
  [ -d "build/$preset" ] || cmake --preset "$preset"
  cmake --build "build/$preset" --target fennec_insn_count fennec_insn_count_bench -j "$jobs"
  t0=$(date +%s)
  python3 bench/qemu/count.py --config "build/$preset/bench/qemu/count_config.json" \
    --baseline bench/qemu/baseline.json --check --markdown "build/$preset/insn_counts.md" || status=1
  echo "=== ${preset}: counted under qemu in $(( $(date +%s) - t0 )) s ==="
done
exit $status
