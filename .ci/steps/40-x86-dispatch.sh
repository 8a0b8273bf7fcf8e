#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# x86 dispatch: one x86-64 binary must run on any x86-64 CPU and pick the right table.
#  1. The per-arch objects define only arch-templated weak symbols (no ODR/COMDAT merge can
#     hand an AVX copy of a shared inline function to baseline code), and the baseline objects
#     contain no ymm/zmm instructions.
#  2. The whole test suite runs under `qemu-x86_64 -cpu qemu64` (SSE2 only) asserting sse2 is
#     the active table, in the test binaries and in the tools the CLI tests start (at least the
#     committed number of test cases, .ci/min-tests.txt), the dispatch tests under `-cpu Haswell`
#     asserting avx2fma, and the kernel tests natively asserting what /proc/cpuinfo says this CPU
#     should get and runs.
# Reuses build/release from step 10 (builds it if missing). x86-64 hosts only.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(uname -m)" != x86_64 ]; then echo "not an x86-64 host: skipped"; exit 0; fi
b=${FENNEC_DISPATCH_BUILD:-build/release}
[ -x "$b/tests/fennec_kernel_tests" ] || { [ "$b" = build/release ] && cmake --workflow --preset release; }

echo "--- 1. symbols and instructions of the per-arch objects ---"
objdir="$b/lib/CMakeFiles/fennec.dir"
fail=0
for pair in "sse2:xsimd::sse2" "avx2fma:xsimd::fma3<xsimd::avx2>" "avx512:xsimd::avx512bw" \
            "avx512vnni:fennec::kernels::simd::avx512vnni" "avx512bf16:fennec::kernels::simd::avx512bf16"; do
  name=${pair%%:*}; arch=${pair#*:}
  obj="$b/lib/arch/CMakeFiles/fennec_arch_$name.dir/x86/$name.cpp.o"  # fennec_add_arch_table()
  [ -f "$obj" ] || { echo "missing $obj" >&2; fail=1; continue; }
  # Weak (W/V) and unique (u) symbols are the ones the linker may merge across objects.
  weak=$(nm -C "$obj" | awk '$2 ~ /^[WVu]$/' || true)
  total=$(printf '%s\n' "$weak" | grep -c . || true)
  bad=$(printf '%s\n' "$weak" | grep -vF "$arch" | grep . || true)
  if [ -n "$bad" ]; then
    echo "$name.cpp.o: weak symbols not templated on $arch:" >&2
    printf '%s\n' "$bad" | head -20 >&2
    fail=1
  else
    echo "$name.cpp.o: $total weak symbols, all templated on $arch"
  fi
done
archdir="$b/lib/arch/CMakeFiles"
avx2_fma=$(objdump -d --no-show-raw-insn "$archdir/fennec_arch_avx2fma.dir/x86/avx2fma.cpp.o" | grep -c 'vfmadd...ps.*%ymm' || true)
avx512_fma=$(objdump -d --no-show-raw-insn "$archdir/fennec_arch_avx512.dir/x86/avx512.cpp.o" | grep -c 'vfmadd...ps.*%zmm' || true)
bf16_dots=$(objdump -d --no-show-raw-insn "$archdir/fennec_arch_avx512bf16.dir/x86/avx512bf16.cpp.o" | grep -c 'vdpbf16ps.*%zmm' || true)
echo "avx2fma.cpp.o: $avx2_fma ymm FMAs; avx512.cpp.o: $avx512_fma zmm FMAs; avx512bf16.cpp.o: $bf16_dots vdpbf16ps"
[ "$avx2_fma" -gt 0 ] && [ "$avx512_fma" -gt 0 ] && [ "$bf16_dots" -gt 0 ] ||
  { echo "per-arch objects lack their FMAs or bf16 dot products" >&2; fail=1; }
for obj in $(find "$objdir" -name '*.o' ! -path '*/arch/*'); do
  if objdump -d --no-show-raw-insn "$obj" | grep -qE '%[yz]mm'; then
    echo "baseline object $obj contains ymm/zmm instructions" >&2
    fail=1
  fi
done
[ "$fail" = 0 ] || exit 1

echo "--- 2. the active table natively and under emulated CPUs ---"
# FENNEC_RUNNABLE_TABLES: the kernel tests fail on a compiled table they neither run nor were told
# this machine cannot run. FENNEC_TEST_EMULATOR: the CLI tests start the tools under the same
# emulated CPU (qemu-user does not follow an exec), and they assert the tools report the ISA.
runnable=$(bash .ci/runnable-tables.sh)
# The opt-in avx512bf16 (bf16 products) is run by the tests but never chosen automatically.
auto_tables=${runnable%,avx512bf16}
native=${auto_tables##*,}
echo "native CPU runs the tables: $runnable; should pick: $native"
FENNEC_RUNNABLE_TABLES=$runnable FENNEC_EXPECT_ISA=$native "$b/tests/fennec_kernel_tests"

mapfile -t tests < <(find "$b/tests" -maxdepth 1 -type f -executable | sort)
logs=$(mktemp -d)
# Two binaries at a time (this machine has two cores; each binary is one emulated thread). Each
# one's output goes to its own log, printed whole once it is done.
printf '%s\n' "${tests[@]}" | FENNEC_LOGS=$logs xargs -P 2 -I{} bash -c '
  t={}; log="$FENNEC_LOGS/$(basename "$t").log"
  if FENNEC_EXPECT_ISA=sse2 FENNEC_RUNNABLE_TABLES=sse2 FENNEC_TEST_SCALE=0.25 \
     FENNEC_TEST_EMULATOR="qemu-x86_64 -cpu qemu64" qemu-x86_64 -cpu qemu64 "$t" > "$log" 2>&1; then
    printf "qemu64 (sse2 only): %s\n%s\n" "$(basename "$t")" "$(tail -n 3 "$log")"
  else
    printf "qemu64 (sse2 only): %s FAILED\n" "$(basename "$t")"; cat "$log"; exit 255
  fi'
cases=0
for t in "${tests[@]}"; do
  n=$(sed -n 's/^All tests passed (.* in \([0-9]*\) test cases\?)$/\1/p' "$logs/$(basename "$t").log")
  cases=$(( cases + ${n:-0} ))
done
bash .ci/assert-test-count.sh qemu64 "$cases"
echo "Haswell (avx2+fma): dispatch and e2e tests"
FENNEC_EXPECT_ISA=avx2fma FENNEC_RUNNABLE_TABLES=sse2,avx2fma \
  qemu-x86_64 -cpu Haswell "$b/tests/fennec_kernel_tests" "[dispatch],[e2e]"
echo "x86 dispatch OK"
