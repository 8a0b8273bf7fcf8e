// SPDX-License-Identifier: Apache-2.0
// Optimizers: each update rule for 3+ steps against hand-derived values (double reference of the
// formulas in optim.hpp), Adam bias correction at t = 1, 2, 3, L2 and decoupled weight decay,
// validation, and config helpers.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;

namespace {

// Double reference of optim.hpp's formulas, with the configuration's double hyper-parameters
// (the kernels see each rate and its complement rounded once to float).
struct RefOpt {
  OptimizerConfig c;
  std::vector<double> w, s0, s1;
  std::uint64_t t = 0;

  RefOpt(const OptimizerConfig& cfg, const std::vector<float>& w0)
      : c(cfg), w(w0.begin(), w0.end()), s0(w0.size(), 0.0), s1(w0.size(), 0.0) {}

  void step(const std::vector<float>& grads) {
    ++t;
    const double lr = c.lr, mu = c.momentum, rho = c.rho, b1 = c.beta1, b2 = c.beta2,
                 eps = effective_eps(c), wd = c.weight_decay;
    for (std::size_t i = 0; i < w.size(); ++i) {
      double g = grads[i];
      if (c.kind != OptimizerKind::kAdamW) g += wd * w[i];
      switch (c.kind) {
        case OptimizerKind::kSgd: w[i] -= lr * g; break;
        case OptimizerKind::kMomentum:
          s0[i] = mu * s0[i] + g;
          w[i] -= lr * s0[i];
          break;
        case OptimizerKind::kNesterov:
          s0[i] = mu * s0[i] + g;
          w[i] -= lr * (g + mu * s0[i]);
          break;
        case OptimizerKind::kAdaGrad:
          s0[i] += g * g;
          w[i] -= lr * g / (std::sqrt(s0[i]) + eps);
          break;
        case OptimizerKind::kRmsProp:
          s0[i] = rho * s0[i] + (1 - rho) * g * g;
          w[i] -= lr * g / (std::sqrt(s0[i]) + eps);
          break;
        case OptimizerKind::kAdamW:
          w[i] -= lr * wd * w[i];
          [[fallthrough]];
        case OptimizerKind::kAdam: {
          s0[i] = b1 * s0[i] + (1 - b1) * g;
          s1[i] = b2 * s1[i] + (1 - b2) * g * g;
          const double mh = s0[i] / (1 - std::pow(b1, double(t)));
          const double vh = s1[i] / (1 - std::pow(b2, double(t)));
          w[i] -= lr * mh / (std::sqrt(vh) + eps);
          break;
        }
      }
    }
  }
};

struct Lib {
  std::vector<float> w, s0, s1;
  explicit Lib(const std::vector<float>& w0) : w(w0), s0(w0.size(), 0.f), s1(w0.size(), 0.f) {}
  Status step(const OptimizerConfig& c, const std::vector<float>& g, std::uint64_t t) {
    return optimizer_step(c, VectorView{w.data(), w.size()}, ConstVectorView(g.data(), g.size()),
                          VectorView{s0.data(), s0.size()}, VectorView{s1.data(), s1.size()}, t);
  }
};

const std::vector<float> kW0 = {1.0f, -0.5f, 0.25f, 2.0f, -3.0f, 0.0f, 0.125f};
// Gradients per step: mixed signs, a zero, a sign flip between steps, different magnitudes.
const std::vector<std::vector<float>> kGrads = {
    {0.5f, -0.25f, 0.0f, 1.5f, -0.01f, 0.3f, 4.0f},
    {-0.25f, -0.5f, 0.1f, 1.0f, 0.02f, -0.3f, -4.0f},
    {1.0f, 0.125f, -0.2f, 0.5f, -0.03f, 0.3f, 2.0f},
    {0.0f, 0.75f, 0.3f, -1.0f, 0.04f, -0.3f, 1.0f},
};

void run_against_reference(const OptimizerConfig& c) {
  INFO("optimizer " << optimizer_name(c.kind) << " lr " << c.lr << " wd " << c.weight_decay);
  REQUIRE(validate(c).is_ok());
  RefOpt ref(c, kW0);
  Lib lib(kW0);
  for (std::size_t s = 0; s < kGrads.size(); ++s) {
    REQUIRE(lib.step(c, kGrads[s], s + 1).is_ok());
    ref.step(kGrads[s]);
    // Float arithmetic on O(1) values over a few steps: atol 1e-6, rtol 1e-5.
    for (std::size_t i = 0; i < kW0.size(); ++i) {
      INFO("step " << s + 1 << " element " << i);
      CHECK(close(lib.w[i], ref.w[i], 1e-6, 1e-5));
      if (optimizer_state_slots(c.kind) >= 1) CHECK(close(lib.s0[i], ref.s0[i], 1e-6, 1e-5));
      if (optimizer_state_slots(c.kind) >= 2) CHECK(close(lib.s1[i], ref.s1[i], 1e-7, 1e-5));
    }
  }
}

}  // namespace

