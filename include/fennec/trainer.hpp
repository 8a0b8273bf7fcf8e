// SPDX-License-Identifier: Apache-2.0
// Trainer: one step = forward -> loss -> backward -> clip -> optimizer update.
//
// A step that fails (non-finite loss or gradient norm, bad shapes or targets) returns the
// status and leaves weights, optimizer state, the step counter and the rate exactly as they were.
// The learning-rate schedule (TrainerConfig::schedule, schedule.hpp) gives each step its rate
// from the step number; reduce-on-plateau also takes one metric per epoch (observe_metric).
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
//
// Batch norm and dropout (classic path only): step() runs the model in Model::Phase::kTrain and
// folds the batch statistics into the running ones only when the step succeeds; evaluate() runs
// in Phase::kEval (running statistics, no dropout). Both put the caller's phase back.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/loss.hpp"
#include "fennec/model.hpp"
#include "fennec/optim.hpp"
#include "fennec/schedule.hpp"
#include "fennec/status.hpp"

namespace fennec {

struct TrainerConfig {
  OptimizerConfig optimizer{};  // optimizer.lr is the schedule's base rate
  ClipConfig clip{};
  ScheduleConfig schedule{};    // constant by default (schedule.hpp)
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
  // model's (kInvalidArgument otherwise); its hyper-parameters replace the model's. This form
  // also takes a learning-rate schedule (config.schedule, validated here).
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
  // set_learning_rate sets the base rate the configured schedule scales (with the constant
  // schedule, the rate of the following steps).
  Status set_learning_rate(double lr);
  // The rate of the latest step (before the first step: the rate the next one gets when the
  // schedule is constant, else the base rate).
  double learning_rate() const { return config_.optimizer.lr; }
  // One epoch's validation metric for the schedule: reduce-on-plateau may lower the rate (true
  // when it did); other schedules ignore it. kNonFinite for NaN/Inf (nothing changes).
  Result<bool> observe_metric(double metric) { return schedule_.observe(metric); }
  const LrSchedule& schedule() const { return schedule_; }
  // For checkpoint restore: the base rate, the latest step's rate and the schedule's state, all
  // checked before any is set (kInvalidArgument; nothing changes).
  [[nodiscard]] Status restore_schedule(double base_lr, double latest_lr, const LrSchedule::State& state);
  // config().optimizer.lr is the latest step's rate (learning_rate()); config().schedule the
  // schedule and schedule().base_lr() the rate it scales.
  const TrainerConfig& config() const { return config_; }
  Model& model() const { return *model_; }

 private:
  Result<StepStats> fused_step(ConstMatrixView x, const OptimizerConfig& optimizer, StepStats stats);

  Model* model_ = nullptr;
  TrainerConfig config_{};
  LrSchedule schedule_{};
  std::uint64_t step_ = 0;
};

}  // namespace fennec
