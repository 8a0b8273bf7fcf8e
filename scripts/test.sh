#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README test command: install dependencies, configure, build and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FENNEC_SKIP_DEPS:-0}" = 1 ] || bash scripts/install-deps.sh
cmake --workflow --preset release
