// SPDX-License-Identifier: Apache-2.0
// Early stopping and the best-model tracker on scripted metric sequences: where it stops, which
// epochs are the best (the ones whose model --save-best keeps), min and max modes, min_delta.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fennec;

namespace {

// Feeds `values` until the verdict says stop; returns the 1-based epoch it stopped at (0: never)
// and the epochs that were a new best.
std::uint64_t run(EarlyStopping& e, const std::vector<double>& values, std::vector<int>& best_epochs) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    Result<EarlyStopping::Verdict> v = e.update(values[i]);
    REQUIRE(v.is_ok());
    if (v->improved) best_epochs.push_back(static_cast<int>(i + 1));
    if (v->stop) return i + 1;
  }
  return 0;
}

}  // namespace

TEST_CASE("early stopping: validation loss, patience 3", "[early_stopping]") {
  EarlyStopping e = EarlyStopping::create(3, MetricMode::kMin).value();
  std::vector<int> best;
  // Best at epochs 1, 2, 4; epochs 5, 6, 7 do not improve on 0.5 (an equal value is no
  // improvement): stop after epoch 7, the best model being epoch 4's.
  const std::uint64_t stopped = run(e, {0.9, 0.7, 0.8, 0.5, 0.6, 0.5, 0.55, 0.1}, best);
  CHECK(stopped == 7);
  CHECK(best == std::vector<int>{1, 2, 4});
  CHECK(e.tracker().state().best == 0.5);
  CHECK(e.tracker().state().best_epoch == 4);
  CHECK(e.tracker().state().epochs_since_best == 3);
}

TEST_CASE("early stopping: accuracy (max) with min_delta, patience 2", "[early_stopping]") {
  EarlyStopping e = EarlyStopping::create(2, MetricMode::kMax, 0.01).value();
  std::vector<int> best;
  // 0.80 best; 0.805 is within min_delta (1 bad); 0.82 best (counter restarts); 0.825, 0.829
  // within 0.01 of 0.82: stop at epoch 5.
  CHECK(run(e, {0.80, 0.805, 0.82, 0.825, 0.829, 0.99}, best) == 5);
  CHECK(best == std::vector<int>{1, 3});
  CHECK(e.tracker().state().best == 0.82);
}

TEST_CASE("early stopping: never stops while improving, and bad input is refused", "[early_stopping]") {
  EarlyStopping e = EarlyStopping::create(1, MetricMode::kMin).value();
  std::vector<int> best;
  CHECK(run(e, {5, 4, 3, 2, 1}, best) == 0);
  CHECK(best.size() == 5);
  // NaN: kNonFinite, nothing changes.
  const MetricTracker::State before = e.tracker().state();
  CHECK(e.update(std::nan("")).status().code() == StatusCode::kNonFinite);
  CHECK(e.tracker().state().epochs == before.epochs);
  CHECK(EarlyStopping::create(0, MetricMode::kMin).status().code() == StatusCode::kInvalidArgument);
  CHECK(EarlyStopping::create(2, MetricMode::kMin, -0.5).status().code() == StatusCode::kInvalidArgument);
  CHECK(std::string(EarlyStopping::create(0, MetricMode::kMin).status().message()).find("patience") !=
        std::string::npos);
  // A restored state continues where it stood.
  EarlyStopping f = EarlyStopping::create(2, MetricMode::kMin).value();
  MetricTracker::State s;
  s.best = 0.3;
  s.best_epoch = 4;
  s.epochs = 5;
  s.epochs_since_best = 1;
  REQUIRE(f.set_state(s).is_ok());
  CHECK(f.update(0.31).value().stop);
  s.best_epoch = 9;  // after the epochs seen
  CHECK(f.set_state(s).code() == StatusCode::kInvalidArgument);
}