TEST_CASE("optim: SGD, momentum and Nesterov by hand", "[optim]") {
  // w0 = 1, g = 0.5, -0.25, 1.0; lr = 0.5, mu = 0.5 (all exact in float).
  {  // sgd: 1 - 0.25 = 0.75; + 0.125 = 0.875; - 0.5 = 0.375
    Lib l({1.f});
    const OptimizerConfig c = OptimizerConfig::sgd(0.5f);
    REQUIRE(l.step(c, {0.5f}, 1).is_ok());
    CHECK(l.w[0] == 0.75f);
    REQUIRE(l.step(c, {-0.25f}, 2).is_ok());
    CHECK(l.w[0] == 0.875f);
    REQUIRE(l.step(c, {1.f}, 3).is_ok());
    CHECK(l.w[0] == 0.375f);
  }
  {  // momentum: v = 0.5, w = 0.75; v = 0.25 - 0.25 = 0, w = 0.75; v = 1, w = 0.25
    Lib l({1.f});
    const OptimizerConfig c = OptimizerConfig::momentum_sgd(0.5f, 0.5f);
    REQUIRE(l.step(c, {0.5f}, 1).is_ok());
    CHECK(l.s0[0] == 0.5f);
    CHECK(l.w[0] == 0.75f);
    REQUIRE(l.step(c, {-0.25f}, 2).is_ok());
    CHECK(l.s0[0] == 0.f);
    CHECK(l.w[0] == 0.75f);
    REQUIRE(l.step(c, {1.f}, 3).is_ok());
    CHECK(l.s0[0] == 1.f);
    CHECK(l.w[0] == 0.25f);
  }
  {  // nesterov: v = 0.5, w -= 0.5*(0.5 + 0.25) -> 0.625; v = 0, w -= 0.5*(-0.25) -> 0.75;
     // v = 1, w -= 0.5*(1 + 0.5) -> 0
    Lib l({1.f});
    const OptimizerConfig c = OptimizerConfig::nesterov(0.5f, 0.5f);
    REQUIRE(l.step(c, {0.5f}, 1).is_ok());
    CHECK(l.w[0] == 0.625f);
    REQUIRE(l.step(c, {-0.25f}, 2).is_ok());
    CHECK(l.w[0] == 0.75f);
    REQUIRE(l.step(c, {1.f}, 3).is_ok());
    CHECK(l.w[0] == 0.f);
  }
}

TEST_CASE("optim: AdaGrad and RMSProp by hand", "[optim]") {
  // AdaGrad, lr 0.5, eps 1e-10: r = 9, w = 1 - 0.5*3/3 = 0.5; r = 25, w = 0.5 - 0.5*4/5 = 0.1;
  // r = 169, w = 0.1 + 0.5*12/13 = 0.561538...  (eps contributes < 1e-10 relative). atol 1e-7.
  {
    Lib l({1.f});
    const OptimizerConfig c = OptimizerConfig::adagrad(0.5f, 1e-10f);
    REQUIRE(l.step(c, {3.f}, 1).is_ok());
    CHECK(l.s0[0] == 9.f);
    CHECK(close(l.w[0], 0.5, 1e-7, 0));
    REQUIRE(l.step(c, {4.f}, 2).is_ok());
    CHECK(l.s0[0] == 25.f);
    CHECK(close(l.w[0], 0.1, 1e-7, 0));
    REQUIRE(l.step(c, {-12.f}, 3).is_ok());
    CHECK(l.s0[0] == 169.f);
    CHECK(close(l.w[0], 0.1 + 0.5 * 12.0 / 13.0, 1e-7, 0));
  }
  // RMSProp, lr 0.1, rho 0.75 (exact): g = 2: r = 0.25*4 = 1, w = 1 - 0.1*2/1 = 0.8;
  // g = 2: r = 0.75 + 1 = 1.75, w = 0.8 - 0.2/sqrt(1.75); g = -1: r = 1.3125 + 0.25 = 1.5625,
  // w += 0.1/1.25 = +0.08. atol 1e-7.
  {
    Lib l({1.f});
    const OptimizerConfig c = OptimizerConfig::rmsprop(0.1f, 0.75f, 1e-8f);
    REQUIRE(l.step(c, {2.f}, 1).is_ok());
    CHECK(l.s0[0] == 1.f);
    CHECK(close(l.w[0], 0.8, 1e-7, 0));
    REQUIRE(l.step(c, {2.f}, 2).is_ok());
    CHECK(l.s0[0] == 1.75f);
    const double w2 = 0.8 - 0.2 / std::sqrt(1.75);
    CHECK(close(l.w[0], w2, 1e-7, 0));
    REQUIRE(l.step(c, {-1.f}, 3).is_ok());
    CHECK(l.s0[0] == 1.5625f);
    CHECK(close(l.w[0], w2 + 0.08, 1e-7, 0));
  }
}

