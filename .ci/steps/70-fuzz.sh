#!/usr/bin/env bash
# libFuzzer targets for every loader (model file, safetensors, checkpoint), clang + ASan + UBSan,
# 60 s each; any crash fails CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash fuzz/run.sh 60 build/fuzz
