// SPDX-License-Identifier: Apache-2.0
// Batch norm and dropout layers: spec validation, the exact plan, forward against a double
// reference (batch statistics in the training phase, running statistics in the eval phase),
// the running-statistics update, gradients of a network mixing dense, batch norm, dropout (fixed
// masks) and every activation against finite differences in double, dropout masks, the phase
// switch, the trainer's deferred update and weight decay kept off gamma/beta.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;
using fennec_test::OwnedArena;
using fennec_test::ref_act;
using fennec_test::ref_loss;

namespace {

// The network of layers.hpp's formulas in double: y = dropout(act(BN(x W^T + b))).
struct RefLayers {
  ModelSpec spec;
  std::vector<std::vector<double>> w, b, gamma, beta, rmean, rvar;
  std::vector<std::vector<unsigned char>> mask;  // rows x units per dropout layer (training)
  bool train = true;

  static RefLayers from(const Model& m, std::size_t rows) {
    RefLayers r;
    r.spec = m.spec();
    r.train = m.phase() == Model::Phase::kTrain;
    for (std::size_t l = 0; l < m.num_layers(); ++l) {
      ConstMatrixView wv = m.const_weights(l);
      ConstVectorView bv = m.const_bias(l);
      std::vector<double> wi(wv.rows * wv.cols);
      for (std::size_t o = 0; o < wv.rows; ++o)
        for (std::size_t k = 0; k < wv.cols; ++k) wi[o * wv.cols + k] = wv(o, k);
      r.w.push_back(wi);
      r.b.emplace_back(bv.data, bv.data + bv.size);
      auto vec = [](VectorView v) { return std::vector<double>(v.data, v.data + v.size); };
      r.gamma.push_back(vec(m.bn_gamma(l)));
      r.beta.push_back(vec(m.bn_beta(l)));
      r.rmean.push_back(vec(m.bn_running_mean(l)));
      r.rvar.push_back(vec(m.bn_running_var(l)));
      DropoutMaskView mv = m.dropout_mask(l);
      r.mask.emplace_back(mv.data, mv.data + (mv.data ? rows * mv.cols : 0));
    }
    return r;
  }

  // Output of every layer, and (when asked) each batch-norm layer's dense output z.
  std::vector<std::vector<double>> forward(const std::vector<double>& x, std::size_t rows,
                                           std::vector<std::vector<double>>* dense_out = nullptr) const {
    std::vector<std::vector<double>> outs;
    const std::vector<double>* in = &x;
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      const LayerSpec& L = spec.layers[l];
      const std::size_t units = L.units, fan_in = spec.fan_in(l);
      std::vector<double> z(rows * units);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t o = 0; o < units; ++o) {
          double s = b[l][o];
          for (std::size_t k = 0; k < fan_in; ++k) s += (*in)[i * fan_in + k] * w[l][o * fan_in + k];
          z[i * units + o] = s;
        }
      if (dense_out) dense_out->push_back(z);
      if (L.batchnorm.enabled) {
        for (std::size_t o = 0; o < units; ++o) {
          double mean = rmean[l][o], var = rvar[l][o];
          if (train) {
            mean = 0;
            for (std::size_t i = 0; i < rows; ++i) mean += z[i * units + o];
            mean /= static_cast<double>(rows);
            var = 0;
            for (std::size_t i = 0; i < rows; ++i) var += (z[i * units + o] - mean) * (z[i * units + o] - mean);
            var /= static_cast<double>(rows);
          }
          const double inv = 1 / std::sqrt(var + static_cast<double>(L.batchnorm.eps));
          for (std::size_t i = 0; i < rows; ++i)
            z[i * units + o] = gamma[l][o] * (z[i * units + o] - mean) * inv + beta[l][o];
        }
      }
      for (std::size_t i = 0; i < rows * units; ++i) {
        z[i] = ref_act(L.activation, z[i]);
        if (train && L.dropout > 0.f) z[i] = mask[l][i] ? z[i] / (1.0 - static_cast<double>(L.dropout)) : 0.0;
      }
      outs.push_back(std::move(z));
      in = &outs.back();
    }
    return outs;
  }
  double loss(const std::vector<double>& x, const std::vector<double>& t, std::size_t rows) const {
    return ref_loss(spec.loss, forward(x, rows).back(), t, rows, spec.output());
  }
};

