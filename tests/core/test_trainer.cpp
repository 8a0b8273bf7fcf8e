// SPDX-License-Identifier: Apache-2.0
// Trainer: learning (XOR and a non-linear synthetic problem, every optimizer), clipping,
// consistency with Model + optimizer_step, and bad input: every error path asserts the status
// code AND that weights, optimizer state and the step counter are bit-identical afterwards.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::bytes_of;
using fennec_test::close;
using fennec_test::OwnedArena;

namespace {

float learning_rate(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kSgd: return 0.5f;
    case OptimizerKind::kMomentum: return 0.1f;
    case OptimizerKind::kNesterov: return 0.1f;
    case OptimizerKind::kAdaGrad: return 0.2f;
    case OptimizerKind::kRmsProp: return 0.01f;
    case OptimizerKind::kAdam: return 0.02f;
    case OptimizerKind::kAdamW: return 0.02f;
  }
  return 0.01f;
}

struct Snapshot {
  std::vector<unsigned char> params, s0, s1, grads_size;
  std::uint64_t step;
  static Snapshot of(const Trainer& t) {
    Snapshot s;
    s.params = bytes_of(t.model().parameters());
    s.s0 = bytes_of(t.model().optimizer_state(0));
    s.s1 = bytes_of(t.model().optimizer_state(1));
    s.step = t.step_count();
    return s;
  }
  bool operator==(const Snapshot& o) const {
    return params == o.params && s0 == o.s0 && s1 == o.s1 && step == o.step;
  }
};

// Trains until every row is classified correctly (checked every 10 steps) or max_steps.
std::size_t train_until_perfect(Trainer& tr, ConstMatrixView x, const Targets& t, int max_steps,
                                int* steps_taken) {
  std::size_t correct = 0;
  for (int s = 0; s < max_steps; ++s) {
    if (s % 10 == 0) {
      Result<EvalStats> e = tr.evaluate(x, t);
      REQUIRE(e.is_ok());
      correct = e.value().correct;
      if (correct == x.rows) {
        *steps_taken = s;
        return correct;
      }
    }
    Result<StepStats> r = tr.step(x, t);
    REQUIRE(r.is_ok());
  }
  Result<EvalStats> e = tr.evaluate(x, t);
  REQUIRE(e.is_ok());
  *steps_taken = max_steps;
  return e.value().correct;
}

}  // namespace

TEST_CASE("trainer: a 2-layer net learns XOR with every optimizer", "[trainer][learning]") {
  const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  const std::int32_t y[4] = {0, 1, 1, 0};
  const ModelSpec s = ModelSpec(2)
                          .dense(8, ActivationSpec::tanh(), Init::xavier_normal())
                          .dense(2, ActivationSpec::identity(), Init::xavier_normal())
                          .with_loss(Loss::kSoftmaxCrossEntropy);
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    const std::uint64_t seed = 1234;
    INFO("optimizer " << optimizer_name(kind) << " seed " << seed);
    const ModelOptions o{Mode::kTraining, 4, kind, Isa::kAuto};
    OwnedArena arena(plan(s, o).total());
    Result<Model> m = Model::bind(s, o, arena.arena);
    REQUIRE(m.is_ok());
    Rng rng(seed);
    REQUIRE(m.value().init_parameters(rng).is_ok());
    TrainerConfig cfg;
    cfg.optimizer = OptimizerConfig::defaults(kind);
    cfg.optimizer.lr = learning_rate(kind);
    Result<Trainer> tr = Trainer::create(m.value(), cfg);
    REQUIRE(tr.is_ok());
    ConstMatrixView xv(x, 4, 2);
    const double loss0 = tr.value().evaluate(xv, Targets::classes(y)).value().loss;
    int steps = 0;
    CHECK(train_until_perfect(tr.value(), xv, Targets::classes(y), 3000, &steps) == 4);
    INFO("steps " << steps);
    CHECK(tr.value().evaluate(xv, Targets::classes(y)).value().loss < loss0);
    CHECK(tr.value().step_count() == static_cast<std::uint64_t>(steps));
  }
}

