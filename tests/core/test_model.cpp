// SPDX-License-Identifier: Apache-2.0
// Model: bind validation, layout, init, forward against a double reference, and backward
// (all parameters and dL/dx) against finite differences in double.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fennec/quant.hpp"
#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;
using fennec_test::OwnedArena;
using fennec_test::ref_act;
using fennec_test::ref_loss;

namespace {

// The network in double: W[i] (units x fan_in) row-major, b[i].
struct RefNet {
  ModelSpec spec;
  std::vector<std::vector<double>> w, b;

  static RefNet from(const Model& m) {
    RefNet r;
    r.spec = m.spec();
    for (std::size_t i = 0; i < m.num_layers(); ++i) {
      MatrixView wv = m.weights(i);
      VectorView bv = m.bias(i);
      std::vector<double> wi(wv.rows * wv.cols), bi(bv.size);
      for (std::size_t o = 0; o < wv.rows; ++o)
        for (std::size_t k = 0; k < wv.cols; ++k) wi[o * wv.cols + k] = wv(o, k);
      for (std::size_t o = 0; o < bv.size; ++o) bi[o] = bv[o];
      r.w.push_back(wi);
      r.b.push_back(bi);
    }
    return r;
  }

  // Output of every layer for x (rows x input).
  std::vector<std::vector<double>> forward(const std::vector<double>& x, std::size_t rows) const {
    std::vector<std::vector<double>> outs;
    const std::vector<double>* in = &x;
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      const std::size_t units = spec.layers[l].units, fan_in = spec.fan_in(l);
      std::vector<double> y(rows * units);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t o = 0; o < units; ++o) {
          double s = b[l][o];
          for (std::size_t k = 0; k < fan_in; ++k) s += (*in)[i * fan_in + k] * w[l][o * fan_in + k];
          y[i * units + o] = ref_act(spec.layers[l].activation, s);
        }
      outs.push_back(std::move(y));
      in = &outs.back();
    }
    return outs;
  }
  double loss(const std::vector<double>& x, const std::vector<double>& t, std::size_t rows) const {
    return ref_loss(spec.loss, forward(x, rows).back(), t, rows, spec.output());
  }
};

struct Data {
  std::vector<float> x;  // rows x stride
  std::size_t stride;
  std::vector<double> xd;  // dense rows x input
  std::vector<float> t;    // dense targets rows x output (one-hot for CE labels)
  std::vector<double> td;
  std::vector<std::int32_t> labels;
};

Data make_data(const ModelSpec& s, std::size_t rows, std::size_t stride, Rng& rng, bool labels) {
  Data d;
  d.stride = stride;
  d.x.assign(rows * stride, -999.f);  // padding between rows must be ignored
  d.xd.resize(rows * s.input);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t k = 0; k < s.input; ++k) {
      const float v = static_cast<float>(rng.normal());
      d.x[i * stride + k] = v;
      d.xd[i * s.input + k] = v;
    }
  const std::size_t out = s.output();
  d.t.assign(rows * out, 0.f);
  d.labels.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    if (s.loss == Loss::kSoftmaxCrossEntropy) {
      d.labels[i] = static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(out)));
      d.t[i * out + static_cast<std::size_t>(d.labels[i])] = 1.f;
    } else {
      for (std::size_t j = 0; j < out; ++j)
        d.t[i * out + j] = s.loss == Loss::kMse ? static_cast<float>(rng.normal())
                                                : static_cast<float>(rng.uniform01());
    }
  }
  (void)labels;
  d.td.assign(d.t.begin(), d.t.end());
  return d;
}

