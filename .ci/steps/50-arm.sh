#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ARM Linux: cross-build for aarch64 (NEON64) and ARMv7 (NEON + VFPv4) and run the
# whole test suite under qemu-user, pinned to a Cortex-A53 / Cortex-A7 core model
# (CMAKE_CROSSCOMPILING_EMULATOR in platforms/*.cmake). Build dirs: build/aarch64, build/armv7.
# Each: its test count against the committed minimum and the table each kernel test ran.
set -euo pipefail
jobs=${FENNEC_CI_JOBS:-$(nproc)}
for preset in aarch64 armv7; do
  t0=$(date +%s)
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  t1=$(date +%s)
  ctest --preset "$preset" -j "$jobs"
  t2=$(date +%s)
  bash .ci/ctest-report.sh "$preset" "build/$preset"
  echo "=== ${preset}: build $(( t1 - t0 )) s, tests under qemu $(( t2 - t1 )) s ==="
done