TEST_CASE("trainer: a 2-layer net separates two rings (BCE) with every optimizer", "[trainer][learning]") {
  // 48 points: 24 inside radius 0.5 (class 0), 24 on a ring of radius 0.9..1.2 (class 1).
  const std::uint64_t data_seed = 555;
  Rng data(data_seed);
  const std::size_t n = 48;
  std::vector<float> x(n * 2), t(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool outer = i % 2 == 1;
    const double r = outer ? data.uniform(0.9, 1.2) : data.uniform(0.0, 0.5);
    const double a = data.uniform(0.0, 6.283185307179586);
    x[2 * i] = static_cast<float>(r * std::cos(a));
    x[2 * i + 1] = static_cast<float>(r * std::sin(a));
    t[i] = outer ? 1.f : 0.f;
  }
  const ModelSpec s = ModelSpec(2)
                          .dense(16, ActivationSpec::tanh(), Init::xavier_normal())
                          .dense(1, ActivationSpec::identity(), Init::xavier_normal())
                          .with_loss(Loss::kSigmoidBce);
  ConstMatrixView xv(x.data(), n, 2);
  const Targets targets = Targets::values(ConstMatrixView(t.data(), n, 1));
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    const std::uint64_t seed = 4321;
    INFO("optimizer " << optimizer_name(kind) << " init seed " << seed << " data seed " << data_seed);
    const ModelOptions o{Mode::kTraining, n, kind, Isa::kAuto};
    OwnedArena arena(plan(s, o).total());
    Result<Model> m = Model::bind(s, o, arena.arena);
    REQUIRE(m.is_ok());
    Rng rng(seed);
    REQUIRE(m.value().init_parameters(rng).is_ok());
    TrainerConfig cfg;
    cfg.optimizer = OptimizerConfig::defaults(kind);
    cfg.optimizer.lr = learning_rate(kind);
    Result<Trainer> tr = Trainer::create(m.value(), cfg);
    REQUIRE(tr.is_ok());
    int steps = 0;
    CHECK(train_until_perfect(tr.value(), xv, targets, 3000, &steps) == n);
    INFO("steps " << steps);
  }
}

TEST_CASE("trainer: a step equals forward + loss + backward + optimizer_step", "[trainer]") {
  // Two identical models; one trained by Trainer (step counter preset to 9, so Adam uses t = 10),
  // the other by hand with the public pieces. Same reference kernels: atol 1e-7, rtol 1e-6.
  const ModelSpec s = ModelSpec(3).dense(4, ActivationSpec::sigmoid()).dense(2, ActivationSpec::identity())
                          .with_loss(Loss::kMse);
  const ModelOptions o{Mode::kTraining, 5, OptimizerKind::kAdam, Isa::kRef};
  OwnedArena aa(plan(s, o).total()), ab(plan(s, o).total());
  Model a = Model::bind(s, o, aa.arena).value(), b = Model::bind(s, o, ab.arena).value();
  REQUIRE(a.is_bound());
  REQUIRE(b.is_bound());
  Rng r1(8), r2(8);
  REQUIRE(a.init_parameters(r1).is_ok());
  REQUIRE(b.init_parameters(r2).is_ok());
  std::vector<float> x(5 * 3), t(5 * 2);
  Rng d(9);
  for (float& v : x) v = static_cast<float>(d.normal());
  for (float& v : t) v = static_cast<float>(d.normal());
  ConstMatrixView xv(x.data(), 5, 3);
  const Targets targets = Targets::values(ConstMatrixView(t.data(), 5, 2));
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.01f);
  Trainer tr = Trainer::create(a, cfg).value();
  REQUIRE(tr.set_step_count(9).is_ok());
  for (std::uint64_t step = 10; step <= 12; ++step) {
    Result<StepStats> st = tr.step(xv, targets);
    REQUIRE(st.is_ok());
    CHECK(tr.step_count() == step);
    Result<ConstMatrixView> y = b.forward(xv);
    REQUIRE(y.is_ok());
    const double loss = compute_loss(s.loss, y.value(), targets, b.output_gradient(5));
    CHECK(close(st.value().loss, loss, 1e-7, 1e-6));
    REQUIRE(b.backward(xv, b.output_gradient(5)).is_ok());
    double n2 = 0;
    for (std::size_t i = 0; i < b.gradients().size; ++i) n2 += double(b.gradients()[i]) * b.gradients()[i];
    CHECK(close(st.value().grad_norm, std::sqrt(n2), 1e-7, 1e-5));
    REQUIRE(optimizer_step(cfg.optimizer, b.parameters(), b.gradients(), b.optimizer_state(0),
                           b.optimizer_state(1), step).is_ok());
    for (std::size_t i = 0; i < a.parameters().size; ++i) {
      INFO("step " << step << " param " << i);
      CHECK(close(a.parameters()[i], b.parameters()[i], 1e-7, 1e-6));
    }
  }
}

