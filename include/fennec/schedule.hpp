// SPDX-License-Identifier: Apache-2.0
// Learning-rate schedules, applied by the Trainer before each step (no allocation, no state
// beyond a few numbers, all of it in checkpoints).
//
// Rate of step t (1-based, the value Trainer::step_count() takes after the step), from the base
// rate `lr` (the optimizer config's) and W = warmup_steps:
//   t <= W (warm-up, any kind):  lr * t / W                       (linear, reaching lr at t = W)
//   afterwards, with u = t - W - 1 (0 for the first step after the warm-up):
//   constant     lr
//   step         lr * gamma^floor(u / step_size)                 (PyTorch StepLR, in steps)
//   exponential  lr * gamma^(u / step_size)                      (Keras ExponentialDecay)
//   cosine       min_lr + (lr - min_lr) * (1 + cos(pi * min(u, decay_steps) / decay_steps)) / 2
//   plateau      lr * scale, where scale starts at 1 and is multiplied by gamma (never below
//                min_lr / lr) whenever `patience` reported epochs in a row failed to improve the
//                metric (MetricTracker, mode and min_delta), as Keras ReduceLROnPlateau does:
//                the count restarts after each reduction.
// The rate is computed in double and rounded to float once (the kernels apply it in float), so
// a run resumed from a checkpoint computes the same rates as one that never stopped.
#pragma once

#include <cstdint>

#include "fennec/early_stopping.hpp"
#include "fennec/status.hpp"

namespace fennec {

enum class ScheduleKind : std::uint32_t { kConstant = 0, kStep, kExponential, kCosine, kPlateau };
inline constexpr std::uint32_t kScheduleCount = 5;

const char* schedule_name(ScheduleKind k);  // "constant", "step", "exp", "cosine", "plateau"
Result<ScheduleKind> parse_schedule(const char* name);

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::kConstant;
  std::uint64_t warmup_steps = 0;
  std::uint64_t step_size = 1;    // step, exponential: the decay period, in steps (>= 1)
  double gamma = 0.1;             // step, exponential, plateau: factor per period or reduction, (0, 1]
  std::uint64_t decay_steps = 1;  // cosine: steps from the end of the warm-up to min_lr (>= 1)
  double min_lr = 0.0;            // cosine: the final rate; plateau: the floor (>= 0, below lr)
  std::uint64_t patience = 10;    // plateau: epochs without improvement before a reduction (>= 1)
  MetricMode mode = MetricMode::kMin;  // plateau: the metric is a loss (kMin) or a score (kMax)
  double min_delta = 0.0;         // plateau: an improvement must beat the best by more than this

  static ScheduleConfig constant() { return ScheduleConfig{}; }
  static ScheduleConfig step(std::uint64_t step_size, double gamma);
  static ScheduleConfig exponential(std::uint64_t step_size, double gamma);
  static ScheduleConfig cosine(std::uint64_t decay_steps, double min_lr = 0.0);
  static ScheduleConfig plateau(std::uint64_t patience, double gamma, MetricMode mode = MetricMode::kMin,
                                double min_lr = 0.0);
  ScheduleConfig& with_warmup(std::uint64_t steps) {
    warmup_steps = steps;
    return *this;
  }
};

// kInvalidArgument naming the field for a value outside the ranges above (fields the kind does
// not use are not checked).
Status validate(const ScheduleConfig& c);
// Same kind, warm-up and the parameters that kind uses.
bool same_schedule(const ScheduleConfig& a, const ScheduleConfig& b);

class LrSchedule {
 public:
  struct State {
    double scale = 1.0;               // plateau: the product of the reductions so far
    MetricTracker::State tracker{};   // plateau: the metric's best and the epochs since
  };

  LrSchedule() = default;
  // kInvalidArgument for a bad config, a base rate that is not finite and > 0, or min_lr >= lr.
  static Result<LrSchedule> create(const ScheduleConfig& config, double base_lr);

  // The rate of step t (>= 1), before rounding to float.
  double rate(std::uint64_t t) const;
  // False when every step gets the base rate (constant, no warm-up): the trainer then leaves the
  // rate it was given alone.
  bool varies() const { return config_.kind != ScheduleKind::kConstant || config_.warmup_steps != 0; }

  // One epoch's metric (validation loss or accuracy, as `mode` says). Plateau: may reduce the
  // rate (true when it did). Other kinds: only checks the value is finite. Nothing changes on error.
  Result<bool> observe(double metric);

  const ScheduleConfig& config() const { return config_; }
  double base_lr() const { return base_lr_; }
  const State& state() const { return state_; }
  // For set_learning_rate and checkpoint restore; kInvalidArgument (nothing changes) for a rate
  // the config does not allow or an inconsistent state.
  [[nodiscard]] Status set_base_lr(double lr);
  [[nodiscard]] Status set_state(const State& s);

 private:
  ScheduleConfig config_{};
  double base_lr_ = 0.01;
  MetricTracker tracker_{};
  State state_{};
};

}  // namespace fennec
