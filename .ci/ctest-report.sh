#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: .ci/ctest-report.sh TARGET BUILD_DIR, after ctest ran there. Asserts the number of
# tests ctest registered against TARGET's committed minimum (.ci/min-tests.txt), and prints the
# SIMD kernel tables each kernel test ran (the "kernel tables run by" lines the kernel tests
# write, which CTest keeps only in its log); fails when the kernel tests ran and wrote none.
set -euo pipefail
target=$1 dir=$2
# Read the log first: `ctest -N` rewrites it.
lines=$(grep -h '^kernel tables run by' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null | sort -u || true)
count=$(ctest --test-dir "$dir" -N | sed -n 's/^Total Tests: *//p')
bash "$(dirname "$0")/assert-test-count.sh" "$target" "${count:-0}"
[ -x "$dir/tests/fennec_kernel_tests" ] || exit 0
if [ -z "$lines" ]; then
  echo "$target: the kernel tests reported no kernel tables run" >&2
  exit 1
fi
echo "$target: kernel tables each kernel test ran:"
printf '%s\n' "$lines" | sed 's/^/  /'