TEST_CASE("trainer: clipping by norm (returns pre-clip norm) and by value", "[trainer][optim]") {
  // One identity layer, MSE, W = 0, b = 0, x = [1, 2], t = 3: z = 0, dL/dz = 2(z - t) = -6,
  // dW = [-6, -12], db = -6, norm sqrt(216) = 14.6969... SGD lr 0.1.
  const ModelSpec s = ModelSpec(2).dense(1, ActivationSpec::identity(), Init::zeros()).with_loss(Loss::kMse);
  const float x[2] = {1.f, 2.f}, t[1] = {3.f};
  const double norm = std::sqrt(216.0);
  struct Case {
    const char* what;
    ClipConfig clip;
    double w0, w1, b;  // expected after one step
  };
  const double sn = 1.0 / (norm + 1e-6);           // norm clip to 1
  const double sv = 1.0 / (std::sqrt(3.0) + 1e-6);  // value clip to 1, then norm clip to 1
  const Case cases[] = {
      {"no clip", ClipConfig{}, 0.6, 1.2, 0.6},
      {"norm below threshold", ClipConfig{100.f, 0.f}, 0.6, 1.2, 0.6},
      {"norm 1", ClipConfig{1.f, 0.f}, 0.6 * sn, 1.2 * sn, 0.6 * sn},
      {"value 1", ClipConfig{0.f, 1.f}, 0.1, 0.1, 0.1},
      {"value 8", ClipConfig{0.f, 8.f}, 0.6, 0.8, 0.6},
      {"value 1 then norm 1", ClipConfig{1.f, 1.f}, 0.1 * sv, 0.1 * sv, 0.1 * sv},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const ModelOptions o{Mode::kTraining, 1, OptimizerKind::kSgd, Isa::kAuto};
    OwnedArena arena(plan(s, o).total());
    Model m = Model::bind(s, o, arena.arena).value();
    REQUIRE(m.is_bound());
    Rng rng(1);
    REQUIRE(m.init_parameters(rng).is_ok());
    TrainerConfig cfg;
    cfg.optimizer = OptimizerConfig::sgd(0.1f);
    cfg.clip = c.clip;
    Result<Trainer> tr = Trainer::create(m, cfg);
    REQUIRE(tr.is_ok());
    Result<StepStats> st = tr.value().step(ConstMatrixView(x, 1, 2), Targets::values(ConstMatrixView(t, 1, 1)));
    REQUIRE(st.is_ok());
    // Float arithmetic: atol 1e-6, rtol 1e-5.
    CHECK(close(st.value().loss, 9.0, 1e-6, 1e-6));
    CHECK(close(st.value().grad_norm, norm, 1e-6, 1e-5));
    CHECK(close(m.weights(0)(0, 0), c.w0, 1e-6, 1e-5));
    CHECK(close(m.weights(0)(0, 1), c.w1, 1e-6, 1e-5));
    CHECK(close(m.bias(0)[0], c.b, 1e-6, 1e-5));
  }
}

TEST_CASE("trainer: L2 decay is applied after the reported norm", "[trainer][optim]") {
  // As above but W = 1 (constant init) and weight decay 0.5: z = 3 = t, so the loss gradient is 0;
  // grad_norm (before decay) is 0 and the update is pure decay: w = 1 - 0.1*0.5*1 = 0.95.
  const ModelSpec s = ModelSpec(2).dense(1, ActivationSpec::identity(), Init::constant(1.f)).with_loss(Loss::kMse);
  const float x[2] = {1.f, 2.f}, t[1] = {3.f};
  const ModelOptions o{Mode::kTraining, 1, OptimizerKind::kSgd, Isa::kAuto};
  OwnedArena arena(plan(s, o).total());
  Model m = Model::bind(s, o, arena.arena).value();
  Rng rng(1);
  REQUIRE(m.init_parameters(rng).is_ok());
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::sgd(0.1f);
  cfg.optimizer.weight_decay = 0.5f;
  Trainer tr = Trainer::create(m, cfg).value();
  Result<StepStats> st = tr.step(ConstMatrixView(x, 1, 2), Targets::values(ConstMatrixView(t, 1, 1)));
  REQUIRE(st.is_ok());
  CHECK(st.value().loss == 0.0);
  CHECK(st.value().grad_norm == 0.0);
  CHECK(close(m.weights(0)(0, 0), 0.95, 1e-7, 1e-6));
  CHECK(close(m.weights(0)(0, 1), 0.95, 1e-7, 1e-6));
  CHECK(m.bias(0)[0] == 0.f);  // bias 0: decay moves nothing
}