Model bind_or_fail(const ModelSpec& s, const ModelOptions& o, OwnedArena& a) {
  Result<Model> r = Model::bind(s, o, a.arena);
  INFO(fennec_test::str(r.status()));
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// Non-trivial gamma, beta and biases so every parameter's effect shows.
void perturb_parameters(Model& m, Rng& rng) {
  REQUIRE(m.init_parameters(rng).is_ok());
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    VectorView b = m.bias(l), g = m.bn_gamma(l), be = m.bn_beta(l);
    for (std::size_t o = 0; o < b.size; ++o) b[o] = static_cast<float>(rng.uniform(-0.5, 0.5));
    for (std::size_t o = 0; o < g.size; ++o) g[o] = static_cast<float>(rng.uniform(0.5, 1.5));
    for (std::size_t o = 0; o < be.size; ++o) be[o] = static_cast<float>(rng.uniform(-0.5, 0.5));
  }
}

// A mixed network: dense, batch norm and dropout in every combination, every activation.
ModelSpec mixed_spec() {
  return ModelSpec(5)
      .dense(7, ActivationSpec::sigmoid(), Init::xavier_normal())
      .batchnorm()
      .dropout(0.3f)
      .dense(6, ActivationSpec::tanh(), Init::xavier_normal())
      .batchnorm(1e-3f, 0.2f)
      .dense(5, ActivationSpec::relu())
      .dropout(0.25f)
      .dense(4, ActivationSpec::leaky_relu(0.1f))
      .batchnorm()
      .dropout(0.5f)
      .dense(3, ActivationSpec::identity(), Init::xavier_normal())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

std::vector<float> normal_matrix(Rng& rng, std::size_t n) {
  std::vector<float> v(n);
  for (float& f : v) f = static_cast<float>(rng.normal());
  return v;
}

}  // namespace

TEST_CASE("layers: spec builder and validation of batch norm and dropout", "[layers][spec]") {
  const ModelSpec ok = mixed_spec();
  CHECK(validate(ok).is_ok());
  CHECK(ok.layers[0].batchnorm.enabled);
  CHECK(ok.layers[0].dropout == 0.3f);
  CHECK(ok.layers[1].batchnorm.eps == 1e-3f);
  CHECK(ok.layers[1].batchnorm.momentum == 0.2f);
  CHECK(!ok.layers[2].batchnorm.enabled);
  CHECK(ok.has_batchnorm());
  CHECK(ok.has_dropout());
  // gamma and beta are parameters: 2 per unit of each batch-norm layer.
  CHECK(ok.num_parameters() == (5 * 7 + 7 + 14) + (7 * 6 + 6 + 12) + (6 * 5 + 5) + (5 * 4 + 4 + 8) + (4 * 3 + 3));
  CHECK(validate(ModelSpec(4).batchnorm().dense(2, ActivationSpec::identity())).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ModelSpec(4).dropout(0.1f).dense(2, ActivationSpec::identity())).code() == StatusCode::kInvalidArgument);
  const ActivationSpec id = ActivationSpec::identity();
  for (float p : {-0.1f, 1.f, NAN})
    CHECK(validate(ModelSpec(4).dense(3, id).dropout(p).dense(2, id)).code() == StatusCode::kInvalidArgument);
  for (float eps : {0.f, -1e-5f, 2.f, NAN})
    CHECK(validate(ModelSpec(4).dense(3, id).batchnorm(eps).dense(2, id)).code() == StatusCode::kInvalidArgument);
  for (float mom : {-0.1f, 1.5f, NAN})
    CHECK(validate(ModelSpec(4).dense(3, id).batchnorm(1e-5f, mom).dense(2, id)).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ModelSpec(4).dense(3, id).batchnorm(1e-5f, 1.f).dropout(0.f).dense(2, id)).is_ok());
}

