#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints the SIMD kernel tables this machine can run, as FENNEC_RUNNABLE_TABLES wants them (comma
# list, best last), from /proc/cpuinfo and independently of the library's own CPU detection: the
# kernel tests fail when the two disagree, or when a compiled table is neither run nor declared
# not runnable here. x86-64: sse2 always; avx2fma with avx2+fma; avx512 with avx512f/cd/dq/bw
# (the table is built for xsimd::avx512bw); avx512vnni with those and avx512_vnni; avx512bf16 (opt-in,
# never chosen automatically, but tested wherever it runs) with those and avx512_bf16. AArch64:
# neon64. ARMv7: neon when the CPU has it.
set -euo pipefail
case "$(uname -m)" in
  x86_64)
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    has() { [[ "$flags" == *" $1 "* ]]; }
    list=sse2
    if has avx2 && has fma; then list+=,avx2fma; fi
    if has avx512f && has avx512cd && has avx512dq && has avx512bw; then
      list+=,avx512
      if has avx512_vnni; then list+=,avx512vnni; fi
      if has avx512_bf16; then list+=,avx512bf16; fi
    fi
    echo "$list" ;;
  aarch64) echo neon64 ;;
  arm*) if grep -qw neon /proc/cpuinfo; then echo neon; else echo; fi ;;
  *) echo ;;
esac
