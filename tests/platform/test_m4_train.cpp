// The Cortex-M4 training firmware's run (platforms/cortex-m4/fashion_train.hpp) on the host:
// same code, seed, batches and scalar reference table. Its first 10 losses and test accuracy are
// the figures the firmware must reproduce, committed in fashion_train_reference.hpp, which the
// firmware compiles in and checks itself against (losses to 1e-5 relative, accuracy to 0.5
// points). This test checks the committed figures are what the host computes now; with
// FENNEC_WRITE_M4_TRAIN_REFERENCE=<path> it also writes the header (to refresh it after a
// deliberate change).
#include <cstdio>
#include <cstdlib>

#include <catch2/catch.hpp>

#include "fashion_train.hpp"
#include "fashion_train_reference.hpp"

namespace {

alignas(fennec::kArenaAlignment) unsigned char g_arena[fashion_train::kArenaBytes];
fashion_train::Buffers g_buffers;

bool read_file(void* context, std::uint8_t* dst, std::size_t n) {
  return std::fread(dst, 1, n, static_cast<std::FILE*>(context)) == n;
}

void write_reference(const char* path, const fashion_train::Outcome& o) {
  std::FILE* f = std::fopen(path, "w");
  REQUIRE(f != nullptr);
  std::fprintf(f,
               "// Written by tests/platform/test_m4_train.cpp (FENNEC_WRITE_M4_TRAIN_REFERENCE): the host's\n"
               "// run of fashion_train.hpp on the CI subset (make_fashion14.py --train %u --test %u).\n"
               "#pragma once\n\n#include <cstddef>\n#include <cstdint>\n\nnamespace fashion_train::reference {\n"
               "inline constexpr std::uint32_t kTrainRecords = %u;\ninline constexpr std::uint32_t kTestRecords = %u;\n"
               "inline constexpr std::size_t kSteps = %zu;\ninline constexpr double kFirstLosses[10] = {\n",
               o.train_records, o.test_records, o.train_records, o.test_records, o.steps);
  for (double l : o.first_losses) std::fprintf(f, "    %.17g,\n", l);
  std::fprintf(f, "};\ninline constexpr double kTestAccuracy = %.17g;  // percent\n}  // namespace fashion_train::reference\n",
               o.test_accuracy());
  std::fclose(f);
}

}  // namespace

TEST_CASE("Cortex-M4 training run on the host: the firmware's reference figures", "[platform][m4train]") {
  std::FILE* f = std::fopen(FENNEC_FASHION14_FILE, "rb");
  REQUIRE(f != nullptr);
  fashion_train::Reader in{read_file, f};
  fashion_train::Outcome o;
  const fennec::Status s = fashion_train::run(g_arena, sizeof g_arena, in, g_buffers, o);
  std::fclose(f);
  INFO(fennec::status_code_name(s.code()) << ": " << s.message());
  REQUIRE(s.is_ok());
  if (const char* path = std::getenv("FENNEC_WRITE_M4_TRAIN_REFERENCE")) write_reference(path, o);

  INFO("loss_first " << o.loss_first() << " loss_last " << o.loss_last() << " test_acc " << o.test_accuracy());
  CHECK(o.train_records == fashion_train::reference::kTrainRecords);
  CHECK(o.steps == fashion_train::reference::kSteps);
  CHECK(o.test_count == fashion_train::reference::kTestRecords);
  CHECK(o.loss_last() < 0.6 * o.loss_first());
  // The committed figures are this code's on this host (the same tolerances as the firmware's).
  for (std::size_t i = 0; i < 10; ++i) {
    INFO("step " << i + 1);
    CHECK(o.first_losses[i] == Approx(fashion_train::reference::kFirstLosses[i]).epsilon(1e-5));
  }
  CHECK(std::fabs(o.test_accuracy() - fashion_train::reference::kTestAccuracy) <= 0.5);
}