TEST_CASE("layers: plan() is exact for batch norm and dropout, one byte short fails", "[layers][plan]") {
  const ModelSpec s = mixed_spec();
  const ModelOptions modes[] = {ModelOptions::training(9, OptimizerConfig::adam(1e-3)),
                                ModelOptions::training(9, OptimizerConfig::sgd(0.1)), ModelOptions::inference(9)};
  for (const ModelOptions& o : modes) {
    INFO("mode " << static_cast<int>(o.mode) << " optimizer " << optimizer_name(o.optimizer));
    const MemoryPlan p = plan(s, o);
    const bool training = o.mode == Mode::kTraining;
    // The same model without the new layers, and what they add, counted independently.
    ModelSpec plain = s;
    for (std::size_t l = 0; l < plain.num_layers; ++l) {
      plain.layers[l].batchnorm = BatchNormSpec{};
      plain.layers[l].dropout = 0.f;
    }
    const MemoryPlan q = plan(plain, o);
    // gamma + beta (16 floats, padded) per batch-norm layer of widths 7, 6, 4: 3 x 32 floats.
    CHECK(p.parameters == q.parameters + 3 * 32 * sizeof(float));
    CHECK(p.gradients == (training ? q.gradients + 3 * 32 * sizeof(float) : 0));
    CHECK(p.layer_state == 3 * 2 * 16 * sizeof(float));
    // Per batch-norm layer: statistics (3 or 1 padded vectors) and, training, x-hat (9 x units);
    // per dropout layer (training): the pre-dropout output (9 x units floats) and the mask.
    std::size_t extra = 0;
    for (std::size_t units : {7, 6, 4}) {
      extra += arena_round_up((training ? 3 : 1) * 16 * sizeof(float));
      if (training) extra += arena_round_up(9 * units * sizeof(float));
    }
    if (training)
      for (std::size_t units : {7, 5, 4}) extra += arena_round_up(9 * units * sizeof(float)) + arena_round_up(9 * units);
    CHECK(p.activations == q.activations + extra);
    CHECK(p.total() == p.parameters + p.gradients + p.optimizer_state + p.activations + p.scratch + p.layer_state);

    OwnedArena exact(p.total());
    Result<Model> m = Model::bind(s, o, exact.arena);
    REQUIRE(m.is_ok());
    CHECK(exact.arena.used() == p.total());
    OwnedArena shy(p.total() - 1);
    Result<Model> m2 = Model::bind(s, o, shy.arena);
    CHECK(m2.status().code() == StatusCode::kOutOfMemory);
    CHECK(shy.arena.used() == 0);
  }
}

TEST_CASE("layers: frozen layers, external parameters and the fused update are refused", "[layers][bind]") {
  const ModelSpec s = mixed_spec();
  OwnedArena a(1 << 20);
  CHECK(Model::bind(s, ModelOptions::training(4, OptimizerConfig::sgd(0.1)).with_frozen_layers(1), a.arena)
            .status()
            .code() == StatusCode::kUnsupported);
  CHECK(Model::bind(s, ModelOptions::fused_training(4, OptimizerConfig::sgd(0.1)), a.arena).status().code() ==
        StatusCode::kUnsupported);
  std::vector<float> ext(s.num_parameters());
  CHECK(Model::bind(s, ModelOptions::inference(4).with_external_parameters(), a.arena,
                    ExternalParameters{ext.data(), ext.size() * sizeof(float)})
            .status()
            .code() != StatusCode::kOk);
  CHECK(a.arena.used() == 0);
}

