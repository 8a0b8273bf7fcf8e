#!/usr/bin/env bash
# The README's test command, word for word (its dependency install is a no-op after step 00).
set -euo pipefail
./scripts/test.sh
