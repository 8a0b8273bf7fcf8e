// SPDX-License-Identifier: Apache-2.0
// Learning-rate schedules: every kind against values worked out by hand from the formulas in
// schedule.hpp, the warm-up, reduce-on-plateau on a scripted metric sequence, bad configs, and
// the Trainer applying the rate (in float, committed only when the step succeeds).
#include <cmath>
#include <cstdint>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;
using fennec_test::OwnedArena;

namespace {

LrSchedule make(const ScheduleConfig& c, double lr) {
  Result<LrSchedule> s = LrSchedule::create(c, lr);
  INFO(fennec_test::str(s.status()));
  REQUIRE(s.is_ok());
  return s.value();
}

// The rates are products of a few doubles (pow, cos): 1e-15 relative covers their rounding.
void check_rates(const LrSchedule& s, const std::vector<double>& expected) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("step " << i + 1 << " rate " << s.rate(i + 1) << " expected " << expected[i]);
    CHECK(close(s.rate(i + 1), expected[i], 0.0, 1e-15));
  }
}

}  // namespace

TEST_CASE("schedule: constant, step and exponential against hand-computed rates", "[schedule]") {
  check_rates(make(ScheduleConfig::constant(), 0.1), {0.1, 0.1, 0.1, 0.1});
  // step 3, gamma 0.5: three steps at 0.1, three at 0.05, then 0.025.
  check_rates(make(ScheduleConfig::step(3, 0.5), 0.1), {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025});
  // exponential over 2 steps, gamma 0.25: 0.1 * 0.25^(u/2) = 0.1, 0.05, 0.025, 0.0125.
  check_rates(make(ScheduleConfig::exponential(2, 0.25), 0.1), {0.1, 0.05, 0.025, 0.0125, 0.00625});
  CHECK_FALSE(make(ScheduleConfig::constant(), 0.1).varies());
  CHECK(make(ScheduleConfig::step(3, 0.5), 0.1).varies());
}

TEST_CASE("schedule: cosine with warm-up against hand-computed rates", "[schedule]") {
  // Warm-up 4: 0.2 * t/4 = 0.05, 0.1, 0.15, 0.2. Then decay over 4 steps to min_lr 0.02:
  // 0.02 + 0.18 * (1 + cos(pi*u/4))/2 for u = 0..4: 0.2, 0.02 + 0.09*(1+sqrt(1/2)), 0.11,
  // 0.02 + 0.09*(1-sqrt(1/2)), 0.02, and 0.02 ever after.
  const double h = std::sqrt(0.5);
  check_rates(make(ScheduleConfig::cosine(4, 0.02).with_warmup(4), 0.2),
              {0.05, 0.1, 0.15, 0.2, 0.2, 0.02 + 0.09 * (1 + h), 0.11, 0.02 + 0.09 * (1 - h), 0.02, 0.02, 0.02});
  // Warm-up on the constant schedule: 1/3, 2/3, then 1 of the base rate.
  const LrSchedule w = make(ScheduleConfig::constant().with_warmup(3), 0.3);
  CHECK(w.varies());
  check_rates(w, {0.1, 0.2, 0.3, 0.3});
  // Warm-up then step: u counts from the first step after the warm-up.
  check_rates(make(ScheduleConfig::step(2, 0.1).with_warmup(2), 1.0), {0.5, 1.0, 1.0, 1.0, 0.1, 0.1, 0.01});
}

TEST_CASE("schedule: reduce-on-plateau on a scripted validation loss", "[schedule]") {
  // patience 2, gamma 0.5, floor 0.02, mode min, min_delta 0.01.
  ScheduleConfig c = ScheduleConfig::plateau(2, 0.5, MetricMode::kMin, 0.02);
  c.min_delta = 0.01;
  LrSchedule s = make(c, 0.1);
  struct Epoch {
    double loss;
    bool reduced;
    double rate_after;
  };
  // 1.0 best; 0.995 is not 0.01 better (1 bad); 1.2 (2 bad: reduce to 0.05, count restarts);
  // 0.9 best; 0.95, 0.91 (2 bad: 0.025); 0.85 best; 0.9, 0.9 (2 bad: 0.0125 is below the floor
  // 0.02 of the base rate, so 0.02); 0.95, 0.95 (at the floor already: no reduction).
  const Epoch script[] = {{1.0, false, 0.1},    {0.995, false, 0.1}, {1.2, true, 0.05},  {0.9, false, 0.05},
                          {0.95, false, 0.05},  {0.91, true, 0.025}, {0.85, false, 0.025}, {0.9, false, 0.025},
                          {0.9, true, 0.02},    {0.95, false, 0.02}, {0.95, false, 0.02}};
  int epoch = 0;
  for (const Epoch& e : script) {
    ++epoch;
    Result<bool> r = s.observe(e.loss);
    REQUIRE(r.is_ok());
    INFO("epoch " << epoch << " loss " << e.loss << " rate " << s.rate(1000));
    CHECK(r.value() == e.reduced);
    CHECK(close(s.rate(1000), e.rate_after, 0.0, 1e-15));
  }
  CHECK(s.state().tracker.best == 0.85);
  CHECK(s.state().tracker.best_epoch == 7);
  // A NaN metric is refused and changes nothing.
  const LrSchedule::State before = s.state();
  CHECK(s.observe(std::nan("")).status().code() == StatusCode::kNonFinite);
  CHECK(s.state().tracker.epochs == before.tracker.epochs);
  CHECK(s.state().scale == before.scale);
  // Other kinds ignore the metric.
  LrSchedule step = make(ScheduleConfig::step(1, 0.5), 0.1);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(step.observe(9.0 + i).value());
  CHECK(step.rate(1) == 0.1);
}