TEST_CASE("layers: forward matches the double reference in both phases, running statistics as PyTorch",
          "[layers][forward]") {
  const ModelSpec s = mixed_spec();
  const std::size_t rows = 9;
  for (Isa isa : {Isa::kRef, Isa::kAuto}) {
    INFO("isa " << isa_name(isa));
    const ModelOptions o = ModelOptions::training(rows, OptimizerConfig::sgd(0.1), isa);
    OwnedArena arena(plan(s, o).total());
    Model m = bind_or_fail(s, o, arena);
    Rng rng(7);
    perturb_parameters(m, rng);
    CHECK(m.phase() == Model::Phase::kTrain);
    const std::vector<float> x = normal_matrix(rng, rows * s.input);
    const std::vector<double> xd(x.begin(), x.end());
    const RefLayers before = RefLayers::from(m, rows);  // running statistics before the forward
    Result<ConstMatrixView> y = m.forward(ConstMatrixView(x.data(), rows, s.input));
    REQUIRE(y.is_ok());
    CHECK(m.batches_tracked() == 1);
    const RefLayers ref = RefLayers::from(m, rows);  // masks drawn by this forward
    std::vector<std::vector<double>> z;
    RefLayers with_masks = before;
    with_masks.mask = ref.mask;
    const auto outs = with_masks.forward(xd, rows, &z);
    // Float sums of <= 7 terms, then a normalisation by sigma >= ~0.1: atol 1e-5, rtol 1e-4.
    for (std::size_t l = 0; l < s.num_layers; ++l)
      for (std::size_t i = 0; i < rows * s.layers[l].units; ++i) {
        INFO("layer " << l << " element " << i);
        CHECK(close(m.layer_output(l)(i / s.layers[l].units, i % s.layers[l].units), outs[l][i], 1e-5, 1e-4));
      }
    // running = (1 - momentum) running + momentum batch, the batch variance unbiased (rows - 1).
    for (std::size_t l = 0; l < s.num_layers; ++l) {
      if (!s.layers[l].batchnorm.enabled) continue;
      const std::size_t units = s.layers[l].units;
      const double mom = s.layers[l].batchnorm.momentum;
      for (std::size_t o = 0; o < units; ++o) {
        double mean = 0, var = 0;
        for (std::size_t i = 0; i < rows; ++i) mean += z[l][i * units + o];
        mean /= rows;
        for (std::size_t i = 0; i < rows; ++i) var += (z[l][i * units + o] - mean) * (z[l][i * units + o] - mean);
        var /= rows - 1;
        INFO("layer " << l << " unit " << o);
        CHECK(close(m.bn_running_mean(l)[o], (1 - mom) * before.rmean[l][o] + mom * mean, 1e-6, 1e-5));
        CHECK(close(m.bn_running_var(l)[o], (1 - mom) * before.rvar[l][o] + mom * var, 1e-6, 1e-5));
      }
    }
    // Eval phase: the running statistics, no dropout, nothing updated; a single row works.
    REQUIRE(m.set_phase(Model::Phase::kEval).is_ok());
    const RefLayers eval = RefLayers::from(m, rows);
    const auto running_before = fennec_test::bytes_of(m.layer_state());
    Result<ConstMatrixView> ye = m.forward(ConstMatrixView(x.data(), rows, s.input));
    REQUIRE(ye.is_ok());
    CHECK(fennec_test::bytes_of(m.layer_state()) == running_before);
    CHECK(m.batches_tracked() == 1);
    const auto eouts = eval.forward(xd, rows);
    for (std::size_t i = 0; i < rows * s.output(); ++i)
      CHECK(close(ye.value()(i / s.output(), i % s.output()), eouts.back()[i], 1e-5, 1e-4));
    REQUIRE(m.forward(ConstMatrixView(x.data(), 1, s.input)).is_ok());
    // And backward refuses the eval phase's forward.
    CHECK(m.backward(ConstMatrixView(x.data(), 1, s.input), m.output_gradient(1)).code() ==
          StatusCode::kFailedPrecondition);
    // Training phase with one row: no variance to normalise by.
    REQUIRE(m.set_phase(Model::Phase::kTrain).is_ok());
    CHECK(m.forward(ConstMatrixView(x.data(), 1, s.input)).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("layers: gradients of dense + batch norm + dropout (fixed masks) + every activation match "
          "finite differences in double",
          "[layers][gradcheck]") {
  const ModelSpec s = mixed_spec().with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t rows = 6;
  for (Isa isa : {Isa::kRef, Isa::kAuto}) {
    INFO("isa " << isa_name(isa));
    const ModelOptions o = ModelOptions::training(8, OptimizerConfig::sgd(0.1), isa);
    OwnedArena arena(plan(s, o).total());
    Model m = bind_or_fail(s, o, arena);
    Rng rng(11);
    perturb_parameters(m, rng);
    m.set_fixed_dropout_masks(true);
    for (std::size_t l = 0; l < s.num_layers; ++l) {
      DropoutMaskView mv = m.dropout_mask(l);
      for (std::size_t i = 0; i < mv.rows * mv.cols; ++i) mv.data[i] = rng.below(3) != 0;
    }
    const std::vector<float> x = normal_matrix(rng, rows * s.input);
    const std::vector<double> xd(x.begin(), x.end());
    std::vector<std::int32_t> labels(rows);
    std::vector<double> td(rows * s.output(), 0.0);
    for (std::size_t i = 0; i < rows; ++i) {
      labels[i] = static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(s.output())));
      td[i * s.output() + static_cast<std::size_t>(labels[i])] = 1.0;
    }
    const ConstMatrixView xv(x.data(), rows, s.input);
    Result<ConstMatrixView> y = m.forward(xv);
    REQUIRE(y.is_ok());
    MatrixView dlogits = m.output_gradient(rows);
    const double loss = compute_loss(s.loss, y.value(), Targets::classes(labels.data()), dlogits);
    RefLayers ref = RefLayers::from(m, rows);
    CHECK(close(loss, ref.loss(xd, td, rows), 1e-5, 1e-4));
    std::vector<float> dx(rows * s.input);
    REQUIRE(m.backward(xv, dlogits, MatrixView(dx.data(), rows, s.input)).is_ok());

    // Central differences, h = 1e-6, of the double reference (truncation ~1e-12). Tolerance
    // atol 2e-5, rtol 1e-3: the library is float, and batch norm divides by sigma.
    const double h = 1e-6;
    auto fd = [&](double& v) {
      const double v0 = v;
      v = v0 + h;
      const double lp = ref.loss(xd, td, rows);
      v = v0 - h;
      const double lm = ref.loss(xd, td, rows);
      v = v0;
      return (lp - lm) / (2 * h);
    };
    for (std::size_t l = 0; l < s.num_layers; ++l) {
      MatrixView gw = m.weight_gradient(l);
      VectorView gb = m.bias_gradient(l), gg = m.bn_gamma_gradient(l), gbe = m.bn_beta_gradient(l);
      for (std::size_t i = 0; i < ref.w[l].size(); ++i) {
        INFO("dW layer " << l << " index " << i);
        CHECK(close(gw(i / gw.cols, i % gw.cols), fd(ref.w[l][i]), 2e-5, 1e-3));
      }
      for (std::size_t i = 0; i < ref.b[l].size(); ++i) {
        INFO("db layer " << l << " unit " << i);
        CHECK(close(gb[i], fd(ref.b[l][i]), 2e-5, 1e-3));
      }
      REQUIRE(gg.size == ref.gamma[l].size());
      for (std::size_t i = 0; i < gg.size; ++i) {
        INFO("dgamma/dbeta layer " << l << " unit " << i);
        CHECK(close(gg[i], fd(ref.gamma[l][i]), 2e-5, 1e-3));
        CHECK(close(gbe[i], fd(ref.beta[l][i]), 2e-5, 1e-3));
      }
    }
    std::vector<double> xp = xd;
    for (std::size_t i = 0; i < xp.size(); ++i) {
      const double x0 = xp[i];
      xp[i] = x0 + h;
      const double lp = ref.loss(xp, td, rows);
      xp[i] = x0 - h;
      const double lm = ref.loss(xp, td, rows);
      xp[i] = x0;
      INFO("dX index " << i);
      CHECK(close(dx[i], (lp - lm) / (2 * h), 2e-5, 1e-3));
    }
  }
}

TEST_CASE("layers: dropout masks come from the model's generator, keep 1 - p, and eval is identity",
          "[layers][dropout]") {
  const ActivationSpec relu = ActivationSpec::relu();
  const ModelSpec s = ModelSpec(32).dense(512, relu).dropout(0.2f).dense(10, ActivationSpec::identity());
  ModelSpec plain = s;
  plain.layers[0].dropout = 0.f;
  const ModelOptions o = ModelOptions::training(64, OptimizerConfig::sgd(0.1));
  OwnedArena a1(plan(s, o).total()), a2(plan(s, o).total()), a3(plan(plain, ModelOptions::inference(64)).total());
  Model m1 = bind_or_fail(s, o, a1), m2 = bind_or_fail(s, o, a2);
  Model inf = bind_or_fail(plain, ModelOptions::inference(64), a3);
  Rng r1(3), r2(3), r3(3);
  REQUIRE(m1.init_parameters(r1).is_ok());
  REQUIRE(m2.init_parameters(r2).is_ok());
  REQUIRE(inf.init_parameters(r3).is_ok());
  const std::vector<float> x = normal_matrix(r1, 64 * 32);
  const ConstMatrixView xv(x.data(), 64, 32);
  REQUIRE(m1.forward(xv).is_ok());
  REQUIRE(m2.forward(xv).is_ok());
  const DropoutMaskView k1 = m1.dropout_mask(0), k2 = m2.dropout_mask(0);
  REQUIRE(k1.rows == 64);
  REQUIRE(k1.cols == 512);
  CHECK(std::memcmp(k1.data, k2.data, 64 * 512) == 0);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < 64 * 512; ++i) kept += k1.data[i] != 0;
  // 32768 Bernoulli(0.8) draws: sd 0.0022; 5 sd.
  CHECK(std::fabs(static_cast<double>(kept) / 32768.0 - 0.8) < 0.011);
  // Kept outputs are scaled by 1/(1-p), dropped are 0: compare with the eval phase's output.
  const std::vector<float> train0(m1.layer_output(0).data, m1.layer_output(0).data + 64 * 512);
  REQUIRE(m1.set_phase(Model::Phase::kEval).is_ok());
  REQUIRE(m1.forward(xv).is_ok());
  for (std::size_t i = 0; i < 64 * 512; ++i) {
    const float e = m1.layer_output(0).data[i];
    CHECK(train0[i] == (k1.data[i] ? e * (1.f / (1.f - 0.2f)) : 0.f));
  }
  // Eval phase equals a model without dropout, bit for bit.
  Result<ConstMatrixView> ye = m1.forward(xv), yi = inf.forward(xv);
  REQUIRE(ye.is_ok());
  REQUIRE(yi.is_ok());
  CHECK(std::memcmp(ye.value().data, yi.value().data, 64 * 10 * sizeof(float)) == 0);
  // The next training forward draws new masks; reseeding repeats them.
  REQUIRE(m1.set_phase(Model::Phase::kTrain).is_ok());
  m1.dropout_rng().reseed(Model::kDefaultDropoutSeed);
  REQUIRE(m1.forward(xv).is_ok());
  CHECK(std::memcmp(m1.dropout_mask(0).data, k2.data, 64 * 512) == 0);
  REQUIRE(m1.forward(xv).is_ok());
  CHECK(std::memcmp(m1.dropout_mask(0).data, k2.data, 64 * 512) != 0);
  // Inference models have no training phase and no masks.
  CHECK(inf.set_phase(Model::Phase::kTrain).code() == StatusCode::kFailedPrecondition);
  CHECK(inf.phase() == Model::Phase::kEval);
}

