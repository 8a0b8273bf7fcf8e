// SPDX-License-Identifier: Apache-2.0
#include "fennec/early_stopping.hpp"

#include <cmath>

namespace fennec {

const char* metric_mode_name(MetricMode m) { return m == MetricMode::kMax ? "max" : "min"; }

Result<MetricTracker> MetricTracker::create(MetricMode mode, double min_delta) {
  FENNEC_ENSURE(mode == MetricMode::kMin || mode == MetricMode::kMax, StatusCode::kInvalidArgument,
                "metric mode %u is neither min nor max", static_cast<unsigned>(mode));
  FENNEC_ENSURE(std::isfinite(min_delta) && min_delta >= 0.0, StatusCode::kInvalidArgument,
                "min_delta %g: expected a finite value >= 0", min_delta);
  MetricTracker t;
  t.mode_ = mode;
  t.min_delta_ = min_delta;
  return t;
}

Result<bool> MetricTracker::update(double value) {
  FENNEC_ENSURE(std::isfinite(value), StatusCode::kNonFinite, "metric value %g is not finite", value);
  const bool improved = !has_best() || (mode_ == MetricMode::kMin ? value < state_.best - min_delta_
                                                                  : value > state_.best + min_delta_);
  ++state_.epochs;
  if (improved) {
    state_.best = value;
    state_.best_epoch = state_.epochs;
    state_.epochs_since_best = 0;
  } else {
    ++state_.epochs_since_best;
  }
  return improved;
}

Status MetricTracker::set_state(const State& s) {
  FENNEC_ENSURE(std::isfinite(s.best), StatusCode::kInvalidArgument, "tracker best %g is not finite", s.best);
  FENNEC_ENSURE(s.best_epoch <= s.epochs && s.epochs_since_best <= s.epochs, StatusCode::kInvalidArgument,
                "tracker state: best at epoch %llu, %llu since, of %llu epochs",
                static_cast<unsigned long long>(s.best_epoch),
                static_cast<unsigned long long>(s.epochs_since_best),
                static_cast<unsigned long long>(s.epochs));
  FENNEC_ENSURE(s.best_epoch != 0 || s.epochs == 0, StatusCode::kInvalidArgument,
                "tracker state: %llu epochs seen but no best", static_cast<unsigned long long>(s.epochs));
  state_ = s;
  return Status::ok();
}

Result<EarlyStopping> EarlyStopping::create(std::uint64_t patience, MetricMode mode, double min_delta) {
  FENNEC_ENSURE(patience >= 1, StatusCode::kInvalidArgument, "early stopping: patience must be >= 1");
  Result<MetricTracker> t = MetricTracker::create(mode, min_delta);
  if (!t.is_ok()) return t.status();
  EarlyStopping e;
  e.tracker_ = t.value();
  e.patience_ = patience;
  return e;
}

Result<EarlyStopping::Verdict> EarlyStopping::update(double value) {
  Result<bool> improved = tracker_.update(value);
  if (!improved.is_ok()) return improved.status();
  Verdict v;
  v.improved = improved.value();
  v.stop = tracker_.state().epochs_since_best >= patience_;
  return v;
}

}  // namespace fennec
