// SPDX-License-Identifier: Apache-2.0
// int8 model file: header read, load, and a run of whatever loads. Each input runs twice: as
// given, and with its CRC recomputed (so mutations reach the field checks behind it).
#include "fennec/quant_io.hpp"
#include "fuzz_common.hpp"

namespace {
void one(const std::uint8_t* data, std::size_t size) {
  fennec::Result<fennec::ModelSpec> spec = fennec::read_quantized_spec(data, size);
  fennec::Arena& a = fuzz::arena();
  fennec::Result<fennec::QuantizedModel> m = fennec::load_quantized_model(data, size, 2, fennec::Isa::kRef, a);
  if (!m.is_ok()) {
    if (a.used() != 0) __builtin_trap();  // a failed load must rewind the arena
    return;
  }
  if (!spec.is_ok()) __builtin_trap();
  static float x[2 * 4096];
  const std::size_t in = m.value().spec().input;
  if (in > 4096) return;
  for (std::size_t i = 0; i < 2 * in; ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.3f;
  if (!m.value().forward(fennec::ConstMatrixView(x, 2, in)).is_ok()) __builtin_trap();  // a loaded model runs
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one(data, size);
  if (const std::uint8_t* fixed = fuzz::with_fixed_crc(data, size)) one(fixed, size);
  return 0;
}