TEST_CASE("layers: the trainer runs train/eval phases, commits statistics only on success, and keeps "
          "decay off gamma/beta when asked",
          "[layers][trainer]") {
  const ActivationSpec relu = ActivationSpec::relu();
  for (bool decay : {true, false}) {
    INFO("decay_gamma_beta " << decay);
    const ModelSpec s = ModelSpec(6)
                            .dense(8, relu)
                            .batchnorm(1e-5f, 0.1f, decay)
                            .dropout(0.25f)
                            .dense(3, ActivationSpec::identity())
                            .with_loss(Loss::kSoftmaxCrossEntropy);
    OptimizerConfig sgd = OptimizerConfig::sgd(0.1);
    sgd.weight_decay = 0.5f;
    const ModelOptions o = ModelOptions::training(8, sgd);
    OwnedArena a(plan(s, o).total());
    Model m = bind_or_fail(s, o, a);
    Rng rng(5);
    perturb_parameters(m, rng);
    Result<Trainer> t = Trainer::create(m);
    REQUIRE(t.is_ok());
    const std::vector<float> x = normal_matrix(rng, 8 * 6);
    const ConstMatrixView xv(x.data(), 8, 6);
    std::vector<std::int32_t> labels = {0, 1, 2, 0, 1, 2, 0, 1};
    // A failed step (a label out of range) changes nothing: running statistics, the counter,
    // the dropout generator.
    std::vector<std::int32_t> bad = labels;
    bad[3] = 7;
    const auto state0 = fennec_test::bytes_of(m.layer_state());
    const Rng::State rng0 = m.dropout_rng().state();
    REQUIRE(m.set_phase(Model::Phase::kEval).is_ok());
    CHECK(t.value().step(xv, Targets::classes(bad.data())).status().code() == StatusCode::kInvalidArgument);
    CHECK(fennec_test::bytes_of(m.layer_state()) == state0);
    {
      Rng now = m.dropout_rng(), then;
      then.set_state(rng0);
      for (int i = 0; i < 4; ++i) CHECK(now.next_u32() == then.next_u32());
    }
    CHECK(m.batches_tracked() == 0);
    CHECK(m.phase() == Model::Phase::kEval);  // the caller's phase is put back
    // A good step: gamma moves by lr * (g + wd * gamma) with decay, lr * g without.
    const std::vector<float> gamma0(m.bn_gamma(0).data, m.bn_gamma(0).data + 8);
    const std::vector<float> w0(m.weights(0).data, m.weights(0).data + 8 * 6);
    REQUIRE(t.value().step(xv, Targets::classes(labels.data())).is_ok());
    CHECK(m.phase() == Model::Phase::kEval);
    CHECK(m.batches_tracked() == 1);
    CHECK(fennec_test::bytes_of(m.layer_state()) != state0);
    for (std::size_t j = 0; j < 8; ++j) {
      const float g = m.bn_gamma_gradient(0)[j];
      const float expect = gamma0[j] - 0.1f * (g + (decay ? 0.5f * gamma0[j] : 0.f));
      CHECK(close(m.bn_gamma(0)[j], expect, 1e-6, 1e-6));
    }
    // The dense weights always decay.
    const float gw = m.weight_gradient(0)(0, 0);
    CHECK(close(m.weights(0)(0, 0), w0[0] - 0.1f * (gw + 0.5f * w0[0]), 1e-6, 1e-6));
    // evaluate() runs the eval phase: running statistics and counter untouched.
    REQUIRE(m.set_phase(Model::Phase::kTrain).is_ok());
    const auto state1 = fennec_test::bytes_of(m.layer_state());
    REQUIRE(t.value().evaluate(xv, Targets::classes(labels.data())).is_ok());
    CHECK(fennec_test::bytes_of(m.layer_state()) == state1);
    CHECK(m.batches_tracked() == 1);
    CHECK(m.phase() == Model::Phase::kTrain);
  }
}

