#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The PyTorch scale-out example (examples/pytorch/README.md) at CI size: PyTorch trains the
# 784-512-256-10 MLP with DistributedDataParallel, 2 processes over gloo on loopback, 300 steps
# (each process and the whole run bounded: train_ddp.py's --timeout, the script's timeout, and
# this step's); Fennec imports it (same predictions on all 10,000 test images, logits within
# 1e-4), fine-tunes it with the hidden layers frozen on brightness-shifted images (accuracy
# must rise), runs the model file from flash on the Cortex-M4 under qemu-system-arm against the
# host's logits, and PyTorch loads the fine-tuned model back with load_state_dict(strict=True)
# (same outputs). Uses the release build from step 10.
set -euo pipefail
t0=$(date +%s)
timeout 900 bash examples/pytorch/run_example.sh --small --out build/pytorch-example-ci
echo "=== pytorch example (small): $(( $(date +%s) - t0 )) s ==="
