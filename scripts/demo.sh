#!/usr/bin/env bash
# README demo command: install dependencies, build, and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FENNEC_SKIP_DEPS:-0}" = 1 ] || bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target fennec_xor_demo
./build/release/examples/fennec_xor_demo