namespace torch_layers {
#include "fixtures/torch_layers_fixture.inc"

float f(std::uint32_t b) {
  float v;
  std::memcpy(&v, &b, 4);
  return v;
}

// The fixture's parameter order: W0, b0, gamma, beta, W1, b1.
std::vector<VectorView> parameter_views(const Model& m) {
  return {{m.weights(0).data, kHidden * kIn}, m.bias(0), m.bn_gamma(0), m.bn_beta(0),
          {m.weights(1).data, kOut * kHidden}, m.bias(1)};
}
}  // namespace torch_layers

// PyTorch float32 (the script beside the fixture): the same initial parameters, batch and
// dropout masks, five Adam steps. Losses, every parameter and the running statistics after each
// step agree within 1e-5 relative (an absolute floor of 1e-7 for values that cross zero); both
// sides are float32 with different summation orders.
TEST_CASE("layers: Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear matches PyTorch for 5 Adam steps",
          "[layers][pytorch]") {
  using namespace torch_layers;
  const ModelSpec s = ModelSpec(kIn)
                          .dense(kHidden, ActivationSpec::relu())
                          .batchnorm()
                          .dropout(kDropout)
                          .dense(kOut, ActivationSpec::identity())
                          .with_loss(Loss::kSoftmaxCrossEntropy);
  for (Isa isa : {Isa::kRef, Isa::kAuto}) {
    INFO("isa " << isa_name(isa));
    const ModelOptions o = ModelOptions::training(kBatch, OptimizerConfig::adam(kLr), isa);
    OwnedArena arena(plan(s, o).total());
    Model m = bind_or_fail(s, o, arena);
    std::size_t k = 0;
    for (VectorView v : parameter_views(m))
      for (std::size_t i = 0; i < v.size; ++i) v[i] = f(kInit[k++]);
    REQUIRE(k == std::size(kInit));
    std::vector<float> x(kBatch * kIn);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = f(kX[i]);
    Result<Trainer> t = Trainer::create(m);
    REQUIRE(t.is_ok());
    m.set_fixed_dropout_masks(true);
    double worst = 0;
    auto check = [&worst](float got, float want) {
      worst = std::max(worst, std::fabs(got - want) / std::max(std::fabs(static_cast<double>(want)), 1e-2));
      CHECK(close(got, want, 1e-7, 1e-5));
    };
    for (std::size_t step = 0; step < kSteps; ++step) {
      INFO("step " << step + 1);
      std::memcpy(m.dropout_mask(0).data, kMasks[step], kBatch * kHidden);
      Result<StepStats> st = t.value().step(ConstMatrixView(x.data(), kBatch, kIn), Targets::classes(kLabels));
      REQUIRE(st.is_ok());
      check(static_cast<float>(st.value().loss), f(kLosses[step]));
      k = 0;
      for (VectorView v : parameter_views(m))
        for (std::size_t i = 0; i < v.size; ++i) {
          INFO("parameter " << k);
          check(v[i], f(kAfter[step][k++]));
        }
      for (std::size_t j = 0; j < kHidden; ++j) {
        INFO("running statistics unit " << j);
        check(m.bn_running_mean(0)[j], f(kRunning[step][j]));
        check(m.bn_running_var(0)[j], f(kRunning[step][kHidden + j]));
      }
    }
    CHECK(m.batches_tracked() == kSteps);
    WARN(isa_name(isa) << ": worst relative difference from PyTorch " << worst);
  }
}

