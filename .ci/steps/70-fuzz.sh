#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets for every loader (model file, safetensors, checkpoint, int8 model file) and the tools' .npy and CSV
# data readers, clang + ASan + UBSan,
# 60 s each, two at a time; any crash fails CI, and so does a target that ran fewer than 60,000 inputs
# (fuzz/run.sh prints each target's executions and its minimum).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash fuzz/run.sh 60 build/fuzz