TEST_CASE("optim: Adam bias correction at t = 1, 2, 3 by hand", "[optim]") {
  // lr 0.125, beta1 0.5, beta2 0.75, eps 0.25 (large, so where eps enters shows: it is added to
  // sqrt(vhat), not inside the root); w0 = 1; g = 0.5, -0.25, 1.0. All inputs exact in float.
  // t=1: m = 0.25, v = 0.0625; mhat = 0.25/0.5 = 0.5, vhat = 0.0625/0.25 = 0.25;
  //      w = 1 - 0.125*0.5/(sqrt(0.25) + 0.25) = 1 - 0.0625/0.75 = 11/12 = 0.91666...
  //      (eps inside the root would give 1 - 0.0625/sqrt(0.5) = 0.91161...)
  // t=2: m = 0.125 - 0.125 = 0, v = 0.046875 + 0.015625 = 0.0625; mhat = 0 -> w unchanged
  // t=3: m = 0.5, v = 0.046875 + 0.25 = 0.296875 = 19/64; mhat = 0.5/(1-0.125) = 4/7,
  //      vhat = (19/64)/(1-0.421875) = (19/64)/(37/64) = 19/37, sqrt(19/37) = 0.7165986...;
  //      w = 11/12 - 0.125*(4/7)/(0.7165986 + 0.25) = 11/12 - 0.0738968... = 0.842769835560725
  //      (eps inside the root: 11/12 - (1/14)/sqrt(19/37 + 0.25) = 0.83492...)
  // Without bias correction t=3 would give 11/12 - 0.0625/(sqrt(0.296875) + 0.25) = 0.83804...
  // Tolerance atol 1e-7 (float w).
  Lib l({1.f});
  const OptimizerConfig c = OptimizerConfig::adam(0.125f, 0.5f, 0.75f, 0.25f);
  REQUIRE(l.step(c, {0.5f}, 1).is_ok());
  CHECK(l.s0[0] == 0.25f);
  CHECK(l.s1[0] == 0.0625f);
  CHECK(close(l.w[0], 11.0 / 12.0, 1e-7, 0));
  REQUIRE(l.step(c, {-0.25f}, 2).is_ok());
  CHECK(l.s0[0] == 0.f);
  CHECK(l.s1[0] == 0.0625f);
  CHECK(close(l.w[0], 11.0 / 12.0, 1e-7, 0));
  REQUIRE(l.step(c, {1.f}, 3).is_ok());
  CHECK(l.s0[0] == 0.5f);
  CHECK(l.s1[0] == 0.296875f);
  CHECK(close(l.w[0], 0.842769835560725, 1e-7, 0));
}

