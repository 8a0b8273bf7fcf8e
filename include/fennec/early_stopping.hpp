// SPDX-License-Identifier: Apache-2.0
// Watching a metric across epochs: the best value so far, and how many epochs passed without
// improving on it. Early stopping (stop after `patience` epochs without improvement, keep the
// best model) and the reduce-on-plateau learning-rate schedule are both built on it.
//
// An epoch improves when its value beats the best by more than `min_delta`:
//   mode kMin (a loss):     value < best - min_delta
//   mode kMax (accuracy):   value > best + min_delta
// The first value always improves. Non-finite values are refused (kNonFinite; nothing changes).
#pragma once

#include <cstdint>

#include "fennec/status.hpp"

namespace fennec {

enum class MetricMode : std::uint32_t { kMin = 0, kMax = 1 };
const char* metric_mode_name(MetricMode m);

class MetricTracker {
 public:
  struct State {
    double best = 0.0;
    std::uint64_t best_epoch = 0;         // 1-based index of the update that set best; 0: none yet
    std::uint64_t epochs = 0;             // values seen
    std::uint64_t epochs_since_best = 0;  // updates since best was set
  };

  MetricTracker() = default;
  // kInvalidArgument unless min_delta is finite and >= 0.
  static Result<MetricTracker> create(MetricMode mode, double min_delta = 0.0);

  // Records one epoch's value; true when it is the new best.
  Result<bool> update(double value);

  MetricMode mode() const { return mode_; }
  double min_delta() const { return min_delta_; }
  const State& state() const { return state_; }
  bool has_best() const { return state_.best_epoch != 0; }
  // For checkpoint restore: kInvalidArgument for an inconsistent state (nothing changes).
  [[nodiscard]] Status set_state(const State& s);

 private:
  MetricMode mode_ = MetricMode::kMin;
  double min_delta_ = 0.0;
  State state_{};
};

// Stop when `patience` epochs in a row brought no improvement (Keras EarlyStopping).
class EarlyStopping {
 public:
  struct Verdict {
    bool improved = false;  // this epoch is the best so far: keep its model
    bool stop = false;      // patience exhausted: stop training
  };

  EarlyStopping() = default;
  // kInvalidArgument for patience 0 or a bad min_delta.
  static Result<EarlyStopping> create(std::uint64_t patience, MetricMode mode, double min_delta = 0.0);

  Result<Verdict> update(double value);

  std::uint64_t patience() const { return patience_; }
  const MetricTracker& tracker() const { return tracker_; }
  [[nodiscard]] Status set_state(const MetricTracker::State& s) { return tracker_.set_state(s); }

 private:
  MetricTracker tracker_{};
  std::uint64_t patience_ = 1;
};

}  // namespace fennec
