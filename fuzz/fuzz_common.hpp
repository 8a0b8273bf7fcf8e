// SPDX-License-Identifier: Apache-2.0
// Shared by the fuzz targets: a static arena (no heap in the code under test); the reader that
// serves the input in small chunks (the streaming path) is the io tests' ChunkedReader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/fennec.hpp"
#include "fennec/io.hpp"
#include "support/chunked_reader.hpp"

namespace fuzz {

inline constexpr std::size_t kArenaBytes = 8u << 20;

inline fennec::Arena& arena() {
  alignas(fennec::kArenaAlignment) static unsigned char buffer[kArenaBytes];
  static fennec::Arena a;
  a = fennec::Arena(buffer, kArenaBytes);
  return a;
}

// Runs the model once on a fixed input (load and run are separate phases: ORT#28730).
inline void run_once(fennec::Model& m) {
  static float x[2 * 4096];
  const std::size_t in = m.spec().input;
  if (in > 4096) return;
  for (std::size_t i = 0; i < 2 * in; ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.3f;
  fennec::Result<fennec::ConstMatrixView> y = m.forward(fennec::ConstMatrixView(x, 2, in));
  if (!y.is_ok()) __builtin_trap();  // a loaded model must run
}

// A copy of the input with its trailing CRC-32 recomputed, so mutations reach the code behind the
// checksum (spec decoding, binding, loading, running) instead of stopping at it.
inline const std::uint8_t* with_fixed_crc(const std::uint8_t* data, std::size_t size) {
  static std::uint8_t copy[1 << 20];
  if (size < 4 || size > sizeof(copy)) return nullptr;
  std::memcpy(copy, data, size);
  const std::uint32_t crc = fennec::crc32(copy, size - 4);
  for (int i = 0; i < 4; ++i) copy[size - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  return copy;
}

inline fennec::ModelOptions inference() {
  fennec::ModelOptions o;
  o.mode = fennec::Mode::kInference;
  o.max_batch = 2;
  return o;
}

}  // namespace fuzz