// Runs forward + loss gradient + backward on `m` and checks every parameter gradient and dL/dx
// against central differences (h = 1e-6) of the double reference network.
// Tolerance: atol 2e-5, rtol 1e-3: the library computes in float (K <= 17 term sums, errors
// ~1e-6 relative), the finite difference in double is accurate to ~1e-9.
void check_gradients(Model& m, std::size_t rows, std::size_t stride, std::uint64_t seed, bool labels) {
  INFO("seed " << seed << " rows " << rows << " stride " << stride << " loss "
               << loss_name(m.spec().loss) << " labels " << labels);
  Rng rng(seed);
  REQUIRE(m.init_parameters(rng).is_ok());
  // Non-zero biases so their effect is exercised.
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    VectorView b = m.bias(l);
    for (std::size_t o = 0; o < b.size; ++o) b[o] = static_cast<float>(rng.uniform(-0.5, 0.5));
  }
  const ModelSpec& s = m.spec();
  Data d = make_data(s, rows, stride, rng, labels);
  const std::size_t out = s.output();
  Targets targets = labels ? Targets::classes(d.labels.data())
                           : Targets::values(ConstMatrixView(d.t.data(), rows, out));

  ConstMatrixView x(d.x.data(), rows, s.input, stride);
  Result<ConstMatrixView> y = m.forward(x);
  REQUIRE(y.is_ok());
  REQUIRE(y.value().rows == rows);
  REQUIRE(y.value().cols == out);

  const RefNet ref = RefNet::from(m);
  const auto outs = ref.forward(d.xd, rows);
  // Forward: each layer's output and the final output against the double reference
  // (float sums of <= 17 products: atol 1e-5, rtol 1e-5).
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    ConstMatrixView lo = m.layer_output(l);
    REQUIRE(lo.rows == rows);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t o = 0; o < s.layers[l].units; ++o) {
        INFO("layer " << l << " row " << i << " unit " << o);
        CHECK(close(lo(i, o), outs[l][i * s.layers[l].units + o], 1e-5, 1e-5));
      }
  }
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t o = 0; o < out; ++o) CHECK(close(y.value()(i, o), outs.back()[i * out + o], 1e-5, 1e-5));

  MatrixView dlogits = m.output_gradient(rows);
  REQUIRE(dlogits.rows == rows);
  REQUIRE(dlogits.cols == out);
  REQUIRE(validate_targets(s.loss, y.value(), targets).is_ok());
  const double loss = compute_loss(s.loss, y.value(), targets, dlogits);
  CHECK(close(loss, ref.loss(d.xd, d.td, rows), 1e-5, 1e-5));

  std::vector<float> dx(rows * s.input, -1.f);
  REQUIRE(m.backward(x, dlogits, MatrixView(dx.data(), rows, s.input)).is_ok());

  const double h = 1e-6;
  RefNet p = ref;
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    MatrixView gw = m.weight_gradient(l);
    VectorView gb = m.bias_gradient(l);
    REQUIRE(gw.rows == s.layers[l].units);
    REQUIRE(gw.cols == s.fan_in(l));
    REQUIRE(gb.size == s.layers[l].units);
    for (std::size_t idx = 0; idx < p.w[l].size(); ++idx) {
      const double w0 = p.w[l][idx];
      p.w[l][idx] = w0 + h;
      const double lp = p.loss(d.xd, d.td, rows);
      p.w[l][idx] = w0 - h;
      const double lm = p.loss(d.xd, d.td, rows);
      p.w[l][idx] = w0;
      INFO("dW layer " << l << " index " << idx);
      CHECK(close(gw(idx / gw.cols, idx % gw.cols), (lp - lm) / (2 * h), 2e-5, 1e-3));
    }
    for (std::size_t o = 0; o < p.b[l].size(); ++o) {
      const double b0 = p.b[l][o];
      p.b[l][o] = b0 + h;
      const double lp = p.loss(d.xd, d.td, rows);
      p.b[l][o] = b0 - h;
      const double lm = p.loss(d.xd, d.td, rows);
      p.b[l][o] = b0;
      INFO("db layer " << l << " unit " << o);
      CHECK(close(gb[o], (lp - lm) / (2 * h), 2e-5, 1e-3));
    }
  }
  std::vector<double> xp = d.xd;
  for (std::size_t idx = 0; idx < xp.size(); ++idx) {
    const double x0 = xp[idx];
    xp[idx] = x0 + h;
    const double lp = ref.loss(xp, d.td, rows);
    xp[idx] = x0 - h;
    const double lm = ref.loss(xp, d.td, rows);
    xp[idx] = x0;
    INFO("dX index " << idx);
    CHECK(close(dx[idx], (lp - lm) / (2 * h), 2e-5, 1e-3));
  }

  // backward overwrites (does not accumulate): a second call with the same dL/dlogits, from a
  // caller buffer this time, gives the same bits and leaves that const buffer unchanged.
  // (Not re-run from output_gradient(): backward may reuse that arena buffer, see BUGS note.)
  const auto g1 = fennec_test::bytes_of(m.gradients());
  std::vector<float> dl(rows * out);
  const double loss2 = compute_loss(s.loss, y.value(), targets, MatrixView(dl.data(), rows, out));
  CHECK(loss2 == loss);
  const std::vector<float> dl_copy = dl;
  REQUIRE(m.backward(x, ConstMatrixView(dl.data(), rows, out)).is_ok());
  CHECK(fennec_test::bytes_of(m.gradients()) == g1);
  CHECK(dl == dl_copy);
}

