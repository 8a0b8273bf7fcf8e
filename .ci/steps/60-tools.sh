#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tools on the real data set: a short fennec-train run on Fashion-MNIST (learns, allocates
# nothing after setup; with a validation split, a schedule, the metrics log and the curves) and
# the five initialisation figures plus the optimizer figure, each checked to be well-formed XML.
# Uses the release build from step 10.
set -euo pipefail
cmake --build --preset release --target fennec-train fennec-initstudy fennec-optstudy
bin=build/release/tools
log=$(mktemp)
figures=build/release/ci-figures
mkdir -p "$figures"
"$bin/fennec-train" --data /usr/share/datasets/fashion-mnist --epochs 2 --train-samples 20000 \
  --val-split 0.1 --lr-schedule cosine --warmup-steps 50 --log "$figures/train-metrics.csv" \
  --plot "$figures/train-curves.svg" --no-progress | tee "$log"
grep -q '^heap allocations after setup: 0$' "$log"
test "$(wc -l < "$figures/train-metrics.csv")" -eq 3  # header and one row per epoch
acc=$(sed -n 's/.*test acc \([0-9.]*\).*/\1/p' "$log" | tail -1)
python3 -c "import sys; a = float('$acc'); print('test accuracy', a); sys.exit(0 if a >= 0.75 else 1)"
"$bin/fennec-initstudy" --all --gradients --out "$figures"
"$bin/fennec-optstudy" --svg "$figures/optstudy.svg"
for f in "$figures"/*.svg; do
  python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$f"
done
echo "tools OK: $(ls "$figures"/*.svg | wc -l) figures in $figures"
