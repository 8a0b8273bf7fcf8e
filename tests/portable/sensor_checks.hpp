// SPDX-License-Identifier: Apache-2.0
// The checks the Cortex-M4 example firmware runs, shared with the host/ARM Linux test
// (tests/platform/test_sensor_model.cpp) so every target runs the same model on the same data.
//
// `Report` is anything with
//   void check(bool ok, const char* what, int index);
//   void check_near(float got, float want, float tol, const char* what, int index);
// The firmware's prints failures over semihosting; the host's forwards to Catch2.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/arena.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/spec.hpp"
#include "model_data.hpp"

namespace sensor_model {

inline constexpr fennec::ModelSpec kSpec =
    fennec::ModelSpec(kSizes[0])
        .dense(kSizes[1], fennec::ActivationSpec::relu())
        .dense(kSizes[2], fennec::ActivationSpec::relu())
        .dense(kSizes[3], fennec::ActivationSpec::identity())
        .with_loss(fennec::Loss::kSoftmaxCrossEntropy);

// Inference, one sample at a time: parameters + two ping-pong buffers, no GEMM scratch.
inline constexpr fennec::ModelOptions kOptions{fennec::Mode::kInference, 1,
                                               fennec::OptimizerKind::kSgd, fennec::Isa::kAuto};
inline constexpr fennec::MemoryPlan kPlan = fennec::plan(kSpec, kOptions);
// Size of the firmware's static arena, known at compile time.
inline constexpr std::size_t kArenaBytes = kPlan.total();

static_assert(kPlan.gradients == 0 && kPlan.optimizer_state == 0, "inference plan has no training blocks");
static_assert(kPlan.scratch == 0, "batch-1 inference needs no GEMM scratch");
static_assert(kNumLayers == 3 && kSpec.num_layers == 3, "model_data.hpp and kSpec disagree");

// Copy the flash-resident weights into the model's parameter block.
inline void load_weights(fennec::Model& model) {
  for (int l = 0; l < kNumLayers; ++l) {
    const fennec::MatrixView w = model.weights(static_cast<std::size_t>(l));
    const float* src = kWeights[l];
    for (std::size_t r = 0; r < w.rows; ++r)
      for (std::size_t c = 0; c < w.cols; ++c) w(r, c) = src[r * w.cols + c];
    const fennec::VectorView b = model.bias(static_cast<std::size_t>(l));
    for (std::size_t j = 0; j < b.size; ++j) b[j] = kBiases[l][j];
  }
}

// Every case through `model` (bound for kSpec; a Model or a QuantizedModel): logit k of the
// cases within tolerance(k) of the float64 oracle, and the class want_class(i).
template <class AnyModel, class Report, class Tolerance, class WantClass>
void check_cases_against(AnyModel& model, Report& report, Tolerance tolerance, WantClass want_class,
                         const char* logit_what, const char* class_what) {
  for (int i = 0; i < kNumCases; ++i) {
    const fennec::ConstMatrixView x(kInputs + i * kSizes[0], 1, kSizes[0]);
    fennec::Result<fennec::ConstMatrixView> y = model.forward(x);
    const bool ok = y.is_ok() && y->rows == 1 && y->cols == kSizes[3];
    report.check(ok, "forward", i);
    if (!ok) continue;
    const fennec::ConstMatrixView logits = y.value();
    std::size_t best = 0;
    for (std::size_t j = 0; j < kSizes[3]; ++j) {
      const std::size_t k = static_cast<std::size_t>(i) * kSizes[3] + j;
      report.check_near(logits(0, j), kExpectedLogits[k], tolerance(k), logit_what, i);
      if (logits(0, j) > logits(0, best)) best = j;
    }
    report.check(static_cast<std::int32_t>(best) == want_class(i), class_what, i);
  }
}

// Each logit within kLogitTolerance of the float64 oracle, and the right class.
template <class Report>
void check_cases(fennec::Model& model, Report& report) {
  check_cases_against(
      model, report, [](std::size_t k) { return kLogitTolerance[k]; }, [](int i) { return kLabels[i]; }, "logit",
      "argmax == label");
}

// `buffer` must be 64-byte aligned and hold at least kArenaBytes bytes.
template <class Report>
void run_checks(unsigned char* buffer, Report& report) {
  // 1. The plan is what the layout implies: padded parameters plus two 32-float buffers.
  report.check(kPlan.activations == 2 * fennec::arena_round_up(32 * sizeof(float)), "plan.activations", 0);
  report.check(kPlan.parameters == fennec::arena_round_up(fennec::parameter_block_floats(kSpec) * sizeof(float)),
               "plan.parameters", 0);

  // 2. One byte short: bind fails with kOutOfMemory and leaves the arena untouched.
  {
    fennec::Arena small(buffer, kArenaBytes - 1);
    fennec::Result<fennec::Model> r = fennec::Model::bind(kSpec, kOptions, small);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kOutOfMemory, "bind(arena - 1 byte) fails", 0);
    report.check(small.used() == 0, "failed bind rewinds the arena", 0);
  }

#if defined(FENNEC_INFERENCE_ONLY)
  // 2b. This build carries no training kernels: a training bind is refused, not half-built.
  {
    fennec::ModelOptions training = kOptions;
    training.mode = fennec::Mode::kTraining;
    fennec::Arena whole(buffer, kArenaBytes);
    fennec::Result<fennec::Model> r = fennec::Model::bind(kSpec, training, whole);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kUnsupported && whole.used() == 0,
                 "inference-only build refuses Mode::kTraining", 0);
  }
  // 2c. Nor batch norm (it runs folded into the dense layers): refused; dropout is ignored.
  {
    fennec::ModelSpec with_bn = kSpec;
    with_bn.layers[0].batchnorm.enabled = true;
    fennec::Arena whole(buffer, kArenaBytes);
    fennec::Result<fennec::Model> r = fennec::Model::bind(with_bn, kOptions, whole);
    report.check(!r.is_ok() && r.status().code() == fennec::StatusCode::kUnsupported && whole.used() == 0,
                 "inference-only build refuses batch norm", 0);
    fennec::ModelSpec with_dropout = kSpec;
    with_dropout.layers[0].dropout = 0.5f;
    report.check(fennec::validate(with_dropout).is_ok(), "inference-only build ignores dropout", 0);
  }
#endif

  // 3. The exact plan size: bind succeeds and consumes exactly plan().total() bytes.
  fennec::Arena arena(buffer, kArenaBytes);
  fennec::Result<fennec::Model> bound = fennec::Model::bind(kSpec, kOptions, arena);
  report.check(bound.is_ok(), "bind(plan.total() bytes)", 0);
  if (!bound.is_ok()) return;
  report.check(arena.used() == kArenaBytes, "bind consumes exactly plan.total()", 0);
  fennec::Model& model = bound.value();
  load_weights(model);

  // 4. Every case: logits within the float32 error bound of the float64 oracle, right class.
  check_cases(model, report);

  // 5. A batch above max_batch is refused, not overrun.
  {
    const fennec::ConstMatrixView x2(kInputs, 2, kSizes[0]);
    report.check(!model.forward(x2).is_ok(), "forward(batch 2 > max_batch) refused", 0);
  }
  report.check(arena.used() == kArenaBytes, "forward allocates nothing", 0);
}

}  // namespace sensor_model
