// SPDX-License-Identifier: Apache-2.0
// The training run of the Cortex-M4 training firmware (train_main.cpp), shared with its host
// reference test (tests/platform/test_m4_train.cpp) so that both run exactly this code: a
// 196-64-32-10 MLP (ReLU, He normal, softmax cross-entropy), Adam, batch 16, the fused update
// (no whole-model gradient buffer), the scalar reference kernels, on Fashion-MNIST pooled to
// 14x14 (make_fashion14.py writes the file). Records arrive a batch at a time from a Reader (the
// firmware's is semihosting SYS_READ); pixels stay uint8 in the record buffer and are converted
// to floats in [0, 1] for the step that uses them.
//
// FASHION_TRAIN_SMALL selects the 196-32-10 variant trained with SGD + momentum. finetune() is
// the second phase: the host's phase-1 model (fashion_model_data.hpp) fine-tuned in its last
// layer, the others frozen and read in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/rng.hpp"
#include "fennec/spec.hpp"
#include "fennec/status.hpp"
#include "fennec/trainer.hpp"

namespace fashion_train {

inline constexpr std::size_t kPixels = 196;
inline constexpr std::size_t kRecordBytes = kPixels + 1;  // pixels, then the label
inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::size_t kBatch = 16;
inline constexpr std::uint64_t kSeed = 2024;
inline constexpr std::size_t kLossesKept = 10;  // the first (and last) 10 step losses
inline constexpr std::uint32_t kBlockRows = 4;  // fused update: 4 weight rows (3,136 B) at a time

#if FASHION_TRAIN_SMALL
inline constexpr fennec::ModelSpec kSpec = fennec::ModelSpec(kPixels)
                                               .dense(32, fennec::ActivationSpec::relu())
                                               .dense(10, fennec::ActivationSpec::identity())
                                               .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
inline constexpr fennec::OptimizerConfig kOptimizer = fennec::OptimizerConfig::momentum_sgd(0.01, 0.9);
inline constexpr const char* kName = "196-32-10 momentum";
#else
inline constexpr fennec::ModelSpec kSpec = fennec::ModelSpec(kPixels)
                                               .dense(64, fennec::ActivationSpec::relu())
                                               .dense(32, fennec::ActivationSpec::relu())
                                               .dense(10, fennec::ActivationSpec::identity())
                                               .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
inline constexpr fennec::OptimizerConfig kOptimizer = fennec::OptimizerConfig::adam(1e-3);
inline constexpr const char* kName = "196-64-32-10 adam";
#endif
inline constexpr fennec::ModelOptions kOptions =
    fennec::ModelOptions::fused_training(kBatch, kOptimizer, kBlockRows, fennec::Isa::kRef);
inline constexpr fennec::MemoryPlan kPlan = fennec::plan(kSpec, kOptions);
inline constexpr std::size_t kArenaBytes = kPlan.total();

// Reads exactly n bytes into dst; false at the end of the data or on an error.
struct Reader {
  bool (*read)(void* context, std::uint8_t* dst, std::size_t n) = nullptr;
  void* context = nullptr;
};

// The memory a run uses besides the arena (part of the firmware's RAM budget).
struct Buffers {
  std::uint8_t records[kBatch * kRecordBytes];  // one batch as read: uint8 pixels and labels
  float x[kBatch * kPixels];                    // the batch's pixels as floats, for its step
  std::int32_t y[kBatch];
};

struct Outcome {
  std::uint32_t train_records = 0, test_records = 0;  // as the file's header says
  std::size_t steps = 0;
  double first_losses[kLossesKept] = {};
  double last_losses[kLossesKept] = {};  // ring: step s at s % kLossesKept
  std::size_t test_correct = 0;
  std::size_t test_count = 0;

