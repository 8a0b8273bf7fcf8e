// SPDX-License-Identifier: Apache-2.0
// The Fennec model file that tests/portable/gen_model.py writes in Python (kModelFile in
// model_data.hpp, the array the Cortex-M4 self-test loads from flash), read on this target by the
// C++ loader: the same checks as the firmware (model_file_checks.hpp: load_model into a
// plan-sized arena, the oracle's logits within the same tolerances, save_model reproduces the
// array byte for byte, corrupted copies refused), plus what is too slow to run under
// qemu-system-arm: every single-byte corruption and the streaming reader.
#include <catch2/catch.hpp>

#include "catch_report.hpp"

#include <cstring>
#include <vector>

#include "fennec/io.hpp"
#include "model_file_checks.hpp"

namespace {

using platform_test::CatchReport;

alignas(fennec::kArenaAlignment) unsigned char g_arena[sensor_model::kArenaBytes];
unsigned char g_file[sensor_model::kModelFileBytes];

}  // namespace

TEST_CASE("Python-written Fennec model file loads like the firmware's", "[platform][io]") {
  CatchReport report;
  sensor_model::run_model_file_checks(g_arena, g_file, report);
  CHECK(report.failed == 0);
  CHECK(report.passed > sensor_model::kNumCases * 5);
}

TEST_CASE("Python-written model file: save_model of the loaded model is byte-identical",
          "[platform][io]") {
  using namespace sensor_model;
  fennec::Arena arena(g_arena, kArenaBytes);
  fennec::Result<fennec::Model> model = fennec::load_model(kModelFile, kModelFileBytes, kOptions, arena);
  REQUIRE(model.is_ok());

  fennec::CountingWriter counter;
  fennec::ByteWriter cw = counter.writer();
  REQUIRE(fennec::save_model(model.value(), cw).is_ok());
  CHECK(counter.size() == kModelFileBytes);

  std::vector<unsigned char> out(kModelFileBytes + 16, 0xA5);
  fennec::MemoryWriter mw(out.data(), out.size());
  fennec::ByteWriter w = mw.writer();
  REQUIRE(fennec::save_model(model.value(), w).is_ok());
  REQUIRE(mw.size() == kModelFileBytes);
  // First differing byte, for the message.
  std::size_t diff = 0;
  while (diff < kModelFileBytes && out[diff] == kModelFile[diff]) ++diff;
  INFO("first differing byte at offset " << diff);
  CHECK(diff == kModelFileBytes);
  CHECK(fennec::crc32(kModelFile, kModelFileBytes - 4) ==
        (static_cast<std::uint32_t>(kModelFile[kModelFileBytes - 4]) |
         static_cast<std::uint32_t>(kModelFile[kModelFileBytes - 3]) << 8 |
         static_cast<std::uint32_t>(kModelFile[kModelFileBytes - 2]) << 16 |
         static_cast<std::uint32_t>(kModelFile[kModelFileBytes - 1]) << 24));
}

TEST_CASE("Python-written model file: streaming load gives the same parameters", "[platform][io]") {
  using namespace sensor_model;
  fennec::Arena arena(g_arena, kArenaBytes);
  fennec::MemoryReader mr(kModelFile, kModelFileBytes);
  fennec::ByteReader r = mr.reader();
  fennec::Result<fennec::Model> model = fennec::load_model(r, kOptions, arena);
  REQUIRE(model.is_ok());
  CHECK(mr.position() == kModelFileBytes);
  CHECK(holds_model_data(model.value()));
}

// CRC-32 catches every single-byte error, so each inverted byte must be refused: kCorruptData,
// except the four version bytes, where the flip reads as a future version (kUnsupported).
TEST_CASE("Python-written model file: every single inverted byte is refused", "[platform][io]") {
  using namespace sensor_model;
  std::vector<unsigned char> file(kModelFile, kModelFile + kModelFileBytes);
  fennec::Arena arena(g_arena, kArenaBytes);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kModelFileBytes; ++i) {
    file[i] ^= 0xFFu;
    fennec::Result<fennec::Model> r = fennec::load_model(file.data(), file.size(), kOptions, arena);
    const fennec::StatusCode want =
        (i >= 8 && i < 12) ? fennec::StatusCode::kUnsupported : fennec::StatusCode::kCorruptData;
    if (r.is_ok() || r.status().code() != want || arena.used() != 0) {
      ++wrong;
      if (wrong <= 5) {
        INFO("offset " << i << ": " << (r.is_ok() ? "loaded" : r.status().message()));
        CHECK(false);
      }
    }
    file[i] ^= 0xFFu;
  }
  CHECK(wrong == 0);
}