TEST_CASE("trainer: bad inputs return a status and change nothing", "[trainer][bad-input]") {
  const ModelSpec s = ModelSpec(2)
                          .dense(6, ActivationSpec::relu())
                          .dense(3, ActivationSpec::identity())
                          .with_loss(Loss::kSoftmaxCrossEntropy);
  const ModelOptions o{Mode::kTraining, 4, OptimizerKind::kAdam, Isa::kAuto};
  OwnedArena arena(plan(s, o).total() + 64);  // room for less than a second model
  Model m = Model::bind(s, o, arena.arena).value();
  REQUIRE(m.is_bound());
  Rng rng(21);
  REQUIRE(m.init_parameters(rng).is_ok());
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.01f);
  cfg.clip.max_norm = 5.f;
  Trainer tr = Trainer::create(m, cfg).value();
  std::vector<float> x = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, 0.9f, 1.0f};
  const std::int32_t y[5] = {0, 1, 2, 1, 0};
  // A few good steps so the optimizer state is non-zero.
  for (int i = 0; i < 3; ++i) REQUIRE(tr.step(ConstMatrixView(x.data(), 4, 2), Targets::classes(y)).is_ok());
  REQUIRE(tr.step_count() == 3);
  const Snapshot before = Snapshot::of(tr);

  auto expect = [&](const char* what, ConstMatrixView xv, const Targets& t, StatusCode code) {
    INFO(what);
    Result<StepStats> r = tr.step(xv, t);
    INFO(fennec_test::str(r.status()));
    CHECK(r.status().code() == code);
    CHECK(std::strlen(r.status().message()) > 0);
    CHECK(Snapshot::of(tr) == before);
    Result<EvalStats> e = tr.evaluate(xv, t);
    CHECK(e.status().code() == code);
    CHECK(Snapshot::of(tr) == before);
  };

  std::vector<float> xnan = x, xinf = x;
  xnan[3] = std::nanf("");
  xinf[0] = -INFINITY;
  expect("NaN input", ConstMatrixView(xnan.data(), 4, 2), Targets::classes(y), StatusCode::kNonFinite);
  expect("Inf input", ConstMatrixView(xinf.data(), 4, 2), Targets::classes(y), StatusCode::kNonFinite);
  const std::int32_t y_big[4] = {0, 3, 1, 1}, y_neg[4] = {0, 1, -1, 1};
  expect("label == classes", ConstMatrixView(x.data(), 4, 2), Targets::classes(y_big), StatusCode::kInvalidArgument);
  expect("label < 0", ConstMatrixView(x.data(), 4, 2), Targets::classes(y_neg), StatusCode::kInvalidArgument);
  expect("batch > max_batch", ConstMatrixView(x.data(), 5, 2), Targets::classes(y), StatusCode::kShapeMismatch);
  expect("batch 0", ConstMatrixView(x.data(), 0, 2), Targets::classes(y), StatusCode::kShapeMismatch);
  expect("input width 3", ConstMatrixView(x.data(), 3, 3), Targets::classes(y), StatusCode::kShapeMismatch);
  expect("input width 1", ConstMatrixView(x.data(), 4, 1), Targets::classes(y), StatusCode::kShapeMismatch);
  std::vector<float> dense(4 * 4, 0.25f);
  expect("target width 4", ConstMatrixView(x.data(), 4, 2), Targets::values(ConstMatrixView(dense.data(), 4, 4)),
         StatusCode::kShapeMismatch);
  expect("target rows 3", ConstMatrixView(x.data(), 4, 2), Targets::values(ConstMatrixView(dense.data(), 3, 3)),
         StatusCode::kShapeMismatch);
  expect("no targets", ConstMatrixView(x.data(), 4, 2), Targets{}, StatusCode::kInvalidArgument);

  // Invalid learning rates are refused and keep the old one.
  CHECK(tr.set_learning_rate(0.f).code() == StatusCode::kInvalidArgument);
  CHECK(tr.set_learning_rate(-1.f).code() == StatusCode::kInvalidArgument);
  CHECK(tr.set_learning_rate(std::nanf("")).code() == StatusCode::kInvalidArgument);
  CHECK(tr.config().optimizer.lr == 0.01f);
  CHECK(Snapshot::of(tr) == before);
  CHECK(tr.set_learning_rate(0.02f).is_ok());
  CHECK(tr.config().optimizer.lr == 0.02f);

  // Arena too small for a second model: kOutOfMemory, arena rewound, first model untouched.
  const std::size_t used = arena.arena.used();
  Result<Model> m2 = Model::bind(s, o, arena.arena);
  CHECK(m2.status().code() == StatusCode::kOutOfMemory);
  CHECK(arena.arena.used() == used);
  CHECK(Snapshot::of(tr) == before);

  // After all that, a good step still works.
  CHECK(tr.step(ConstMatrixView(x.data(), 4, 2), Targets::classes(y)).is_ok());
  CHECK(tr.step_count() == 4);
}

