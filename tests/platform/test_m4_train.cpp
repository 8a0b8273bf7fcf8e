// SPDX-License-Identifier: Apache-2.0
// The Cortex-M4 training firmware's run (tests/portable/fashion_train.hpp) on the host:
// same code, seed, batches and scalar reference table. Its first 10 losses and test accuracy are
// the figures the firmware must reproduce, committed in fashion_train_reference.hpp, which the
// firmware compiles in and checks itself against (losses to 1e-5 relative, accuracy to 0.5
// points). The same for phase 2 (fine-tuning the last layer of the phase-1 model, whose model
// file the fine-tuning image carries in flash: fashion_model_data.hpp). This test checks the
// committed figures and file are what the host computes now; with
// FENNEC_WRITE_M4_TRAIN_REFERENCE=<directory> it also writes both headers there (to refresh them
// after a deliberate change).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "byte_array_header.hpp"

#include "fashion_train.hpp"
#include "fashion_model_data.hpp"
#include "fashion_train_reference.hpp"
#include "fennec/io.hpp"

namespace {

alignas(fennec::kArenaAlignment) unsigned char g_arena[fashion_train::kArenaBytes];
fashion_train::Buffers g_buffers;
constexpr std::size_t kFileBytes = fennec::model_file_size(fashion_train::kSpec);
alignas(4) unsigned char g_model_file[kFileBytes];

fennec::Status save_trained(const fennec::Model& model, void*) {
  fennec::MemoryWriter w(g_model_file, sizeof g_model_file);
  fennec::ByteWriter bw = w.writer();
  return fennec::save_model(model, bw);
}

void write_model_data(const char* path) {
  platform_test::write_byte_array_header(
      path,
      "// Written by tests/platform/test_m4_train.cpp (FENNEC_WRITE_M4_TRAIN_REFERENCE): the Fennec model\n"
      "// file of the host's phase-1 run of fashion_train.hpp on the CI subset, which the fine-tuning\n"
      "// image binds in place from flash.\n",
      "fashion_train", "kHostModelFile", g_model_file, kFileBytes);
}

bool read_file(void* context, std::uint8_t* dst, std::size_t n) {
  return std::fread(dst, 1, n, static_cast<std::FILE*>(context)) == n;
}

void write_reference(const char* path, const fashion_train::Outcome& o, const fashion_train::Outcome& ft) {
  std::FILE* f = std::fopen(path, "w");
  REQUIRE(f != nullptr);
  std::fprintf(f,
               "// SPDX-License-Identifier: Apache-2.0\n"
               "// Written by tests/platform/test_m4_train.cpp (FENNEC_WRITE_M4_TRAIN_REFERENCE): the host's\n"
               "// run of fashion_train.hpp on the CI subset (make_fashion14.py --train %u --test %u).\n"
               "#pragma once\n\n#include <cstddef>\n#include <cstdint>\n\nnamespace fashion_train::reference {\n"
               "inline constexpr std::uint32_t kTrainRecords = %u;\ninline constexpr std::uint32_t kTestRecords = %u;\n"
               "inline constexpr std::size_t kSteps = %zu;\ninline constexpr double kFirstLosses[10] = {\n",
               o.train_records, o.test_records, o.train_records, o.test_records, o.steps);
  for (double l : o.first_losses) std::fprintf(f, "    %.17g,\n", l);
  std::fprintf(f, "};\ninline constexpr double kTestAccuracy = %.17g;  // percent\n", o.test_accuracy());
  std::fprintf(f, "// Phase 2: the phase-1 model fine-tuned in its last layer over the same records.\n"
                  "inline constexpr double kFinetuneFirstLosses[10] = {\n");
  for (double l : ft.first_losses) std::fprintf(f, "    %.17g,\n", l);
  std::fprintf(f, "};\ninline constexpr double kFinetuneTestAccuracy = %.17g;  // percent\n"
                  "}  // namespace fashion_train::reference\n", ft.test_accuracy());
  std::fclose(f);
}

}  // namespace

TEST_CASE("Cortex-M4 training run on the host: the firmware's reference figures", "[platform][m4train]") {
  std::FILE* f = std::fopen(FENNEC_FASHION14_FILE, "rb");
  REQUIRE(f != nullptr);
  fashion_train::Reader in{read_file, f};
  fashion_train::Outcome o, ft;
  const fennec::Status s = fashion_train::run(g_arena, sizeof g_arena, in, g_buffers, o, save_trained);
  INFO(fennec::status_code_name(s.code()) << ": " << s.message());
  REQUIRE(s.is_ok());
  // Phase 2 from the model phase 1 just saved, over the same file again.
  std::rewind(f);
  const fennec::Status s2 = fashion_train::finetune(g_model_file, sizeof g_model_file, g_arena, sizeof g_arena, in, g_buffers, ft);
  std::fclose(f);
  INFO(fennec::status_code_name(s2.code()) << ": " << s2.message());
  REQUIRE(s2.is_ok());
  if (const char* dir = std::getenv("FENNEC_WRITE_M4_TRAIN_REFERENCE")) {
    write_reference((std::string(dir) + "/fashion_train_reference.hpp").c_str(), o, ft);
    write_model_data((std::string(dir) + "/fashion_model_data.hpp").c_str());
  }

  INFO("loss_first " << o.loss_first() << " loss_last " << o.loss_last() << " test_acc " << o.test_accuracy());
  INFO("finetune: loss_first " << ft.loss_first() << " loss_last " << ft.loss_last() << " test_acc " << ft.test_accuracy());
  CHECK(o.train_records == fashion_train::reference::kTrainRecords);
  CHECK(o.steps == fashion_train::reference::kSteps);
  CHECK(o.test_count == fashion_train::reference::kTestRecords);
  CHECK(o.loss_last() < 0.6 * o.loss_first());
  // The committed figures are this code's on this host (the same tolerances as the firmware's).
  for (std::size_t i = 0; i < 10; ++i) {
    INFO("step " << i + 1);
    CHECK(o.first_losses[i] == Approx(fashion_train::reference::kFirstLosses[i]).epsilon(1e-5));
    CHECK(ft.first_losses[i] == Approx(fashion_train::reference::kFinetuneFirstLosses[i]).epsilon(1e-5));
  }
  CHECK(std::fabs(o.test_accuracy() - fashion_train::reference::kTestAccuracy) <= 0.5);
  CHECK(std::fabs(ft.test_accuracy() - fashion_train::reference::kFinetuneTestAccuracy) <= 0.5);
  // The model file the fine-tuning image carries in flash is the one phase 1 trains here, byte for byte.
  CHECK(std::memcmp(g_model_file, fashion_train::kHostModelFile, kFileBytes) == 0);
  // Fine-tuning starts where phase 1 ended: its first loss is near phase 1's last, far below the start.
  CHECK(ft.first_losses[0] < 0.5 * o.first_losses[0]);
  // Its arena holds the activations and the last layer (330 parameters, Adam), not the model
  // (GEMM scratch aside: this host's SIMD tables pack, the M4's scalar table plans none).
  CHECK(fashion_train::kFinetunePlan.total() - fashion_train::kFinetunePlan.scratch <
        (fashion_train::kPlan.total() - fashion_train::kPlan.scratch) / 8);
}
