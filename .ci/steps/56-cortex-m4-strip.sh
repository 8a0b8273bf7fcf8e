#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4F with FENNEC_STRIP_ERROR_STRINGS=ON (flash-tight targets): every firmware again under
# qemu (the C firmware checks that messages are the codes' short names), then the footprint
# against the build with messages (step 55).
set -euo pipefail
b=build/cortex-m4-strip
cmake --preset cortex-m4 -B "$b" -DFENNEC_STRIP_ERROR_STRINGS=ON
cmake --build "$b" -j2
(cd "$b" && ctest --output-on-failure -j2 --timeout 300)
echo "--- footprint: firmware images without error strings (arm-none-eabi-size, -Os) ---"
arm-none-eabi-size "$b"/platforms/cortex-m4/*.elf
echo "--- footprint: Fennec code the C firmware links, without error strings ---"
python3 platforms/cortex-m4/footprint.py "$b/platforms/cortex-m4/fennec_m4_c_api.map" | grep -E 'c_api_|libfennec.a:'