TEST_CASE("trainer: non-finite loss or gradient norm changes nothing", "[trainer][bad-input]") {
  const ModelSpec s = ModelSpec(2).dense(3, ActivationSpec::identity()).dense(1, ActivationSpec::identity())
                          .with_loss(Loss::kMse);
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    INFO("optimizer " << optimizer_name(kind));
    const ModelOptions o{Mode::kTraining, 2, kind, Isa::kAuto};
    OwnedArena arena(plan(s, o).total());
    Model m = Model::bind(s, o, arena.arena).value();
    Rng rng(3);
    REQUIRE(m.init_parameters(rng).is_ok());
    TrainerConfig cfg;
    cfg.optimizer = OptimizerConfig::defaults(kind);
    Trainer tr = Trainer::create(m, cfg).value();
    const float x[4] = {0.5f, -1.f, 1.f, 0.25f}, t[2] = {1.f, -1.f};
    REQUIRE(tr.step(ConstMatrixView(x, 2, 2), Targets::values(ConstMatrixView(t, 2, 1))).is_ok());
    const Snapshot before = Snapshot::of(tr);
    // NaN target: the loss is NaN.
    const float tnan[2] = {1.f, std::nanf("")};
    CHECK(tr.step(ConstMatrixView(x, 2, 2), Targets::values(ConstMatrixView(tnan, 2, 1))).status().code() ==
          StatusCode::kNonFinite);
    CHECK(Snapshot::of(tr) == before);
    // Huge (finite) inputs: float gradients overflow to Inf (the norm is not finite).
    const float xbig[4] = {3e30f, -3e30f, 3e30f, 3e30f};
    CHECK(tr.step(ConstMatrixView(xbig, 2, 2), Targets::values(ConstMatrixView(t, 2, 1))).status().code() ==
          StatusCode::kNonFinite);
    CHECK(Snapshot::of(tr) == before);
  }
}

