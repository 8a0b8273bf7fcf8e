#!/usr/bin/env bash
# The README's test command (dependencies were installed by step 00).
set -euo pipefail
FENNEC_SKIP_DEPS=1 ./scripts/test.sh