TEST_CASE("optim: AdamW decays decoupled, Adam with weight decay is L2", "[optim]") {
  // w0 = 2, g = 0 at t = 1, lr 0.1, wd 0.5.
  // AdamW: w = 2 - 0.1*0.5*2 = 1.9, then m = v = 0 -> no Adam move: 1.9 exactly (within float).
  // Adam + L2: g' = 0 + 0.5*2 = 1 -> m = 0.1, v = 0.001, mhat = 1, vhat = 1 -> w = 2 - 0.1 = 1.9
  //   too, but through the moments: m and v become non-zero.
  Lib aw({2.f});
  REQUIRE(aw.step(OptimizerConfig::adamw(0.1f, 0.5f), {0.f}, 1).is_ok());
  CHECK(close(aw.w[0], 1.9, 1e-6, 0));
  CHECK(aw.s0[0] == 0.f);
  CHECK(aw.s1[0] == 0.f);
  OptimizerConfig a = OptimizerConfig::adam(0.1f);
  a.weight_decay = 0.5f;
  Lib l2({2.f});
  REQUIRE(l2.step(a, {0.f}, 1).is_ok());
  CHECK(close(l2.w[0], 1.9, 1e-6, 0));
  CHECK(close(l2.s0[0], 0.1, 1e-7, 1e-6));
  // v = (1 - beta2) g^2 with 1 - beta2 computed in double, then rounded: exactly float(0.001),
  // not 1 - 0.999f (0.00099998713, 1.3e-5 off).
  CHECK(l2.s1[0] == static_cast<float>(1.0 - 0.999));
  // SGD + L2: w = 2 - 0.1*(1 + 0.5*2) = 1.8
  OptimizerConfig s = OptimizerConfig::sgd(0.1f);
  s.weight_decay = 0.5f;
  Lib ls({2.f});
  REQUIRE(ls.step(s, {1.f}, 1).is_ok());
  CHECK(close(ls.w[0], 1.8, 1e-6, 0));
}

TEST_CASE("optim: every optimizer, 4 steps, defaults and weight decay, vs reference", "[optim]") {
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    OptimizerConfig c = OptimizerConfig::defaults(kind);
    CHECK(c.kind == kind);
    c.lr = kind == OptimizerKind::kSgd ? 0.1f : 0.05f;
    run_against_reference(c);
    c.weight_decay = 0.1f;
    run_against_reference(c);
    c.momentum = 0.5f;
    c.rho = 0.9f;
    c.beta1 = 0.8f;
    c.beta2 = 0.99f;
    c.eps = 1e-3f;  // eps large enough to matter
    run_against_reference(c);
  }
}

