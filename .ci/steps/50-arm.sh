#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ARM Linux: cross-build for aarch64 (NEON64) and ARMv7 (NEON + VFPv4) and run the
# whole test suite under qemu-user, pinned to a Cortex-A53 / Cortex-A7 core model
# (CMAKE_CROSSCOMPILING_EMULATOR in platforms/*.cmake). Build dirs: build/aarch64, build/armv7.
# Each: its test count against the committed minimum and the table each kernel test ran.
# Then the dot-product build (aarch64-dotprod, build/aarch64-dotprod): the library and the
# kernel, core and io test binaries, and only the int8 tests (kernels, the quantized model, its
# file, its allocation test) under qemu-aarch64 -cpu max: this build's neon64 table reads the
# packed weights, so the model and loader paths that pack them run here and nowhere else.
# Everything else it compiles is the aarch64 build's code.
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

t0=$(date +%s)
cmake --preset aarch64-dotprod
cmake --build build/aarch64-dotprod --target fennec_kernel_tests fennec_core_tests fennec_core_alloc_test fennec_io_tests -j "$jobs"
# The -march must have reached the kernels: the table's int8 GEMMs contain sdot.
sdots=$(aarch64-linux-gnu-objdump -d build/aarch64-dotprod/lib/libfennec.a | grep -c $'\tsdot\t' || true)
if [ "${sdots:-0}" -eq 0 ]; then
  echo "aarch64-dotprod: no sdot in libfennec.a: the dot-product flag did not reach the build" >&2
  exit 1
fi
t1=$(date +%s)
ctest --preset aarch64-dotprod -R '^(qgemv_s8|qgemm_nt_s8|quantize_s8|quant|int8 file|alloc: quantize)' -j "$jobs"
echo "=== aarch64-dotprod: build $(( t1 - t0 )) s, int8 tests under qemu -cpu max $(( $(date +%s) - t1 )) s ==="
