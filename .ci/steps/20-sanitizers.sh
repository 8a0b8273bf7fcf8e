#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (the tables this
# machine runs declared as in step 10), then its test count and the tables each kernel test ran.
set -euo pipefail
FENNEC_RUNNABLE_TABLES=$(bash .ci/runnable-tables.sh)
export FENNEC_RUNNABLE_TABLES
cmake --workflow --preset asan
bash .ci/ctest-report.sh asan build/asan
