#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4F training (cortex-m4-train preset: the training library for bare metal, -Os): the
# training firmware under qemu-system-arm (mps2-an386, semihosting), each in a 256 KiB RAM region
# (a link error when over), streaming the Fashion-MNIST CI subset. fennec_m4_train (196-64-32-10,
# Adam) checks its losses and test accuracy against the host's run of the same code; both check
# their RAM budget (220 / 100 KiB) and make no heap call. fennec_m4_finetune is the second phase:
# the host-trained model file in flash, all but the last layer frozen and read in place, the last
# fine-tuned (phase=finetune line, checked against the host too). Then the Fennec flash the training
# image links: reported as built (error messages, Cortex-M4F GEMMs), and held to 16 KiB in the
# smallest configuration (FENNEC_STRIP_ERROR_STRINGS=ON, FENNEC_CORTEX_M4_KERNELS=OFF).
set -euo pipefail
t0=$(date +%s)
b=build/cortex-m4-train
fw=$b/platforms/cortex-m4
cmake --preset cortex-m4-train
cmake --build --preset cortex-m4-train
t1=$(date +%s)
ctest --preset cortex-m4-train -V | tee "$b/ctest.log" | grep -E 'fennec-m4-train|FAIL|passed, |Test +#'
grep -q '100% tests passed' "$b/ctest.log"
t2=$(date +%s)

echo "--- footprint: training images (arm-none-eabi-size, -Os) ---"
arm-none-eabi-size "$fw/fennec_m4_train.elf" "$fw/fennec_m4_train_small.elf" "$fw/fennec_m4_finetune.elf"
echo "--- footprint: Fennec code the Adam training image links (error messages, Cortex-M4F GEMMs) ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_train.map" | tail -n 1
echo "--- footprint: Fennec code the fine-tuning image links (load_model_in_place, frozen layers) ---"
python3 platforms/cortex-m4/footprint.py "$fw/fennec_m4_finetune.map" | tail -n 1
s=build/cortex-m4-train-strip
cmake --preset cortex-m4-train -B "$s" -DFENNEC_STRIP_ERROR_STRINGS=ON -DFENNEC_CORTEX_M4_KERNELS=OFF
cmake --build "$s" -j2 --target fennec_m4_train
echo "--- footprint: the same image without error strings and with the plain GEMM loops, budget 16 KiB ---"
python3 platforms/cortex-m4/footprint.py "$s/platforms/cortex-m4/fennec_m4_train.map" --budget-text 16384 | tail -n 2

bash .ci/check-no-heap-symbols.sh arm-none-eabi-nm "$b/lib/libfennec.a"
bash .ci/ctest-report.sh cortex-m4-train "$b"
echo "=== cortex-m4-train: build $(( t1 - t0 )) s, firmware under qemu $(( t2 - t1 )) s ==="
