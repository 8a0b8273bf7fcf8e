// SPDX-License-Identifier: Apache-2.0
// Packing of int8 weights into the layout of fennec/detail/qpack_layout.hpp, done once when a
// quantized model's weights are final (quantize, the int8 model loader). Baseline code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/detail/qpack_layout.hpp"

namespace fennec::kernels {

// w is (n x k) row-major int8 with row stride ldw; out receives detail::qpack_bytes(n, k) bytes
// (any alignment; the kernels load it unaligned). out must not overlap w.
void qpack_s8(const std::int8_t* w, std::size_t ldw, std::size_t n, std::size_t k, std::uint8_t* out);

}  // namespace fennec::kernels