Model bind_or_fail(const ModelSpec& s, const ModelOptions& o, OwnedArena& a) {
  Result<Model> r = Model::bind(s, o, a.arena);
  INFO(fennec_test::str(r.status()));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("model: dense layer gradients for every activation", "[model][gradcheck]") {
  const ActivationSpec acts[] = {ActivationSpec::identity(), ActivationSpec::sigmoid(),
                                 ActivationSpec::tanh(), ActivationSpec::relu(),
                                 ActivationSpec::leaky_relu(0.1f)};
  std::uint64_t seed = 100;
  for (const ActivationSpec& a : acts) {
    INFO("activation " << activation_name(a.kind));
    const ModelSpec s = ModelSpec(6).dense(4, a, Init::xavier_normal()).with_loss(Loss::kMse);
    // The reference table, and the one kAuto picks (a SIMD table where there is one): each
    // activation's forward and backward kernels of that table against finite differences.
    for (Isa isa : {Isa::kRef, Isa::kAuto}) {
      INFO("isa " << isa_name(isa));
      const ModelOptions o{Mode::kTraining, 8, OptimizerKind::kSgd, isa};
      OwnedArena arena(plan(s, o).total());
      Model m = bind_or_fail(s, o, arena);
      check_gradients(m, 5, 6, seed, false);      // partial batch (5 of 8)
      check_gradients(m, 8, 9, seed + 1, false);  // full batch, strided input
    }
    seed += 2;
  }
}

TEST_CASE("model: 3-layer network gradients for every loss", "[model][gradcheck]") {
  struct Cfg {
    Loss loss;
    std::uint32_t out;
    bool labels;
  };
  const Cfg cfgs[] = {{Loss::kSoftmaxCrossEntropy, 4, true},
                      {Loss::kSoftmaxCrossEntropy, 3, false},
                      {Loss::kMse, 3, false},
                      {Loss::kSigmoidBce, 1, false},
                      {Loss::kSigmoidBce, 2, false}};
  std::uint64_t seed = 200;
  for (const Cfg& c : cfgs) {
    const ModelSpec s = ModelSpec(5)
                            .dense(7, ActivationSpec::tanh(), Init::xavier_normal())
                            .dense(6, ActivationSpec::leaky_relu(0.2f), Init::he_normal())
                            .dense(c.out, ActivationSpec::identity(), Init::glorot_uniform())
                            .with_loss(c.loss);
    for (Isa isa : {Isa::kRef, Isa::kAuto}) {
      INFO("isa " << isa_name(isa));
      const ModelOptions o{Mode::kTraining, 6, OptimizerKind::kAdam, isa};
      OwnedArena arena(plan(s, o).total());
      Model m = bind_or_fail(s, o, arena);
      check_gradients(m, 6, 5, seed, c.labels);
      check_gradients(m, 1, 5, seed + 1, c.labels);  // batch of one
    }
    seed += 2;
  }
  // Sigmoid and ReLU hidden layers too, so every activation runs through both tables.
  const ModelSpec s2 = ModelSpec(4)
                           .dense(9, ActivationSpec::sigmoid(), Init::xavier_uniform())
                           .dense(8, ActivationSpec::relu(), Init::he_uniform())
                           .dense(3, ActivationSpec::tanh(), Init::glorot_normal())
                           .with_loss(Loss::kMse);
  for (Isa isa : {Isa::kRef, Isa::kAuto}) {
    INFO("isa " << isa_name(isa));
    const ModelOptions o2{Mode::kTraining, 7, OptimizerKind::kMomentum, isa};
    OwnedArena arena2(plan(s2, o2).total());
    Model m2 = bind_or_fail(s2, o2, arena2);
    check_gradients(m2, 7, 4, 300, false);
  }
}

TEST_CASE("model: layout is one contiguous, aligned, zero-padded block", "[model]") {
  const ModelSpec s = ModelSpec(3).dense(5, ActivationSpec::relu()).dense(2, ActivationSpec::identity());
  const ModelOptions o{Mode::kTraining, 4, OptimizerKind::kAdam, Isa::kRef};
  OwnedArena arena(plan(s, o).total());
  // Garbage in the arena before bind: bind + init must zero the padding ("padding is always
  // zero"), gradients and optimizer state, draw the weights and zero the biases.
  std::memset(arena.storage.data(), 0x7f, arena.storage.size());
  Model m = bind_or_fail(s, o, arena);
  for (VectorView v : {m.gradients(), m.optimizer_state(0), m.optimizer_state(1)})
    for (std::size_t i = 0; i < v.size; ++i) v[i] = 42.f;
  for (std::size_t l = 0; l < 2; ++l) {
    VectorView b = m.bias(l);
    for (std::size_t i = 0; i < b.size; ++i) b[i] = 42.f;
  }
  Rng rng(9);
  REQUIRE(m.init_parameters(rng).is_ok());
  VectorView p = m.parameters();
  REQUIRE(p.size == 64);
  CHECK(reinterpret_cast<std::uintptr_t>(p.data) % 64 == 0);
  // W0 at 0, b0 at 16, W1 at 32, b1 at 48 (floats), each 64-byte aligned.
  CHECK(m.weights(0).data == p.data + 0);
  CHECK(m.bias(0).data == p.data + 16);
  CHECK(m.weights(1).data == p.data + 32);
  CHECK(m.bias(1).data == p.data + 48);
  CHECK(m.weights(0).rows == 5);
  CHECK(m.weights(0).cols == 3);
  CHECK(m.weights(1).rows == 2);
  CHECK(m.weights(1).cols == 5);
  CHECK(m.weight_gradient(1).data == m.gradients().data + 32);
  CHECK(m.bias_gradient(1).data == m.gradients().data + 48);
  std::vector<bool> used(64, false);
  for (std::size_t i = 0; i < 15; ++i) used[i] = true;
  for (std::size_t i = 16; i < 21; ++i) used[i] = true;
  for (std::size_t i = 32; i < 42; ++i) used[i] = true;
  for (std::size_t i = 48; i < 50; ++i) used[i] = true;
  bool some_weight_nonzero = false;
  for (std::size_t i = 0; i < 64; ++i) {
    INFO("float " << i);
    const bool is_bias = (i >= 16 && i < 21) || (i >= 48 && i < 50);
    if (!used[i] || is_bias) CHECK(p[i] == 0.f);
    if (used[i] && !is_bias) some_weight_nonzero |= p[i] != 0.f;
    CHECK(m.gradients()[i] == 0.f);
    CHECK(m.optimizer_state(0)[i] == 0.f);
    CHECK(m.optimizer_state(1)[i] == 0.f);
  }
  CHECK(some_weight_nonzero);
  CHECK(m.optimizer_state(2).size == 0);
  CHECK(m.num_layers() == 2);
  CHECK(m.isa() == Isa::kRef);
  CHECK(m.mode() == Mode::kTraining);

  // Same seed, same parameters (bit for bit); the draw follows the layers' Init and fan_in.
  OwnedArena arena2(plan(s, o).total());
  Model m2 = bind_or_fail(s, o, arena2);
  Rng rng2(9);
  REQUIRE(m2.init_parameters(rng2).is_ok());
  CHECK(fennec_test::bytes_of(m2.parameters()) == fennec_test::bytes_of(m.parameters()));
  Rng rng3(9);
  std::vector<float> w0(15);
  REQUIRE(initialize(Init::he_normal(), MatrixView(w0.data(), 5, 3), rng3).is_ok());
  CHECK(std::memcmp(w0.data(), m.weights(0).data, sizeof(float) * 15) == 0);
}

TEST_CASE("model: inference forward matches training forward, and batch 1 matches batch n", "[model]") {
  const ModelSpec s = ModelSpec(20)
                          .dense(33, ActivationSpec::relu())
                          .dense(17, ActivationSpec::sigmoid())
                          .dense(5, ActivationSpec::identity());
  const ModelOptions ot{Mode::kTraining, 9, OptimizerKind::kSgd, Isa::kRef};
  const ModelOptions oi{Mode::kInference, 9, OptimizerKind::kSgd, Isa::kRef};
  const ModelOptions o1{Mode::kInference, 1, OptimizerKind::kSgd, Isa::kAuto};
  OwnedArena at(plan(s, ot).total()), ai(plan(s, oi).total()), a1(plan(s, o1).total());
  Model mt = bind_or_fail(s, ot, at), mi = bind_or_fail(s, oi, ai), m1 = bind_or_fail(s, o1, a1);
  Rng rng(77);
  REQUIRE(mt.init_parameters(rng).is_ok());
  std::memcpy(mi.parameters().data, mt.parameters().data, mt.parameters().size * sizeof(float));
  std::memcpy(m1.parameters().data, mt.parameters().data, mt.parameters().size * sizeof(float));
  CHECK(mi.gradients().size == 0);
  CHECK(mi.optimizer_state(0).size == 0);
  CHECK(mi.output_gradient(1).data == nullptr);
  std::vector<float> x(9 * 20);
  for (float& v : x) v = static_cast<float>(rng.normal());
  Result<ConstMatrixView> yt = mt.forward(ConstMatrixView(x.data(), 9, 20));
  REQUIRE(yt.is_ok());
  std::vector<float> ytc(yt.value().data, yt.value().data + 9 * 5);  // copy (strides are dense)
  Result<ConstMatrixView> yi = mi.forward(ConstMatrixView(x.data(), 9, 20));
  REQUIRE(yi.is_ok());
  // Same ISA, same kernels, same order: identical bits.
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 5; ++j) CHECK(yi.value()(i, j) == yt.value()(i, j));
  // Batch 1 (matrix-vector path, possibly another ISA): float rounding only, atol 1e-5 rtol 1e-5.
  for (std::size_t i = 0; i < 9; ++i) {
    Result<ConstMatrixView> y1 = m1.forward(ConstMatrixView(x.data() + i * 20, 1, 20));
    REQUIRE(y1.is_ok());
    for (std::size_t j = 0; j < 5; ++j) CHECK(close(y1.value()(0, j), yt.value()(i, j), 1e-5, 1e-5));
  }
}