TEST_CASE("layers: folding batch norm into the dense layers gives the eval phase's outputs to 1e-5",
          "[layers][fold]") {
  const ModelSpec s = mixed_spec();
  const std::size_t rows = 16;
  const ModelOptions o = ModelOptions::training(rows, OptimizerConfig::adam(1e-2));
  OwnedArena arena(plan(s, o).total());
  Model m = bind_or_fail(s, o, arena);
  Rng rng(21);
  perturb_parameters(m, rng);
  Result<Trainer> t = Trainer::create(m);
  REQUIRE(t.is_ok());
  const std::vector<float> x = normal_matrix(rng, rows * s.input);
  std::vector<std::int32_t> labels(rows);
  for (std::int32_t& v : labels) v = static_cast<std::int32_t>(rng.below(3));
  const ConstMatrixView xv(x.data(), rows, s.input);
  for (int i = 0; i < 20; ++i) REQUIRE(t.value().step(xv, Targets::classes(labels.data())).is_ok());

  const ModelSpec plain = folded_spec(s);
  CHECK(!plain.has_batchnorm());
  CHECK(!plain.has_dropout());
  OwnedArena fa(plan(plain, ModelOptions::inference(rows)).total());
  Model folded = bind_or_fail(plain, ModelOptions::inference(rows), fa);
  REQUIRE(fold_batchnorm(m, folded).is_ok());
  CHECK(plan(plain, ModelOptions::inference(rows)).layer_state == 0);
  REQUIRE(m.set_phase(Model::Phase::kEval).is_ok());
  Result<ConstMatrixView> ye = m.forward(xv);
  REQUIRE(ye.is_ok());
  const std::vector<float> want(ye.value().data, ye.value().data + rows * s.output());
  Result<ConstMatrixView> yf = folded.forward(xv);
  REQUIRE(yf.is_ok());
  // Folding reassociates gamma/sigma into the weights: float rounding of sums of <= 7 terms.
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(close(yf.value().data[i], want[i], 1e-6, 1e-5));
    if (std::fabs(want[i]) >= 0.1f) worst = std::max(worst, std::fabs(double(yf.value().data[i]) - want[i]) / std::fabs(want[i]));
  }
  WARN("folded vs unfolded inference: worst relative difference (outputs >= 0.1) " << worst);
  // Mismatches are refused and write nothing.
  OwnedArena ba(plan(s, ModelOptions::inference(rows)).total());
  Model with_bn = bind_or_fail(s, ModelOptions::inference(rows), ba);
  CHECK(fold_batchnorm(m, with_bn).code() == StatusCode::kShapeMismatch);
  const ModelSpec other = ModelSpec(5).dense(7, ActivationSpec::sigmoid()).dense(3, ActivationSpec::identity());
  OwnedArena oa(plan(other, ModelOptions::inference(rows)).total());
  Model wrong = bind_or_fail(other, ModelOptions::inference(rows), oa);
  const auto before = fennec_test::bytes_of(wrong.parameters());
  CHECK(fold_batchnorm(m, wrong).code() == StatusCode::kShapeMismatch);
  CHECK(fennec_test::bytes_of(wrong.parameters()) == before);
}