TEST_CASE("trainer: create validates the model and the configuration", "[trainer][bad-input]") {
  const ModelSpec s = ModelSpec(2).dense(2, ActivationSpec::identity());
  const ModelOptions o{Mode::kTraining, 2, OptimizerKind::kMomentum, Isa::kAuto};
  OwnedArena arena(plan(s, o).total());
  Model m = Model::bind(s, o, arena.arena).value();
  Rng rng(4);
  REQUIRE(m.init_parameters(rng).is_ok());
  const auto params = bytes_of(m.parameters());
  auto expect = [&](const char* what, Model& model, const TrainerConfig& c, StatusCode code) {
    INFO(what);
    Result<Trainer> r = Trainer::create(model, c);
    CHECK(r.status().code() == code);
    CHECK(bytes_of(m.parameters()) == params);
  };
  TrainerConfig good;
  good.optimizer = OptimizerConfig::momentum_sgd();
  REQUIRE(Trainer::create(m, good).is_ok());
  TrainerConfig c = good;
  c.optimizer.lr = -1.f;
  expect("lr < 0", m, c, StatusCode::kInvalidArgument);
  c = good;
  c.optimizer.momentum = 1.f;
  expect("momentum 1", m, c, StatusCode::kInvalidArgument);
  c = good;
  c.clip.max_norm = -1.f;
  expect("max_norm < 0", m, c, StatusCode::kInvalidArgument);
  c = good;
  c.clip.max_value = std::nanf("");
  expect("max_value NaN", m, c, StatusCode::kInvalidArgument);
  // The model was bound for momentum (one state slot); the library reports a mismatched
  // optimizer as an invalid argument (trainer.hpp: "bound for config.optimizer.kind").
  c = good;
  c.optimizer = OptimizerConfig::adam();
  expect("optimizer kind mismatch (adam on a momentum model)", m, c, StatusCode::kInvalidArgument);
  c.optimizer = OptimizerConfig::nesterov();
  expect("optimizer kind mismatch (nesterov on a momentum model)", m, c, StatusCode::kInvalidArgument);
  // Inference model and unbound model.
  const ModelOptions oi{Mode::kInference, 2, OptimizerKind::kMomentum, Isa::kAuto};
  OwnedArena ai(plan(s, oi).total());
  Model mi = Model::bind(s, oi, ai.arena).value();
  REQUIRE(mi.is_bound());
  expect("inference model", mi, good, StatusCode::kFailedPrecondition);
  Model unbound;
  expect("unbound model", unbound, good, StatusCode::kFailedPrecondition);
  // A default-constructed trainer refuses to work.
  Trainer none;
  const float x[2] = {1.f, 2.f}, t[2] = {0.f, 1.f};
  CHECK(none.step(ConstMatrixView(x, 1, 2), Targets::values(ConstMatrixView(t, 1, 2))).status().code() ==
        StatusCode::kFailedPrecondition);
}

TEST_CASE("trainer: step counts that would wrap or pass 2^53 are refused and change nothing", "[trainer][bad-input]") {
  const ModelSpec s = ModelSpec(2).dense(3, ActivationSpec::tanh()).dense(1, ActivationSpec::identity())
                          .with_loss(Loss::kMse);
  const ModelOptions o{Mode::kTraining, 2, OptimizerKind::kAdam, Isa::kAuto};
  OwnedArena arena(plan(s, o).total());
  Model m = Model::bind(s, o, arena.arena).value();
  Rng rng(3);
  REQUIRE(m.init_parameters(rng).is_ok());
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.01f);
  Trainer tr = Trainer::create(m, cfg).value();
  const float x[4] = {0.5f, -1.f, 1.f, 0.25f}, t[2] = {1.f, -1.f};
  const ConstMatrixView xv(x, 2, 2);
  const Targets tv = Targets::values(ConstMatrixView(t, 2, 1));
  REQUIRE(tr.step(xv, tv).is_ok());
  const Snapshot before = Snapshot::of(tr);
  // 2^64-1 used to make the next t wrap to 0: bias correction 1/0, every weight NaN, status OK.
  for (std::uint64_t bad : {~std::uint64_t{0}, kMaxStepCount + 1, std::uint64_t{1} << 63}) {
    INFO("step count " << bad);
    CHECK(tr.set_step_count(bad).code() == StatusCode::kInvalidArgument);
    CHECK(Snapshot::of(tr) == before);
  }
  // At the limit the counter is exact; the step that would pass it is refused.
  REQUIRE(tr.set_step_count(kMaxStepCount).is_ok());
  const Snapshot at_limit = Snapshot::of(tr);
  CHECK(tr.step(xv, tv).status().code() == StatusCode::kFailedPrecondition);
  CHECK(Snapshot::of(tr) == at_limit);
  REQUIRE(tr.set_step_count(kMaxStepCount - 1).is_ok());
  REQUIRE(tr.step(xv, tv).is_ok());
  for (std::size_t i = 0; i < m.parameters().size; ++i) CHECK(std::isfinite(m.parameters()[i]));
  // optimizer_step has the same bound.
  std::vector<float> p(4, 1.f), g(4, 0.5f), s0(4, 0.f), s1(4, 0.f);
  CHECK(optimizer_step(cfg.optimizer, VectorView{p.data(), 4}, ConstVectorView(g.data(), 4),
                       VectorView{s0.data(), 4}, VectorView{s1.data(), 4}, kMaxStepCount + 1)
            .code() == StatusCode::kInvalidArgument);
  CHECK(p == std::vector<float>(4, 1.f));
  CHECK(optimizer_step(cfg.optimizer, VectorView{p.data(), 4}, ConstVectorView(g.data(), 4),
                       VectorView{s0.data(), 4}, VectorView{s1.data(), 4}, kMaxStepCount)
            .is_ok());
}

