// SPDX-License-Identifier: Apache-2.0
#include "fennec/schedule.hpp"

#include <cmath>
#include <cstring>

namespace fennec {

namespace {
constexpr const char* kScheduleNames[kScheduleCount] = {"constant", "step", "exp", "cosine", "plateau"};
constexpr double kPi = 3.14159265358979323846;
}  // namespace

const char* schedule_name(ScheduleKind k) {
  const auto i = static_cast<std::uint32_t>(k);
  return i < kScheduleCount ? kScheduleNames[i] : "?";
}

Result<ScheduleKind> parse_schedule(const char* name) {
  if (name) {
    for (std::uint32_t i = 0; i < kScheduleCount; ++i)
      if (std::strcmp(name, kScheduleNames[i]) == 0) return static_cast<ScheduleKind>(i);
  }
  return Status::error(StatusCode::kInvalidArgument,
                       "unknown learning-rate schedule '%s' (constant, step, exp, cosine, plateau)",
                       name ? name : "(null)");
}

ScheduleConfig ScheduleConfig::step(std::uint64_t step_size, double gamma) {
  ScheduleConfig c;
  c.kind = ScheduleKind::kStep;
  c.step_size = step_size;
  c.gamma = gamma;
  return c;
}

ScheduleConfig ScheduleConfig::exponential(std::uint64_t step_size, double gamma) {
  ScheduleConfig c = step(step_size, gamma);
  c.kind = ScheduleKind::kExponential;
  return c;
}

ScheduleConfig ScheduleConfig::cosine(std::uint64_t decay_steps, double min_lr) {
  ScheduleConfig c;
  c.kind = ScheduleKind::kCosine;
  c.decay_steps = decay_steps;
  c.min_lr = min_lr;
  return c;
}

ScheduleConfig ScheduleConfig::plateau(std::uint64_t patience, double gamma, MetricMode mode, double min_lr) {
  ScheduleConfig c;
  c.kind = ScheduleKind::kPlateau;
  c.patience = patience;
  c.gamma = gamma;
  c.mode = mode;
  c.min_lr = min_lr;
  return c;
}

Status validate(const ScheduleConfig& c) {
  FENNEC_ENSURE(static_cast<std::uint32_t>(c.kind) < kScheduleCount, StatusCode::kInvalidArgument,
                "schedule kind %u out of range", static_cast<unsigned>(c.kind));
  const ScheduleKind k = c.kind;
  if (k == ScheduleKind::kStep || k == ScheduleKind::kExponential || k == ScheduleKind::kPlateau)
    FENNEC_ENSURE(std::isfinite(c.gamma) && c.gamma > 0.0 && c.gamma <= 1.0, StatusCode::kInvalidArgument,
                  "%s schedule: gamma %g must lie in (0, 1]", schedule_name(k), c.gamma);
  if (k == ScheduleKind::kStep || k == ScheduleKind::kExponential)
    FENNEC_ENSURE(c.step_size >= 1, StatusCode::kInvalidArgument, "%s schedule: step_size must be >= 1",
                  schedule_name(k));
  if (k == ScheduleKind::kCosine)
    FENNEC_ENSURE(c.decay_steps >= 1, StatusCode::kInvalidArgument, "cosine schedule: decay_steps must be >= 1");
  if (k == ScheduleKind::kCosine || k == ScheduleKind::kPlateau)
    FENNEC_ENSURE(std::isfinite(c.min_lr) && c.min_lr >= 0.0, StatusCode::kInvalidArgument,
                  "%s schedule: min_lr %g must be finite and >= 0", schedule_name(k), c.min_lr);
  if (k == ScheduleKind::kPlateau) {
    FENNEC_ENSURE(c.patience >= 1, StatusCode::kInvalidArgument, "plateau schedule: patience must be >= 1");
    Result<MetricTracker> t = MetricTracker::create(c.mode, c.min_delta);
    FENNEC_ENSURE(t.is_ok(), StatusCode::kInvalidArgument, "plateau schedule: %s", t.status().message());
  }
  return Status::ok();
}

bool same_schedule(const ScheduleConfig& a, const ScheduleConfig& b) {
  if (a.kind != b.kind || a.warmup_steps != b.warmup_steps) return false;
  // Only the fields the kind reads (as validate checks).
  switch (a.kind) {
    case ScheduleKind::kConstant: return true;
    case ScheduleKind::kStep:
    case ScheduleKind::kExponential: return a.step_size == b.step_size && a.gamma == b.gamma;
    case ScheduleKind::kCosine: return a.decay_steps == b.decay_steps && a.min_lr == b.min_lr;
    case ScheduleKind::kPlateau:
      return a.gamma == b.gamma && a.min_lr == b.min_lr && a.patience == b.patience && a.mode == b.mode &&
             a.min_delta == b.min_delta;
  }
  return false;
}

Result<LrSchedule> LrSchedule::create(const ScheduleConfig& config, double base_lr) {
  FENNEC_RETURN_IF_ERROR(validate(config));
  Result<MetricTracker> tracker = MetricTracker::create(config.mode, config.min_delta);
  if (!tracker.is_ok()) return tracker.status();
  LrSchedule s;
  s.config_ = config;
  s.tracker_ = tracker.value();
  FENNEC_RETURN_IF_ERROR(s.set_base_lr(base_lr));
  return s;
}

Status LrSchedule::set_base_lr(double lr) {
  FENNEC_ENSURE(std::isfinite(lr) && lr > 0.0, StatusCode::kInvalidArgument,
                "schedule: learning rate %g must be finite and > 0", lr);
  const bool has_floor = config_.kind == ScheduleKind::kCosine || config_.kind == ScheduleKind::kPlateau;
  FENNEC_ENSURE(!has_floor || config_.min_lr < lr, StatusCode::kInvalidArgument,
                "%s schedule: min_lr %g must lie below the learning rate %g", schedule_name(config_.kind),
                config_.min_lr, lr);
  base_lr_ = lr;
  return Status::ok();
}

double LrSchedule::rate(std::uint64_t t) const {
  const std::uint64_t w = config_.warmup_steps;
  if (t <= w) return base_lr_ * static_cast<double>(t) / static_cast<double>(w);
  const std::uint64_t u = t - w - 1;
  switch (config_.kind) {
    case ScheduleKind::kConstant: return base_lr_;
    case ScheduleKind::kStep:
      return base_lr_ * std::pow(config_.gamma, static_cast<double>(u / config_.step_size));
    case ScheduleKind::kExponential:
      return base_lr_ * std::pow(config_.gamma, static_cast<double>(u) / static_cast<double>(config_.step_size));
    case ScheduleKind::kCosine: {
      const double f = static_cast<double>(u < config_.decay_steps ? u : config_.decay_steps) /
                       static_cast<double>(config_.decay_steps);
      return config_.min_lr + (base_lr_ - config_.min_lr) * (1.0 + std::cos(kPi * f)) / 2.0;
    }
    case ScheduleKind::kPlateau: return base_lr_ * state_.scale;
  }
  return base_lr_;
}

Result<bool> LrSchedule::observe(double metric) {
  FENNEC_ENSURE(std::isfinite(metric), StatusCode::kNonFinite, "schedule: metric %g is not finite", metric);
  if (config_.kind != ScheduleKind::kPlateau) return false;
  MetricTracker tracker = tracker_;
  Result<bool> improved = tracker.update(metric);
  if (!improved.is_ok()) return improved.status();
  State next = state_;
  bool reduced = false;
  if (tracker.state().epochs_since_best >= config_.patience) {
    const double floor = config_.min_lr / base_lr_;
    const double scaled = next.scale * config_.gamma;
    reduced = next.scale > floor;
    next.scale = scaled > floor ? scaled : floor;
    MetricTracker::State ts = tracker.state();
    ts.epochs_since_best = 0;
    FENNEC_RETURN_IF_ERROR(tracker.set_state(ts));
  }
  next.tracker = tracker.state();
  tracker_ = tracker;
  state_ = next;
  return reduced;
}

Status LrSchedule::set_state(const State& s) {
  FENNEC_ENSURE(std::isfinite(s.scale) && s.scale > 0.0 && s.scale <= 1.0, StatusCode::kInvalidArgument,
                "schedule state: scale %g must lie in (0, 1]", s.scale);
  MetricTracker tracker = tracker_;
  if (s.tracker.epochs != 0 || s.tracker.best_epoch != 0) {
    FENNEC_RETURN_IF_ERROR(tracker.set_state(s.tracker));
  } else {
    Result<MetricTracker> fresh = MetricTracker::create(config_.mode, config_.min_delta);
    if (!fresh.is_ok()) return fresh.status();
    tracker = fresh.value();
  }
  tracker_ = tracker;
  state_ = s;
  state_.tracker = tracker.state();
  return Status::ok();
}

}  // namespace fennec
