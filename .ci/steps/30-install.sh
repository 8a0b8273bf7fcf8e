#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the package to a prefix and build a consumer project against it with find_package.
set -euo pipefail
prefix=$(mktemp -d)
cmake --install build/release --prefix "$prefix"
cmake -S examples/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build build/consumer
./build/consumer/fennec_consumer
./build/consumer/fennec_consumer_c
