// SPDX-License-Identifier: Apache-2.0
// Fennec model file: in-memory load (+ run), streaming load in 7-byte chunks; both must agree.
// Each input runs twice: as given, and with its CRC recomputed.
#include "fuzz_common.hpp"

namespace {
void one(const std::uint8_t* data, std::size_t size) {
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(data, size);
  fennec::LoadOptions lo;
  lo.check_finite = size % 2 == 0;
  fennec::Arena& a = fuzz::arena();
  fennec::Result<fennec::Model> m = fennec::load_model(data, size, fuzz::inference(), a, lo);
  if (m.is_ok()) {
    if (!info.is_ok()) __builtin_trap();
    fuzz::run_once(m.value());
  } else if (a.used() != 0) {
    __builtin_trap();  // a failed load must rewind the arena
  }
  fennec_test::ChunkedReader src{data, size, 7};
  fennec::ByteReader r = src.reader();
  fennec::Arena& b = fuzz::arena();
  fennec::Result<fennec::Model> s = fennec::load_model(r, fuzz::inference(), b, lo);
  // Both paths accept the same inputs. Their errors agree too, with one legitimate exception:
  // a consistent header whose parameters exceed the arena, on a truncated input, is kCorruptData
  // in memory (the size is known up front) and kOutOfMemory when streaming (the arena check
  // comes before the payload is read).
  const fennec::StatusCode cm = m.status().code(), cs = s.status().code();
  if (cm != cs && !(cm == fennec::StatusCode::kCorruptData && cs == fennec::StatusCode::kOutOfMemory))
    __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one(data, size);
  if (const std::uint8_t* fixed = fuzz::with_fixed_crc(data, size)) one(fixed, size);
  return 0;
}
