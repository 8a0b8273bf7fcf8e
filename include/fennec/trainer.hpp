// SPDX-License-Identifier: Apache-2.0
// Trainer: one step = forward -> loss -> backward -> clip -> optimizer update.
//
// A step that fails (non-finite loss or gradient norm, bad shapes or targets) returns the
// status and leaves weights, optimizer state and the step counter exactly as they were.
//
// Models bound with ModelOptions::fused_training (fused_block_rows > 0) run backward and the
// update together, layer by layer from the last, one block of weight rows at a time, so no
// whole-model gradient exists. What each path allows:
//   clipping     classic: by value and by global norm     fused: by value only (create()
//                refuses max_norm > 0 with kUnsupported: the global norm needs every gradient
//                before any update)
//   optimizers, losses, weight decay: all, on both paths, with the same results to rounding
//   failures     classic: nothing changes. fused: a bad shape or target or a non-finite loss
//                changes nothing; a gradient that overflows to NaN/Inf inside backward (a
//                diverged model) is reported with kNonFinite after the layers above it were
//                updated, and the step counter stays.
//   grad_norm    both: the global norm before clipping.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/loss.hpp"
#include "fennec/model.hpp"
#include "fennec/optim.hpp"
#include "fennec/status.hpp"

namespace fennec {

struct TrainerConfig {
  OptimizerConfig optimizer{};
  ClipConfig clip{};
};

struct StepStats {
  double loss = 0.0;       // mean loss of the batch (before the update)
  double grad_norm = 0.0;  // global L2 norm of the gradient before clipping (and before L2 decay);
                           // with frozen layers, of the trainable layers' gradient
};

struct EvalStats {
  double loss = 0.0;        // mean loss of the batch
  std::size_t correct = 0;  // rows classified correctly (see count_correct)
};

class Trainer {
 public:
  Trainer() = default;

  // Trains `model` (a training model; it must outlive the trainer) with the optimizer it was
  // bound for: kind and hyper-parameters from model.options() (ModelOptions::training), so the
  // optimizer is named once and cannot disagree with the planned state.
  static Result<Trainer> create(Model& model, const ClipConfig& clip = {});
  // The earlier form, naming the optimizer a second time: config.optimizer.kind must be the
  // model's (kInvalidArgument otherwise); its hyper-parameters replace the model's.
  static Result<Trainer> create(Model& model, const TrainerConfig& config);

  Result<StepStats> step(ConstMatrixView x, const Targets& targets);
  // Forward and loss only; no gradients, no update.
  Result<EvalStats> evaluate(ConstMatrixView x, const Targets& targets);

  // Successful optimizer steps so far (Adam's t).
  std::uint64_t step_count() const { return step_; }
  // For checkpoint restore; kInvalidArgument above kMaxStepCount (nothing changes).
  [[nodiscard]] Status set_step_count(std::uint64_t t);
  // The kernels apply the learning rate in float, and the trainer keeps it so (create and
  // set_learning_rate store float(lr)): a schedule computed from config().optimizer.lr then
  // gives the same rates after a checkpoint (which stores f32) as in an unbroken run.
  Status set_learning_rate(double lr);
  const TrainerConfig& config() const { return config_; }
  Model& model() const { return *model_; }

 private:
  Result<StepStats> fused_step(ConstMatrixView x, StepStats stats);

  Model* model_ = nullptr;
  TrainerConfig config_{};
  std::uint64_t step_ = 0;
};

}  // namespace fennec
