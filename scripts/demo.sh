#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README demo command: install dependencies, build, train on Fashion-MNIST for one epoch and
# reproduce the chapter's weight-initialisation and optimizer figures.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FENNEC_SKIP_DEPS:-0}" = 1 ] || bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target fennec-train fennec-initstudy fennec-optstudy
bin=./build/release/tools
figures=out/figures
mkdir -p "$figures"

echo
echo "== fennec-train: 784-512-256-10 ReLU, He init, Adam lr 1e-3, batch 64, 1 epoch =="
"$bin/fennec-train" --data /usr/share/datasets/fashion-mnist --epochs 1

echo
echo "== fennec-initstudy --all: 10 layers x 500 units, batch 1000 =="
"$bin/fennec-initstudy" --all --out "$figures"

echo
echo "== fennec-optstudy: SGD, momentum, AdaGrad, RMSProp, Adam on 2-D test functions =="
"$bin/fennec-optstudy" --svg "$figures/optstudy.svg"

echo
echo "Figures (SVG; open in a browser, or 'rsvg-convert -o fig.png fig.svg'):"
for f in "$figures"/*.svg; do echo "  $(pwd)/$f"; done