TEST_CASE("optim: factories and defaults", "[optim]") {
  CHECK(OptimizerConfig::sgd(0.3f).kind == OptimizerKind::kSgd);
  CHECK(OptimizerConfig::sgd(0.3f).lr == 0.3f);
  const OptimizerConfig m = OptimizerConfig::momentum_sgd(0.2f, 0.8f);
  CHECK(m.kind == OptimizerKind::kMomentum);
  CHECK(m.lr == 0.2f);
  CHECK(m.momentum == 0.8f);
  CHECK(OptimizerConfig::nesterov().kind == OptimizerKind::kNesterov);
  const OptimizerConfig ag = OptimizerConfig::adagrad();
  CHECK(ag.kind == OptimizerKind::kAdaGrad);
  CHECK(ag.eps == 1e-10);
  const OptimizerConfig r = OptimizerConfig::rmsprop(0.01f, 0.95f, 1e-6f);
  CHECK(r.kind == OptimizerKind::kRmsProp);
  CHECK(r.rho == 0.95f);
  CHECK(r.eps == 1e-6f);
  const OptimizerConfig a = OptimizerConfig::adam();
  CHECK(a.kind == OptimizerKind::kAdam);
  CHECK(a.lr == 1e-3);
  CHECK(a.beta1 == 0.9);
  CHECK(a.beta2 == 0.999);
  CHECK(a.eps == 1e-8);
  CHECK(a.weight_decay == 0.0);
  const OptimizerConfig aw = OptimizerConfig::adamw();
  CHECK(aw.kind == OptimizerKind::kAdamW);
  CHECK(aw.weight_decay == 0.01);
  for (int k = 0; k < kOptimizerCount; ++k) {
    const auto kind = static_cast<OptimizerKind>(k);
    CHECK(validate(OptimizerConfig::defaults(kind)).is_ok());
    Result<OptimizerKind> p = parse_optimizer(optimizer_name(kind));
    REQUIRE(p.is_ok());
    CHECK(p.value() == kind);
  }
  CHECK(parse_optimizer("lbfgs").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("optim: invalid hyper-parameters are rejected and change nothing", "[optim][bad-input]") {
  const float nan = std::nanf(""), inf = INFINITY;
  struct Bad {
    const char* what;
    OptimizerConfig c;
  };
  auto with = [](OptimizerConfig c, double OptimizerConfig::*field, double v) {
    c.*field = v;
    return c;
  };
  const OptimizerConfig base = OptimizerConfig::adam();
  const Bad bad[] = {
      {"lr 0", with(base, &OptimizerConfig::lr, 0.f)},
      {"lr < 0", with(base, &OptimizerConfig::lr, -0.1f)},
      {"lr NaN", with(base, &OptimizerConfig::lr, nan)},
      {"lr Inf", with(base, &OptimizerConfig::lr, inf)},
      {"momentum 1", with(OptimizerConfig::momentum_sgd(), &OptimizerConfig::momentum, 1.f)},
      {"momentum < 0", with(OptimizerConfig::nesterov(), &OptimizerConfig::momentum, -0.1f)},
      {"momentum NaN", with(OptimizerConfig::momentum_sgd(), &OptimizerConfig::momentum, nan)},
      {"rho 1", with(OptimizerConfig::rmsprop(), &OptimizerConfig::rho, 1.f)},
      {"rho < 0", with(OptimizerConfig::rmsprop(), &OptimizerConfig::rho, -0.5f)},
      {"beta1 1", with(base, &OptimizerConfig::beta1, 1.f)},
      {"beta2 1", with(base, &OptimizerConfig::beta2, 1.f)},
      {"beta2 NaN", with(base, &OptimizerConfig::beta2, nan)},
      {"beta1 < 0", with(base, &OptimizerConfig::beta1, -0.1f)},
      {"eps < 0", with(base, &OptimizerConfig::eps, -1e-8)},
      {"eps below float's range", with(base, &OptimizerConfig::eps, 1e-60)},
      {"lr below float's range", with(base, &OptimizerConfig::lr, 1e-60)},
      {"eps Inf", with(base, &OptimizerConfig::eps, inf)},
      {"weight_decay < 0", with(base, &OptimizerConfig::weight_decay, -1e-3f)},
      {"weight_decay NaN", with(base, &OptimizerConfig::weight_decay, nan)},
  };
  for (const Bad& b : bad) {
    INFO(b.what);
    CHECK(validate(b.c).code() == StatusCode::kInvalidArgument);
    Lib l(kW0);
    CHECK(l.step(b.c, kGrads[0], 1).code() == StatusCode::kInvalidArgument);
    CHECK(l.w == kW0);
  }
  OptimizerConfig bogus = base;
  bogus.kind = static_cast<OptimizerKind>(kOptimizerCount);
  CHECK(validate(bogus).code() == StatusCode::kInvalidArgument);

  // t = 0 (bias correction 1/(1 - beta^0) = 1/0) and size mismatches.
  Lib l(kW0);
  CHECK(l.step(base, kGrads[0], 0).code() == StatusCode::kInvalidArgument);
  CHECK(l.w == kW0);
  std::vector<float> short_g(kW0.size() - 1, 1.f);
  CHECK(l.step(base, short_g, 1).code() == StatusCode::kShapeMismatch);
  CHECK(optimizer_step(OptimizerConfig::momentum_sgd(), VectorView{l.w.data(), l.w.size()},
                       ConstVectorView(kGrads[0].data(), kGrads[0].size()), VectorView{l.s0.data(), 3},
                       VectorView{}, 1).code() == StatusCode::kShapeMismatch);
  CHECK(optimizer_step(OptimizerConfig::adam(), VectorView{l.w.data(), l.w.size()},
                       ConstVectorView(kGrads[0].data(), kGrads[0].size()),
                       VectorView{l.s0.data(), l.s0.size()}, VectorView{}, 1).code() ==
        StatusCode::kShapeMismatch);
  CHECK(l.w == kW0);
  // SGD needs no state.
  CHECK(optimizer_step(OptimizerConfig::sgd(), VectorView{l.w.data(), l.w.size()},
                       ConstVectorView(kGrads[0].data(), kGrads[0].size()), VectorView{}, VectorView{},
                       1).is_ok());

  CHECK(validate(ClipConfig{}).is_ok());
  CHECK(validate(ClipConfig{1.f, 0.5f}).is_ok());
  CHECK(validate(ClipConfig{-1.f, 0.f}).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ClipConfig{0.f, -1.f}).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ClipConfig{nan, 0.f}).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ClipConfig{0.f, inf}).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("optim: one eps default per optimizer, PyTorch's", "[optim]") {
  // A plain config naming AdaGrad and the adagrad() helper use the same eps (1e-10), and so do
  // their updates, bit for bit; the others default to 1e-8.
  OptimizerConfig plain;
  plain.kind = OptimizerKind::kAdaGrad;
  CHECK(effective_eps(plain) == 1e-10);
  CHECK(effective_eps(OptimizerConfig::adagrad()) == 1e-10);
  CHECK(effective_eps(OptimizerConfig::defaults(OptimizerKind::kAdaGrad)) == 1e-10);
  for (OptimizerKind k : {OptimizerKind::kRmsProp, OptimizerKind::kAdam, OptimizerKind::kAdamW}) {
    OptimizerConfig c;
    c.kind = k;
    CHECK(effective_eps(c) == 1e-8);
    CHECK(effective_eps(OptimizerConfig::defaults(k)) == 1e-8);
  }
  // Tiny squared gradients make eps matter: 1e-10 and 1e-8 give different steps.
  const std::vector<float> g = {1e-9f, -2e-9f, 0.f, 3e-9f, 1e-9f, 0.f, -1e-9f};
  Lib a(kW0), b(kW0), c(kW0);
  REQUIRE(a.step(plain, g, 1).is_ok());
  REQUIRE(b.step(OptimizerConfig::adagrad(), g, 1).is_ok());
  CHECK(a.w == b.w);
  OptimizerConfig old_default = plain;
  old_default.eps = 1e-8;
  REQUIRE(c.step(old_default, g, 1).is_ok());
  CHECK(c.w != b.w);
}

namespace {

struct TorchRun {
  OptimizerKind kind;
  double lr, weight_decay, rho;
  std::uint32_t w[5][7];
};

const TorchRun kTorchRuns[] = {
#include "fixtures/torch_optim_fixture.inc"
};

const std::vector<std::vector<float>> kTorchGrads = {
    {0.5f, -0.25f, 0.0f, 1.5f, -0.01f, 0.3f, 4.0f},   {-0.25f, -0.5f, 0.1f, 1.0f, 0.02f, -0.3f, -4.0f},
    {1.0f, 0.125f, -0.2f, 0.5f, -0.03f, 0.3f, 2.0f},  {0.0f, 0.75f, 0.3f, -1.0f, 0.04f, -0.3f, 1.0f},
    {0.3f, -0.6f, 0.05f, 0.25f, -0.05f, 0.2f, -0.5f},
};

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

}  // namespace

// PyTorch float32 (torch.optim, defaults; the generating script is beside the fixture) and
// Fennec's reference kernels, five steps from the same weights with the same gradients. Both
// round each rate once from double (rho and 1 - rho, beta and 1 - beta): the trajectories agree
// to float rounding of the operations, bounded here by 4 ulps of the largest magnitude the
// weight has had so far (an error made while a weight was large stays after it shrinks; the
// largest case is 2 ulps, Nesterov, of a weight that moved from 0.125 to 0.014).
// Rounding 1 - rho in float instead (1 - 0.999f) puts RMSProp's weights 138 ulps off after
// five steps (7 with rho 0.99), and 1 - 0.999f for Adam's beta2 76: far outside this bound.
TEST_CASE("optim: five steps of every optimizer match PyTorch float32 to rounding", "[optim][pytorch]") {
  REQUIRE(std::size(kTorchRuns) == 2 * (kOptimizerCount + 1));  // RMSProp with rho 0.99 and 0.999
  for (const TorchRun& run : kTorchRuns) {
    OptimizerConfig c = OptimizerConfig::defaults(run.kind);
    c.lr = run.lr;
    c.weight_decay = run.weight_decay;
    c.rho = run.rho;
    INFO(optimizer_name(run.kind) << " weight_decay " << run.weight_decay << " rho " << run.rho);
    Lib lib(kW0);
    std::vector<float> largest(kW0.size());
    for (std::size_t i = 0; i < kW0.size(); ++i) largest[i] = std::fabs(kW0[i]);
    double worst = 0;
    for (std::size_t s = 0; s < kTorchGrads.size(); ++s) {
      REQUIRE(lib.step(c, kTorchGrads[s], s + 1).is_ok());
      for (std::size_t i = 0; i < kW0.size(); ++i) {
        const float r = from_bits(run.w[s][i]);
        largest[i] = std::max(largest[i], std::fabs(r));
        const double ulp = std::nextafter(largest[i], INFINITY) - largest[i];
        const double err = std::fabs(double(lib.w[i]) - double(r));
        worst = std::max(worst, err / ulp);
        INFO("step " << s + 1 << " element " << i << ": fennec " << lib.w[i] << " torch " << r);
        CHECK(err <= 4 * ulp);
      }
    }
    WARN(optimizer_name(run.kind) << " wd " << run.weight_decay << " rho " << run.rho << ": worst " << worst
                                  << " ulp of the weight's largest magnitude");
  }
}