TEST_CASE("schedule: bad configurations are refused naming the field", "[schedule]") {
  auto refused = [](const ScheduleConfig& c, double lr, const char* words) {
    Result<LrSchedule> s = LrSchedule::create(c, lr);
    INFO(fennec_test::str(s.status()));
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(std::string(s.status().message()).find(words) != std::string::npos);
  };
  refused(ScheduleConfig::step(0, 0.5), 0.1, "step_size must be >= 1");
  refused(ScheduleConfig::step(3, 1.5), 0.1, "gamma 1.5 must lie in (0, 1]");
  refused(ScheduleConfig::exponential(3, 0.0), 0.1, "gamma 0 must lie in (0, 1]");
  refused(ScheduleConfig::cosine(0), 0.1, "decay_steps must be >= 1");
  refused(ScheduleConfig::cosine(10, 0.2), 0.1, "min_lr 0.2 must lie below the learning rate 0.1");
  refused(ScheduleConfig::plateau(0, 0.5), 0.1, "patience must be >= 1");
  refused(ScheduleConfig::constant(), -1.0, "must be finite and > 0");
  ScheduleConfig bad_delta = ScheduleConfig::plateau(2, 0.5);
  bad_delta.min_delta = -1;
  refused(bad_delta, 0.1, "min_delta");
  CHECK(parse_schedule("cosine").value() == ScheduleKind::kCosine);
  CHECK(std::string(parse_schedule("linear").status().message()).find("unknown learning-rate schedule 'linear'") !=
        std::string::npos);
}

TEST_CASE("trainer: applies the schedule's rate in float, only when the step succeeds", "[schedule][trainer]") {
  const ModelSpec spec = ModelSpec(2).dense(4, ActivationSpec::tanh()).dense(2, ActivationSpec::identity());
  ModelOptions o;
  o.mode = Mode::kTraining;
  o.max_batch = 4;
  o.optimizer = OptimizerKind::kSgd;
  OwnedArena arena(plan(spec, o).total());
  Model model = Model::bind(spec, o, arena.arena).value();
  Rng rng(3);
  REQUIRE(model.init_parameters(rng).is_ok());
  TrainerConfig tc;
  tc.optimizer = OptimizerConfig::sgd(0.3);
  tc.schedule = ScheduleConfig::step(2, 0.1).with_warmup(3);
  Result<Trainer> created = Trainer::create(model, tc);
  REQUIRE(created.is_ok());
  Trainer& t = created.value();
  CHECK(t.schedule().base_lr() == static_cast<double>(0.3f));
  const float x[8] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f};
  const std::int32_t y[4] = {0, 1, 1, 0};
  const std::int32_t bad[4] = {0, 1, 7, 0};
  // base float(0.3): warm-up 1/3, 2/3, 1; then 1, 1, 0.1, 0.1 of it.
  const double base = static_cast<double>(0.3f);
  const double factors[7] = {1.0 / 3, 2.0 / 3, 1, 1, 1, 0.1, 0.1};
  for (int i = 0; i < 7; ++i) {
    const double before = t.learning_rate();
    // A failed step (label 7 of 2 classes) leaves the rate and the step count alone.
    CHECK(t.step(ConstMatrixView(x, 4, 2), Targets::classes(bad)).status().code() == StatusCode::kInvalidArgument);
    CHECK(t.learning_rate() == before);
    REQUIRE(t.step(ConstMatrixView(x, 4, 2), Targets::classes(y)).is_ok());
    INFO("step " << i + 1);
    CHECK(t.learning_rate() == static_cast<double>(static_cast<float>(base * factors[i])));
  }
  // A bad schedule is refused at create.
  tc.schedule = ScheduleConfig::cosine(5, 0.5);
  CHECK(Trainer::create(model, tc).status().code() == StatusCode::kInvalidArgument);
}
