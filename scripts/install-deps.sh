#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package Fennec's build, tests, tools, benchmarks and CI use.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake ninja-build git ca-certificates pkg-config \
  libxsimd-dev catch2 libcli11-dev libbenchmark-dev libopenblas-dev libeigen3-dev zlib1g-dev \
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev \
  binutils-arm-none-eabi qemu-user qemu-system-arm \
  llvm `# llvm-mca: the cycle model of the NEON GEMM micro-kernels (bench/neon-mca.sh)` \
  clang libclang-rt-14-dev python3 python3-numpy librsvg2-bin dataset-fashion-mnist \
  python3-matplotlib `# scripts/plot.py: redraws the figures from the CSV tables of the tools (optional for users)` \
  python3-torch `# examples/pytorch: DistributedDataParallel training and the exchange checks` \
  libxnnpack-dev libpthreadpool-dev `# optional XNNPACK f32/qs8 baselines of the int8 benchmarks (bench/bm_xnnpack.cpp)` \
  libblis-serial-dev `# optional BLIS f32 GEMM baseline (bench/bm_blis.cpp); the serial build: one thread` \
  ccache  # optional compiler cache for developers' rebuilds (docs/contributing.md); CI does not use it
