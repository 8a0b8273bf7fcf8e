#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4F: inference-only library at -Os, the example firmware run in
# qemu-system-arm (mps2-an386, semihosting; exit code = failures; every allocator wrapped and
# counted), then the footprint report (fails when it finds no library object in a map).
set -euo pipefail
t0=$(date +%s)
b=build/cortex-m4
fw=$b/platforms/cortex-m4
cmake --preset cortex-m4
cmake --build --preset cortex-m4
t1=$(date +%s)
# -V: the firmware's own output (arena bytes, stack high-water, "N passed, N failed").
ctest --preset cortex-m4 -V | tee "$b/ctest.log" | grep -E 'fennec cortex-m4|stack used|passed, |Test +#'
grep -q '100% tests passed' "$b/ctest.log"
t2=$(date +%s)

echo "--- footprint: firmware images (arm-none-eabi-size, -Os) ---"
arm-none-eabi-size "$fw/fennec_m4_sensor.elf" "$fw/fennec_m4_flash_model.elf" "$fw/fennec_m4_xip.elf" \
  "$fw/fennec_m4_selftest.elf" "$fw/fennec_m4_c_api.elf"
echo "--- footprint: inference-only library objects, whole objects before --gc-sections ---"
arm-none-eabi-size -t "$b/lib/libfennec.a"
echo "--- footprint: Fennec code the example links (from the linker map), budget 8 KiB ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_sensor.map" --budget-text 8192
grep -m1 -o 'arena [0-9]* bytes ([^)]*)' "$b/ctest.log" | sed 's/^/example /'
# The same example taking its weights from a Fennec model file in flash (load_model):
# no budget; the difference from the figure above is what the loader costs.
echo "--- footprint: Fennec code the flash-model-file example links (load_model) ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_flash_model.map" | tail -n 1
# The same example executing in place (load_model_in_place): its parameters stay in flash, the
# arena is the activations alone (< 1 KiB, a static_assert in xip_checks.hpp).
echo "--- footprint: Fennec code the XIP example links (load_model_in_place) ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_xip.map" | tail -n 1
grep -m1 -o 'arena [0-9]* bytes ([^)]*in flash [1-9][0-9]*)' "$b/ctest.log" | sed 's/^/xip example /'
# The firmware written in C: the same classifier through the C API (fennec.h); the c_api_* lines
# are the C API's own code.
echo "--- footprint: Fennec code the C firmware links (C API lines: c_api_*) ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_c_api.map" | grep -E 'c_api_|libfennec.a:'

# No heap in the library: no allocator symbol may be referenced by any object.
bash .ci/check-no-heap-symbols.sh arm-none-eabi-nm "$b/lib/libfennec.a"
bash .ci/ctest-report.sh cortex-m4 "$b"

# The int8 example (cortex-m4-int8 preset: the same inference-only library with FENNEC_INT8=ON,
# so the f32 images above keep their footprint): the int8 model file loaded from flash, the SMLAD
# GEMM; no budget, its figures reported.
t3=$(date +%s)
b8=build/cortex-m4-int8
cmake --preset cortex-m4-int8
cmake --build --preset cortex-m4-int8
ctest --preset cortex-m4-int8 -V | tee "$b8/ctest.log" | grep -E 'fennec cortex-m4|stack used|passed, |Test +#'
grep -q '100% tests passed' "$b8/ctest.log"
echo "--- footprint: int8 example image (arm-none-eabi-size; flash = text + data, RAM = data + bss + stack) ---"
arm-none-eabi-size "$b8/platforms/cortex-m4/fennec_m4_int8.elf"
echo "--- footprint: Fennec code the int8 example links (load_quantized_model, int8 forward) ---"
python3 platforms/cortex-m4/footprint.py "$b8/platforms/cortex-m4/fennec_m4_int8.map" | tail -n 1
grep -m1 -o 'int8, arena [0-9]* bytes ([^)]*)' "$b8/ctest.log" | sed 's/^/int8 example /'
bash .ci/check-no-heap-symbols.sh arm-none-eabi-nm "$b8/lib/libfennec.a"
bash .ci/ctest-report.sh cortex-m4-int8 "$b8"
t4=$(date +%s)
echo "=== cortex-m4: build $(( t1 - t0 )) s, firmware under qemu $(( t2 - t1 )) s; int8 preset $(( t4 - t3 )) s ==="