  double mean(const double* v) const {
    const std::size_t n = steps < kLossesKept ? steps : kLossesKept;
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += v[i];
    return n ? s / static_cast<double>(n) : 0.0;
  }
  double loss_first() const { return mean(first_losses); }  // mean of the first 10 steps
  double loss_last() const { return mean(last_losses); }    // mean of the last 10 steps
  double test_accuracy() const {                            // percent
    return test_count ? 100.0 * static_cast<double>(test_correct) / static_cast<double>(test_count) : 0.0;
  }
};

inline std::uint32_t read_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// Reads one batch of records and converts it for the step: x = pixel / 255, y = label.
inline fennec::Status next_batch(Reader& in, Buffers& b) {
  FENNEC_ENSURE(in.read(in.context, b.records, sizeof b.records), fennec::StatusCode::kIoError,
                "fashion data: short read of a %zu-byte batch", sizeof b.records);
  for (std::size_t i = 0; i < kBatch; ++i) {
    const std::uint8_t* r = b.records + i * kRecordBytes;
    for (std::size_t j = 0; j < kPixels; ++j) b.x[i * kPixels + j] = static_cast<float>(r[j]) * (1.f / 255.f);
    b.y[i] = r[kPixels];
  }
  return fennec::Status::ok();
}

// Reads and checks the file's header; the record counts go to `out`.
inline fennec::Status read_header(Reader& in, Outcome& out) {
  std::uint8_t header[kHeaderBytes];
  FENNEC_ENSURE(in.read(in.context, header, sizeof header), fennec::StatusCode::kIoError,
                "fashion data: no %zu-byte header", kHeaderBytes);
  FENNEC_ENSURE(std::memcmp(header, "FM14", 4) == 0 && read_u32(header + 4) == kRecordBytes,
                fennec::StatusCode::kCorruptData, "fashion data: not a FM14 file of %zu-byte records",
                kRecordBytes);
  out.train_records = read_u32(header + 8);
  out.test_records = read_u32(header + 12);
  return fennec::Status::ok();
}

// One epoch over the file's training records (whole batches), then the test records.
inline fennec::Status train_and_test(fennec::Trainer& trainer, Reader& in, Buffers& b, Outcome& out) {
  const fennec::ConstMatrixView x(b.x, kBatch, kPixels);
  const fennec::Targets y = fennec::Targets::classes(b.y);
  for (std::size_t s = 0; s < out.train_records / kBatch; ++s) {
    FENNEC_RETURN_IF_ERROR(next_batch(in, b));
    fennec::Result<fennec::StepStats> st = trainer.step(x, y);
    if (!st.is_ok()) return st.status();
    if (s < kLossesKept) out.first_losses[s] = st.value().loss;
    out.last_losses[s % kLossesKept] = st.value().loss;
    out.steps = s + 1;
  }
  // Skip the training records past the last whole batch.
  for (std::size_t i = 0; i < out.train_records % kBatch; ++i)
    FENNEC_ENSURE(in.read(in.context, b.records, kRecordBytes), fennec::StatusCode::kIoError,
                  "fashion data: short read");
  for (std::size_t s = 0; s < out.test_records / kBatch; ++s) {
    FENNEC_RETURN_IF_ERROR(next_batch(in, b));
    fennec::Result<fennec::EvalStats> e = trainer.evaluate(x, y);
    if (!e.is_ok()) return e.status();
    out.test_correct += e.value().correct;
    out.test_count += kBatch;
  }
  return fennec::Status::ok();
}

// Called with the trained model at the end of phase 1 (the host test saves it there).
using OnTrained = fennec::Status (*)(const fennec::Model& model, void* context);

// Phase 1: the model from He-normal weights (seed kSeed), every layer trained.
inline fennec::Status run(unsigned char* arena_bytes, std::size_t arena_size, Reader& in, Buffers& b, Outcome& out,
                          OnTrained on_trained = nullptr, void* context = nullptr) {
  FENNEC_RETURN_IF_ERROR(read_header(in, out));
  fennec::Arena arena(arena_bytes, arena_size);
  fennec::Result<fennec::Model> bound = fennec::Model::bind(kSpec, kOptions, arena);
  if (!bound.is_ok()) return bound.status();
  fennec::Model& model = bound.value();  // not copied: a Model is kilobytes of stack
  fennec::Rng rng(kSeed);
  FENNEC_RETURN_IF_ERROR(model.init_parameters(rng));
  fennec::Result<fennec::Trainer> created = fennec::Trainer::create(model);
  if (!created.is_ok()) return created.status();
  FENNEC_RETURN_IF_ERROR(train_and_test(created.value(), in, b, out));
  return on_trained ? on_trained(model, context) : fennec::Status::ok();
}

// Phase 2, fine-tuning: a host-trained model file (4-byte aligned, e.g. in flash) bound in place
// with every layer but the last frozen: the frozen layers' parameters are read from the file,
// only the last layer's are copied into the arena and trained (fused update).
inline constexpr fennec::ModelOptions kFinetuneOptions =
    kOptions.with_frozen_layers(kSpec.num_layers - 1).with_external_parameters();
inline constexpr fennec::MemoryPlan kFinetunePlan = fennec::plan(kSpec, kFinetuneOptions);

inline fennec::Status finetune(const void* model_file, std::size_t file_bytes, unsigned char* arena_bytes,
                               std::size_t arena_size, Reader& in, Buffers& b, Outcome& out) {
  FENNEC_RETURN_IF_ERROR(read_header(in, out));
  fennec::Arena arena(arena_bytes, arena_size);
  fennec::Result<fennec::Model> bound = fennec::load_model_in_place(model_file, file_bytes, kFinetuneOptions, arena);
  if (!bound.is_ok()) return bound.status();
  fennec::Result<fennec::Trainer> created = fennec::Trainer::create(bound.value());
  if (!created.is_ok()) return created.status();
  return train_and_test(created.value(), in, b, out);
}

}  // namespace fashion_train