TEST_CASE("model: bind rejects invalid specs and options and leaves the arena untouched", "[model][bad-input]") {
  OwnedArena arena(1 << 20);
  const ModelOptions o{Mode::kTraining, 4, OptimizerKind::kSgd, Isa::kAuto};
  auto expect = [&](const ModelSpec& s, const ModelOptions& opt, StatusCode code, const char* what) {
    INFO(what);
    Result<Model> r = Model::bind(s, opt, arena.arena);
    CHECK(r.status().code() == code);
    CHECK(std::strlen(r.status().message()) > 0);
    CHECK_FALSE(static_cast<bool>(r));  // no model handed out
    CHECK(arena.arena.used() == 0);
  };
  const ModelSpec good = ModelSpec(3).dense(4, ActivationSpec::relu()).dense(2, ActivationSpec::identity());
  REQUIRE(validate(good).is_ok());
  expect(ModelSpec(3), o, StatusCode::kInvalidArgument, "no layers");
  expect(ModelSpec(0).dense(2, ActivationSpec::identity()), o, StatusCode::kInvalidArgument, "input 0");
  expect(ModelSpec(3).dense(0, ActivationSpec::relu()).dense(2, ActivationSpec::identity()), o,
         StatusCode::kInvalidArgument, "units 0");
  expect(ModelSpec(3).dense(static_cast<std::uint32_t>(kMaxWidth + 1), ActivationSpec::relu()).dense(2, ActivationSpec::identity()),
         o, StatusCode::kInvalidArgument, "units > kMaxWidth");
  ModelSpec many(2);
  for (std::size_t i = 0; i <= kMaxLayers; ++i) many.dense(2, ActivationSpec::relu());
  CHECK(many.overflowed);
  expect(many, o, StatusCode::kInvalidArgument, "more than kMaxLayers layers");
  expect(ModelSpec(3).dense(2, ActivationSpec::leaky_relu(1.5f)), o, StatusCode::kInvalidArgument, "alpha >= 1");
  expect(ModelSpec(3).dense(2, ActivationSpec::identity(), Init::uniform(1.f, -1.f)), o,
         StatusCode::kInvalidArgument, "bad init");
  expect(ModelSpec(3).dense(1, ActivationSpec::identity()).with_loss(Loss::kSoftmaxCrossEntropy), o,
         StatusCode::kInvalidArgument, "softmax CE with one output");
  ModelOptions zero_batch = o;
  zero_batch.max_batch = 0;
  expect(good, zero_batch, StatusCode::kInvalidArgument, "max_batch 0");
  ModelOptions bad_mode = o;
  bad_mode.mode = static_cast<Mode>(7);
  expect(good, bad_mode, StatusCode::kInvalidArgument, "mode out of range");
  ModelOptions bad_opt = o;
  bad_opt.optimizer = static_cast<OptimizerKind>(kOptimizerCount);
  expect(good, bad_opt, StatusCode::kInvalidArgument, "optimizer out of range");
  // An ISA this build or CPU cannot run.
  for (Isa isa : {Isa::kSse2, Isa::kAvx2Fma, Isa::kAvx512, Isa::kNeon, Isa::kNeon64}) {
    if (isa_supported(isa)) continue;
    ModelOptions oi = o;
    oi.isa = isa;
    expect(good, oi, StatusCode::kUnsupported, isa_name(isa));
  }
}