TEST_CASE("trainer: the optimizer is named once, in ModelOptions::training", "[trainer]") {
  const ModelSpec s = ModelSpec(2).dense(4, ActivationSpec::tanh()).dense(2, ActivationSpec::identity());
  // Inference options name no optimizer and plan no gradients or state.
  constexpr ModelOptions inf = ModelOptions::inference(8);
  static_assert(inf.mode == Mode::kInference && inf.max_batch == 8, "constexpr factory");
  CHECK(plan(s, inf).gradients == 0);
  CHECK(plan(s, inf).optimizer_state == 0);

  const OptimizerConfig adam = OptimizerConfig::adam(0.02, 0.8, 0.99);
  const ModelOptions o = ModelOptions::training(4, adam);
  CHECK(o.optimizer == OptimizerKind::kAdam);
  CHECK(plan(s, o).optimizer_state == 2 * plan(s, o).parameters);
  OwnedArena arena(plan(s, o).total());
  Model m = Model::bind(s, o, arena.arena).value();
  Rng rng(11);
  REQUIRE(m.init_parameters(rng).is_ok());
  Result<Trainer> t = Trainer::create(m);
  REQUIRE(t.is_ok());
  CHECK(t->config().optimizer.kind == OptimizerKind::kAdam);
  CHECK(t->config().optimizer.lr == static_cast<float>(0.02));  // the trainer applies lr in float
  CHECK(t->config().optimizer.beta1 == 0.8);
  CHECK(t->config().optimizer.beta2 == 0.99);

  // The same step through the two-name form with the same hyper-parameters: identical weights.
  OwnedArena arena2(plan(s, o).total());
  Model m2 = Model::bind(s, o, arena2.arena).value();
  Rng rng2(11);
  REQUIRE(m2.init_parameters(rng2).is_ok());
  TrainerConfig tc;
  tc.optimizer = adam;
  Trainer t2 = Trainer::create(m2, tc).value();
  const float x[2 * 2] = {0.5f, -1.f, 1.5f, 0.25f};
  const std::int32_t y[2] = {1, 0};
  for (int k = 0; k < 3; ++k) {
    REQUIRE(t->step(ConstMatrixView(x, 2, 2), Targets::classes(y)).is_ok());
    REQUIRE(t2.step(ConstMatrixView(x, 2, 2), Targets::classes(y)).is_ok());
  }
  CHECK(bytes_of(m.parameters()) == bytes_of(m2.parameters()));

  // A kind alone gives that kind's defaults; so do options written field by field.
  CHECK(ModelOptions::training(4, OptimizerKind::kRmsProp).optimizer_config.rho == 0.99);
  const ModelOptions old_form{Mode::kTraining, 4, OptimizerKind::kNesterov, Isa::kAuto};
  OwnedArena arena3(plan(s, old_form).total());
  Model m3 = Model::bind(s, old_form, arena3.arena).value();
  CHECK(m3.options().optimizer_config.kind == OptimizerKind::kNesterov);
  Result<Trainer> t3 = Trainer::create(m3, ClipConfig{1.f, 0.f});
  REQUIRE(t3.is_ok());
  CHECK(t3->config().optimizer.kind == OptimizerKind::kNesterov);
  CHECK(t3->config().optimizer.lr == static_cast<float>(OptimizerConfig::nesterov().lr));
  CHECK(t3->config().clip.max_norm == 1.f);

  // Bad hyper-parameters are refused at bind, and the arena is left as it was.
  OptimizerConfig bad = adam;
  bad.beta2 = 1.0;
  OwnedArena arena4(plan(s, o).total());
  const std::size_t used = arena4.arena.used();
  CHECK(Model::bind(s, ModelOptions::training(4, bad), arena4.arena).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(arena4.arena.used() == used);
}
