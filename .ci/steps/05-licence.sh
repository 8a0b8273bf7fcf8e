#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source, header, script and build file names its licence (SPDX line near the top).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 scripts/spdx.py