TEST_CASE("model: forward/backward reject bad shapes and wrong states", "[model][bad-input]") {
  const ModelSpec s = ModelSpec(3).dense(4, ActivationSpec::tanh()).dense(2, ActivationSpec::identity());
  const ModelOptions o{Mode::kTraining, 4, OptimizerKind::kSgd, Isa::kAuto};
  OwnedArena arena(plan(s, o).total());
  Model m = bind_or_fail(s, o, arena);
  Rng rng(1);
  REQUIRE(m.init_parameters(rng).is_ok());
  std::vector<float> x(5 * 4, 0.25f);
  CHECK(m.forward(ConstMatrixView(x.data(), 2, 4)).status().code() == StatusCode::kShapeMismatch);
  CHECK(m.forward(ConstMatrixView(x.data(), 5, 3)).status().code() == StatusCode::kShapeMismatch);
  CHECK(m.forward(ConstMatrixView(x.data(), 0, 3)).status().code() == StatusCode::kShapeMismatch);
  CHECK(m.forward(ConstMatrixView(x.data(), 2, 3, 2)).status().code() == StatusCode::kShapeMismatch);
  CHECK(m.forward(ConstMatrixView(nullptr, 2, 3)).status().code() == StatusCode::kInvalidArgument);
  x[4] = std::nanf("");
  CHECK(m.forward(ConstMatrixView(x.data(), 2, 3)).status().code() == StatusCode::kNonFinite);
  x[4] = 0.25f;

  ConstMatrixView x2(x.data(), 2, 3);
  REQUIRE(m.forward(x2).is_ok());
  std::vector<float> g(2 * 2, 0.1f), gbad(3 * 2, 0.1f);
  const auto params = fennec_test::bytes_of(m.parameters());
  CHECK(m.backward(x2, ConstMatrixView(gbad.data(), 3, 2)).code() == StatusCode::kShapeMismatch);
  CHECK(m.backward(x2, ConstMatrixView(gbad.data(), 2, 3)).code() == StatusCode::kShapeMismatch);
  CHECK(m.backward(ConstMatrixView(x.data(), 3, 3), ConstMatrixView(gbad.data(), 3, 2)).code() ==
        StatusCode::kFailedPrecondition);  // rows differ from the last forward
  std::vector<float> dx(2 * 5);
  CHECK(m.backward(x2, ConstMatrixView(g.data(), 2, 2), MatrixView(dx.data(), 2, 5)).code() ==
        StatusCode::kShapeMismatch);
  CHECK(m.backward(x2, ConstMatrixView(g.data(), 2, 2)).is_ok());
  CHECK(fennec_test::bytes_of(m.parameters()) == params);  // backward never touches weights

  // Inference models have no backward; unbound models do nothing.
  const ModelOptions oi{Mode::kInference, 4, OptimizerKind::kSgd, Isa::kAuto};
  OwnedArena ai(plan(s, oi).total());
  Model mi = bind_or_fail(s, oi, ai);
  REQUIRE(mi.forward(x2).is_ok());
  CHECK(mi.backward(x2, ConstMatrixView(g.data(), 2, 2)).code() == StatusCode::kFailedPrecondition);
  Model unbound;
  CHECK_FALSE(unbound.is_bound());
  CHECK(unbound.forward(x2).status().code() == StatusCode::kFailedPrecondition);
  CHECK(unbound.init_parameters(rng).code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("model: a backward observer sees dL/d(layer output) for every layer, last first", "[model]") {
  // 3-4-5-2 tanh/relu/identity net. The observer's view of layer l must equal what chaining
  // gives: the last layer sees dlogits itself; layer l < L-1 sees dZ_{l+1} * W_{l+1}, where
  // dZ_{l+1} = dY_{l+1} * act'(Y_{l+1}). Checked in double against the model's own weights.
  const ModelSpec spec = ModelSpec(3)
                             .dense(4, ActivationSpec::tanh(), Init::normal(0, 0.7f))
                             .dense(5, ActivationSpec::relu(), Init::normal(0, 0.7f))
                             .dense(2, ActivationSpec::identity(), Init::normal(0, 0.7f))
                             .with_loss(Loss::kMse);
  const ModelOptions opts{Mode::kTraining, 3, OptimizerKind::kSgd, Isa::kRef};
  OwnedArena a(plan(spec, opts).total());
  Result<Model> m = Model::bind(spec, opts, a.arena);
  REQUIRE(m.is_ok());
  Rng rng(11);
  REQUIRE(m->init_parameters(rng).is_ok());
  const float x[] = {0.5f, -1.f, 0.25f, 1.f, 0.3f, -0.7f, -0.2f, 0.9f, 0.4f};
  const float dl[] = {0.3f, -0.6f, 1.f, 0.2f, -0.4f, 0.8f};
  const ConstMatrixView xv(x, 3, 3);
  REQUIRE(m->forward(xv).is_ok());

  struct Seen {
    std::vector<std::size_t> order;
    std::vector<std::vector<float>> grads = std::vector<std::vector<float>>(3);
  } seen;
  BackwardObserver obs;
  obs.context = &seen;
  obs.on_output_gradient = [](void* ctx, std::size_t layer, ConstMatrixView g) {
    Seen& s = *static_cast<Seen*>(ctx);
    s.order.push_back(layer);
    for (std::size_t i = 0; i < g.rows; ++i)
      for (std::size_t j = 0; j < g.cols; ++j) s.grads[layer].push_back(g(i, j));
  };
  REQUIRE(m->backward(xv, ConstMatrixView(dl, 3, 2), {}, &obs).is_ok());
  CHECK(seen.order == std::vector<std::size_t>{2, 1, 0});
  REQUIRE(seen.grads[2].size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(seen.grads[2][i] == dl[i]);
  for (std::size_t l = 2; l-- > 0;) {
    const std::size_t units = spec.layers[l].units, next = spec.layers[l + 1].units;
    const ConstMatrixView y_next = m->layer_output(l + 1);
    const MatrixView w_next = m->weights(l + 1);
    REQUIRE(seen.grads[l].size() == 3 * units);
    for (std::size_t b = 0; b < 3; ++b) {
      for (std::size_t j = 0; j < units; ++j) {
        double expect = 0;
        for (std::size_t k = 0; k < next; ++k) {
          const double dz = seen.grads[l + 1][b * next + k] *
                            activation_derivative_from_output(spec.layers[l + 1].activation, y_next(b, k));
          expect += dz * w_next(k, j);
        }
        // atol/rtol: float products of a few terms of size ~1.
        CHECK(close(seen.grads[l][b * units + j], expect, 1e-6, 1e-5));
      }
    }
  }
}

// A copy would be a second owner of the same arena blocks, so neither model type has one.
static_assert(!std::is_copy_constructible<Model>::value && !std::is_copy_assignable<Model>::value,
              "Model is move-only");
static_assert(std::is_nothrow_move_constructible<Model>::value && std::is_nothrow_move_assignable<Model>::value,
              "Model moves");
static_assert(!std::is_copy_constructible<QuantizedModel>::value &&
                  !std::is_copy_assignable<QuantizedModel>::value,
              "QuantizedModel is move-only");

TEST_CASE("model: a move hands the arena blocks over and leaves the source unbound", "[model]") {
  const ModelSpec s = ModelSpec(5).dense(4, ActivationSpec::tanh(), Init::xavier_normal()).dense(3, ActivationSpec::identity(), Init::xavier_normal()).with_loss(Loss::kMse);
  const ModelOptions o{Mode::kTraining, 4, OptimizerKind::kSgd, Isa::kRef};
  OwnedArena arena(plan(s, o).total());
  Model a = bind_or_fail(s, o, arena);
  Rng rng(7);
  REQUIRE(a.init_parameters(rng).is_ok());
  const float* params = a.parameters().data;
  const std::vector<float> x = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f};
  const ConstMatrixView xv(x.data(), 1, 5);
  Result<ConstMatrixView> ya = a.forward(xv);
  REQUIRE(ya.is_ok());
  const std::vector<float> expected(ya.value().data, ya.value().data + 3);

  Model b = std::move(a);
  CHECK(b.is_bound());
  CHECK(b.parameters().data == params);  // the same blocks, not new ones
  CHECK_FALSE(a.is_bound());               // NOLINT: reading the moved-from object is the point
  CHECK(a.forward(xv).status().code() == StatusCode::kFailedPrecondition);
  CHECK(a.init_parameters(rng).code() == StatusCode::kFailedPrecondition);
  Result<ConstMatrixView> yb = b.forward(xv);
  REQUIRE(yb.is_ok());
  CHECK(std::vector<float>(yb.value().data, yb.value().data + 3) == expected);

  Model c;
  c = std::move(b);  // assignment too
  CHECK(c.is_bound());
  CHECK_FALSE(b.is_bound());  // NOLINT
  Model& same = c;
  c = std::move(same);  // a self-move keeps the model bound
  CHECK(c.is_bound());
}
