#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command, word for word (its dependency install is a no-op after step 00),
# told which SIMD tables this machine runs (the kernel tests fail on a compiled table neither run
# nor declared not runnable); then the test count against its minimum and the tables each
# kernel test ran, and no allocator referenced by the host library.
set -euo pipefail
FENNEC_RUNNABLE_TABLES=$(bash .ci/runnable-tables.sh)
export FENNEC_RUNNABLE_TABLES
./scripts/test.sh
bash .ci/ctest-report.sh release build/release
bash .ci/check-no-heap-symbols.sh nm build/release/lib/libfennec.a
