#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage: .ci/assert-test-count.sh TARGET COUNT
# Prints COUNT beside TARGET's committed minimum (.ci/min-tests.txt) and fails when COUNT is
# lower, or when TARGET has no minimum (a new target must commit one).
set -euo pipefail
target=$1 count=$2
min=$(awk -v t="$target" '$1 == t { print $2 }' "$(dirname "$0")/min-tests.txt")
if [ -z "$min" ]; then
  echo "test count: no minimum for target '$target' in .ci/min-tests.txt" >&2
  exit 1
fi
if ! [ "$count" -ge "$min" ] 2>/dev/null; then
  echo "test count: $target ran $count tests, fewer than the minimum $min" >&2
  exit 1
fi
echo "test count: $target $count tests (minimum $min)"
