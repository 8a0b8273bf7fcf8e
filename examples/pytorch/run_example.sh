#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole PyTorch scale-out path (README.md beside this script), each hand-off checked:
#   1. PyTorch trains the 784-512-256-10 MLP with DistributedDataParallel (gloo, loopback) and
#      exports safetensors and its test logits;
#   2. fennec-convert makes a Fennec model file; Fennec's logits on the 10,000 test images must
#      give PyTorch's predictions on every image and lie within 1e-4 of its logits;
#   3. Fennec fine-tunes the model with the hidden layers frozen on brightness-shifted images
#      (the shifted test accuracy must rise), and the Cortex-M4 firmware runs the imported model
#      file from flash under qemu-system-arm, checked against the host's logits;
#   4. the fine-tuned model goes back to PyTorch (load_state_dict(strict=True)): same outputs.
#
#   run_example.sh [--small] [--procs N] [--out DIR] [--skip-m4]
#     --small    CI size: 2 processes, 300 steps, 1 fine-tuning epoch
#     --procs N  DDP processes (default 2); --out DIR outputs (default build/pytorch-example)
#     --skip-m4  no Cortex-M4 leg (no arm-none-eabi toolchain or qemu-system-arm)
# Run from anywhere; builds what it needs with the release preset (BUILD_DIR to use another).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=/usr/bin/python3  # Debian's python3-torch and python3-numpy
small=0 procs=2 out=$root/build/pytorch-example m4=1
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small=1 ;;
    --procs) procs=$2; shift ;;
    --out) out=$2; shift ;;
    --skip-m4) m4=0 ;;
    -h|--help) sed -n '3,17p' "$0"; exit 0 ;;
    *) echo "run_example.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build/release}
mkdir -p "$out"
out=$(cd "$out" && pwd)
data=$out/data

echo "=== build: fennec-convert and the hand-off program ($build) ==="
if [ ! -f "$build/CMakeCache.txt" ]; then (cd "$root" && cmake --preset release -B "$build"); fi
cmake --build "$build" -j2 --target fennec-convert fennec-infer fennec_pytorch_handoff
convert=$build/tools/fennec-convert
infer=$build/tools/fennec-infer
handoff=$build/examples/fennec_pytorch_handoff

echo "=== data: Fashion-MNIST test set and the brightness-shifted set, as plain IDX ==="
"$py" "$here/fashion_mnist.py" --out "$data"

echo "=== 1. PyTorch: DistributedDataParallel, $procs processes (gloo, loopback) ==="
if [ "$small" = 1 ]; then
  timeout 600 "$py" "$here/train_ddp.py" --out "$out" --procs 2 --max-steps 300 --timeout 400
  finetune_epochs=1
else
  timeout 3600 "$py" "$here/train_ddp.py" --out "$out" --procs "$procs" --epochs 3 --timeout 3000
  finetune_epochs=3
fi

echo "=== 2. hand-off: safetensors -> Fennec model file; Fennec's test logits against PyTorch's ==="
"$convert" "$out/model.safetensors" "$out/model.fennec"
"$handoff" logits "$out/model.fennec" "$data/test-images.idx" "$data/test-labels.idx" "$out/fennec_test_logits.f32"
"$py" "$here/check_handoff.py" "$out/pytorch_test_logits.f32" "$out/fennec_test_logits.f32" "$data/test-labels.idx"
echo "--- the same model through fennec-infer (the Debian Fashion-MNIST files, test split) ---"
"$infer" --model "$out/model.fennec" --data /usr/share/datasets/fashion-mnist \
  --output "$out/fennec_infer_logits.f32" | tee "$out/fennec_infer.txt"
"$py" "$here/check_handoff.py" "$out/pytorch_test_logits.f32" "$out/fennec_infer_logits.f32" \
  "$data/test-labels.idx" --names PyTorch fennec-infer

echo "=== 3a. on the device: fine-tune with the hidden layers frozen on the shifted set ==="
"$handoff" finetune "$out/model.fennec" "$data/shifted-train-images.idx" "$data/shifted-train-labels.idx" \
  "$data/shifted-test-images.idx" "$data/shifted-test-labels.idx" "$out/finetuned.safetensors" \
  --frozen 2 --epochs "$finetune_epochs" | tee "$out/finetune.log"
before=$(sed -n 's/^before fine-tuning, test: accuracy \([0-9.]*\).*/\1/p' "$out/finetune.log")
after=$(sed -n 's/^after fine-tuning, test: accuracy \([0-9.]*\).*/\1/p' "$out/finetune.log")
"$py" -c "import sys; b, a = float('$before'), float('$after'); print(f'shifted test accuracy {b:.4f} -> {a:.4f}'); sys.exit(0 if a > b + 0.05 else 1)"

if [ "$m4" = 1 ]; then
  echo "=== 3b. on the device: the model file in the Cortex-M4 image's flash, run under qemu-system-arm ==="
  "$py" "$here/make_m4_checks.py" "$data/test-images.idx" "$out/fennec_test_logits.f32" "$out/m4_checks.bin" --count 8
  m4build=$out/build-cortex-m4
  (cd "$root" && cmake --preset cortex-m4 -B "$m4build" -DFENNEC_M4_IMPORTED_MODEL="$out/model.fennec" \
    -DFENNEC_M4_IMPORTED_CHECKS="$out/m4_checks.bin" > "$out/cortex-m4-configure.log")
  cmake --build "$m4build" -j2 --target fennec_m4_imported
  arm-none-eabi-size "$m4build/platforms/cortex-m4/fennec_m4_imported.elf"
  (cd "$m4build" && ctest -R '^cortex_m4_imported$' --output-on-failure -V | grep -E '^[0-9]+: |tests passed|FAIL')
fi

echo "=== 4. the way back: the fine-tuned model into PyTorch, load_state_dict(strict=True) ==="
"$handoff" logits "$out/finetuned.safetensors" "$data/shifted-test-images.idx" "$data/shifted-test-labels.idx" \
  "$out/fennec_finetuned_logits.f32"
"$py" "$here/load_back.py" "$out/finetuned.safetensors" "$data/shifted-test-images.idx" \
  "$data/shifted-test-labels.idx" "$out/fennec_finetuned_logits.f32" --original "$out/model.safetensors" --frozen 2
echo "=== PyTorch scale-out example OK (outputs in $out) ==="
