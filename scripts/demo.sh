#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README demo command: install dependencies, build, train on Fashion-MNIST for three epochs and
# reproduce the chapter's weight-initialisation and optimizer figures (docs/figures.md lists
# every figure and what it shows).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FENNEC_SKIP_DEPS:-0}" = 1 ] || bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target fennec-train fennec-infer fennec-initstudy fennec-optstudy
bin=./build/release/tools
infer="$bin/fennec-infer"
figures=out/figures
mkdir -p "$figures"

echo
echo "== fennec-train: 784-512-256-10 ReLU, He init, Adam lr 1e-3 with cosine decay, batch 64, 3 epochs =="
echo "   (a tenth of the training set held out for validation; the test set is scored once, at the end)"
"$bin/fennec-train" --data /usr/share/datasets/fashion-mnist --epochs 3 --val-split 0.1 \
  --lr-schedule cosine --warmup-steps 200 --save out/model.fennec \
  --log "$figures/curves.csv" --plot "$figures/curves.svg"

echo
echo "== fennec-infer: the confusion matrix of the trained model on the test set =="
"$infer" --model out/model.fennec --data /usr/share/datasets/fashion-mnist --confusion \
  --plot "$figures/confusion.svg" > "$figures/confusion.txt"
cat "$figures/confusion.txt"

echo
echo "== fennec-initstudy --all: 10 layers x 500 units, batch 1000, seven initialisations =="
"$bin/fennec-initstudy" --all --out "$figures"

echo
echo "== fennec-optstudy: SGD, momentum, AdaGrad, RMSProp, Adam, each at its best learning rate =="
"$bin/fennec-optstudy" --svg "$figures/optstudy.svg" --csv "$figures/optstudy.csv"

echo
echo "== fennec-optstudy --chapter: the ravine, every optimizer at one learning rate =="
"$bin/fennec-optstudy" --chapter --svg "$figures/optstudy-chapter.svg" --csv "$figures/optstudy-chapter.csv"

echo
echo "Figures (SVG; open in a browser, or 'rsvg-convert -o fig.png fig.svg'; what each shows: docs/figures.md):"
for f in "$figures"/*.svg; do echo "  $(pwd)/$f"; done
echo "Restyle them from the CSV tables beside them with matplotlib: scripts/plot.py $figures/*.csv"
