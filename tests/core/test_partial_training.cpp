// SPDX-License-Identifier: Apache-2.0
// Partial training (ModelOptions::frozen_layers) and external parameters (ModelOptions::
// external_parameters): the plan is exact and shrinks, frozen weights never change, the
// trainable layers' gradients are the unfrozen model's, refusals change nothing.
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::bytes_of;
using fennec_test::OwnedArena;
using fennec_test::str;

namespace {

constexpr ModelSpec small_spec() {
  return ModelSpec(7)
      .dense(13, ActivationSpec::relu())
      .dense(9, ActivationSpec::tanh())
      .dense(5, ActivationSpec::relu())
      .dense(3, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

constexpr ModelSpec mnist_spec() {
  return ModelSpec(784)
      .dense(512, ActivationSpec::relu())
      .dense(256, ActivationSpec::relu())
      .dense(10, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

// Every layer's parameters in the model file's layout (W_i rows, then b_i).
std::vector<float> file_layout(const Model& m) {
  std::vector<float> out;
  for (std::size_t i = 0; i < m.num_layers(); ++i) {
    const ConstMatrixView w = m.const_weights(i);
    for (std::size_t r = 0; r < w.rows; ++r) out.insert(out.end(), w.row(r), w.row(r) + w.cols);
    const ConstVectorView b = m.const_bias(i);
    out.insert(out.end(), b.data, b.data + b.size);
  }
  return out;
}

// Copies every layer of `from` into the (arena-held) layers of `to`.
void copy_weights(const Model& from, Model& to) {
  for (std::size_t i = 0; i < from.num_layers(); ++i) {
    const ConstMatrixView w = from.const_weights(i);
    const MatrixView d = to.weights(i);
    REQUIRE(d.data != nullptr);
    for (std::size_t r = 0; r < w.rows; ++r) std::memcpy(d.row(r), w.row(r), w.cols * sizeof(float));
    const ConstVectorView b = from.const_bias(i);
    std::memcpy(to.bias(i).data, b.data, b.size * sizeof(float));
  }
}

struct Batch {
  std::vector<float> x;
  std::vector<std::int32_t> y;
};

Batch make_batch(const ModelSpec& s, std::size_t rows, std::uint64_t seed) {
  Rng rng(seed);
  Batch b;
  b.x.resize(rows * s.input);
  for (float& v : b.x) v = static_cast<float>(rng.normal());
  for (std::size_t i = 0; i < rows; ++i) b.y.push_back(static_cast<std::int32_t>(rng.next_u32() % s.output()));
  return b;
}

std::vector<unsigned char> layer_bytes(const Model& m, std::size_t layer) {
  const ConstMatrixView w = m.const_weights(layer);
  std::vector<unsigned char> out = bytes_of(ConstVectorView(w.data, w.rows * w.cols));
  const std::vector<unsigned char> b = bytes_of(m.const_bias(layer));
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("frozen layers: bind consumes exactly plan().total(), one byte less is refused", "[model][frozen]") {
  const ModelSpec spec = small_spec();
  for (int opt = 0; opt < kOptimizerCount; ++opt) {
    for (std::uint32_t frozen = 0; frozen < spec.num_layers; ++frozen) {
      for (bool external : {false, true}) {
        const ModelOptions o = ModelOptions::training(6, static_cast<OptimizerKind>(opt))
                                   .with_frozen_layers(frozen)
                                   .with_external_parameters(external);
        const MemoryPlan p = plan(spec, o);
        CAPTURE(opt, frozen, external, p.total());
        std::vector<float> params(file_layout_floats(spec, spec.num_layers), 0.25f);
        const ExternalParameters ext{params.data(), params.size() * sizeof(float)};
        OwnedArena exact(p.total());
        Result<Model> m = external ? Model::bind(spec, o, exact.arena, ext) : Model::bind(spec, o, exact.arena);
        REQUIRE(m.is_ok());
        CHECK(exact.arena.used() == p.total());
        CHECK(m->frozen_layers() == frozen);
        CHECK(m->gradients().size * sizeof(float) == p.gradients);
        CHECK(p.external_parameters == (external ? file_layout_floats(spec, frozen) * sizeof(float) : 0u));
        for (std::size_t l = 0; l < spec.num_layers; ++l) {
          CHECK(m->is_external(l) == (external && l < frozen));
          CHECK((m->weight_gradient(l).data != nullptr) == (l >= frozen));
        }
        OwnedArena short_by_one(p.total() - 1);
        Result<Model> r = external ? Model::bind(spec, o, short_by_one.arena, ext)
                                   : Model::bind(spec, o, short_by_one.arena);
        CHECK(r.status().code() == StatusCode::kOutOfMemory);
        CHECK(short_by_one.arena.used() == 0);
      }
    }
  }
}

TEST_CASE("frozen layers: the plan shrinks by the frozen layers' gradients, state and outputs", "[plan][frozen]") {
  const ModelSpec spec = small_spec();
  const ModelOptions full = ModelOptions::training(6, OptimizerKind::kAdam);
  std::size_t previous = plan(spec, full).total();
  for (std::uint32_t frozen = 1; frozen < spec.num_layers; ++frozen) {
    const MemoryPlan p = plan(spec, full.with_frozen_layers(frozen));
    CAPTURE(frozen);
    CHECK(p.total() < previous);
    CHECK(p.parameters == plan(spec, full).parameters);  // frozen weights still in the arena
    CHECK(p.gradients == arena_round_up(parameter_block_floats(spec, frozen) * sizeof(float)));
    CHECK(p.optimizer_state == 2 * p.gradients);
    const MemoryPlan e = plan(spec, full.with_frozen_layers(frozen).with_external_parameters());
    CHECK(e.parameters == p.gradients);  // only the trainable layers in the arena
    CHECK(e.total() < p.total());
    previous = p.total();
  }
  // Inference with external parameters: no parameter bytes at all.
  const MemoryPlan inf = plan(spec, ModelOptions::inference(4).with_external_parameters());
  CHECK(inf.parameters == 0);
  CHECK(inf.total() == inf.activations + inf.scratch);
  CHECK(inf.total() == plan(spec, ModelOptions::inference(4)).total() - plan(spec, ModelOptions::inference(4)).parameters);
}

TEST_CASE("frozen layers: 784-512-256-10 Adam batch 64, last layer trained", "[plan][frozen]") {
  constexpr ModelSpec spec = mnist_spec();
  constexpr ModelOptions full = ModelOptions::training(64, OptimizerConfig::adam(1e-3));
  constexpr MemoryPlan p_full = plan(spec, full);
  constexpr MemoryPlan p_arena = plan(spec, full.with_frozen_layers(2));
  constexpr MemoryPlan p_ext = plan(spec, full.with_frozen_layers(2).with_external_parameters());
  const double frozen_share =
      static_cast<double>((parameter_block_floats(spec) - parameter_block_floats(spec, 2)) * sizeof(float)) /
      static_cast<double>(p_full.total());
  const double ext_share = static_cast<double>(p_ext.total()) / static_cast<double>(p_full.total());
  const double arena_share = static_cast<double>(p_arena.total()) / static_cast<double>(p_full.total());
  INFO("full " << p_full.total() << " B; frozen in arena " << p_arena.total() << " B (" << arena_share
               << "); frozen external " << p_ext.total() << " B (" << ext_share << "); frozen weights "
               << frozen_share << " of the full arena");
  CHECK(ext_share <= 0.15);
  CHECK(frozen_share > 0.20);
  CHECK(frozen_share < 0.22);
  CHECK(p_ext.external_parameters == file_layout_floats(spec, 2) * sizeof(float));
  // Exact: what bind consumes.
  OwnedArena a(p_ext.total());
  std::vector<float> params(spec.num_parameters(), 0.f);
  Result<Model> m = Model::bind(spec, full.with_frozen_layers(2).with_external_parameters(), a.arena,
                                ExternalParameters{params.data(), params.size() * sizeof(float)});
  REQUIRE(m.is_ok());
  CHECK(a.arena.used() == p_ext.total());
}

TEST_CASE("frozen layers: trainable gradients equal the unfrozen model's, frozen weights stay bit-identical",
          "[model][frozen]") {
  const ModelSpec spec = small_spec();
  const std::size_t rows = 6;
  OwnedArena a0(plan(spec, ModelOptions::training(rows, OptimizerKind::kAdam)).total());
  Result<Model> full = Model::bind(spec, ModelOptions::training(rows, OptimizerKind::kAdam), a0.arena);
  REQUIRE(full.is_ok());
  Rng rng(20261201);
  REQUIRE(full->init_parameters(rng).is_ok());
  const Batch batch = make_batch(spec, rows, 7);
  const ConstMatrixView x(batch.x.data(), rows, spec.input);
  const Targets t = Targets::classes(batch.y.data());

  // Reference gradients: the unfrozen model, same weights, same batch.
  Result<ConstMatrixView> out = full->forward(x);
  REQUIRE(out.is_ok());
  std::vector<float> dlogits(rows * spec.output());
  compute_loss(spec.loss, out.value(), t, MatrixView(dlogits.data(), rows, spec.output()));
  REQUIRE(full->backward(x, ConstMatrixView(dlogits.data(), rows, spec.output())).is_ok());

  for (std::uint32_t frozen = 1; frozen < spec.num_layers; ++frozen) {
    for (bool external : {false, true}) {
      CAPTURE(frozen, external);
      const ModelOptions o = ModelOptions::training(rows, OptimizerConfig::adam(1e-2))
                                 .with_frozen_layers(frozen)
                                 .with_external_parameters(external);
      const std::vector<float> source = file_layout(full.value());
      OwnedArena a(plan(spec, o).total());
      Result<Model> m = external ? Model::bind(spec, o, a.arena, ExternalParameters{source.data(), source.size() * 4})
                                 : Model::bind(spec, o, a.arena);
      REQUIRE(m.is_ok());
      if (!external) copy_weights(full.value(), m.value());
      REQUIRE(file_layout(m.value()) == source);

      Result<ConstMatrixView> o2 = m->forward(x);
      REQUIRE(o2.is_ok());
      CHECK(bytes_of(ConstVectorView(o2->data, rows * spec.output())) ==
            bytes_of(ConstVectorView(out->data, rows * spec.output())));
      REQUIRE(m->backward(x, ConstMatrixView(dlogits.data(), rows, spec.output())).is_ok());
      for (std::size_t l = frozen; l < spec.num_layers; ++l) {
        const MatrixView g = m->weight_gradient(l), g0 = full->weight_gradient(l);
        CHECK(bytes_of(ConstVectorView(g.data, g.rows * g.cols)) == bytes_of(ConstVectorView(g0.data, g0.rows * g0.cols)));
        CHECK(bytes_of(m->bias_gradient(l)) == bytes_of(full->bias_gradient(l)));
      }
      CHECK(m->layer_output(frozen - 1).data != nullptr);
      if (frozen >= 2) CHECK(m->layer_output(frozen - 2).data == nullptr);

      // Train: the frozen layers never change, the trainable ones do.
      std::vector<std::vector<unsigned char>> before;
      for (std::size_t l = 0; l < spec.num_layers; ++l) before.push_back(layer_bytes(m.value(), l));
      Result<Trainer> tr = Trainer::create(m.value());
      REQUIRE(tr.is_ok());
      for (int s = 0; s < 20; ++s) {
        const Batch b = make_batch(spec, rows, 100 + static_cast<std::uint64_t>(s));
        Result<StepStats> st = tr->step(ConstMatrixView(b.x.data(), rows, spec.input), Targets::classes(b.y.data()));
        REQUIRE(st.is_ok());
      }
      for (std::size_t l = 0; l < spec.num_layers; ++l) {
        CAPTURE(l);
        if (l < frozen)
          CHECK(layer_bytes(m.value(), l) == before[l]);
        else
          CHECK(layer_bytes(m.value(), l) != before[l]);
      }
      if (external) CHECK(source == file_layout(full.value()));
    }
  }
}

TEST_CASE("frozen layers: a trainer step matches the same update computed by hand (SGD)", "[trainer][frozen]") {
  const ModelSpec spec = small_spec();
  const std::size_t rows = 5;
  const ModelOptions o = ModelOptions::training(rows, OptimizerConfig::sgd(0.125)).with_frozen_layers(2);
  OwnedArena a(plan(spec, o).total());
  Result<Model> m = Model::bind(spec, o, a.arena);
  REQUIRE(m.is_ok());
  Rng rng(3);
  REQUIRE(m->init_parameters(rng).is_ok());
  const Batch b = make_batch(spec, rows, 11);
  const ConstMatrixView x(b.x.data(), rows, spec.input);
  Result<ConstMatrixView> out = m->forward(x);
  REQUIRE(out.is_ok());
  std::vector<float> dl(rows * spec.output());
  compute_loss(spec.loss, out.value(), Targets::classes(b.y.data()), MatrixView(dl.data(), rows, spec.output()));
  REQUIRE(m->backward(x, ConstMatrixView(dl.data(), rows, spec.output())).is_ok());
  const VectorView g = m->gradients(), p = m->trainable_parameters();
  REQUIRE(g.size == p.size);
  std::vector<float> want(p.size);
  for (std::size_t i = 0; i < p.size; ++i) want[i] = p[i] - 0.125f * g[i];
  Result<Trainer> tr = Trainer::create(m.value());
  REQUIRE(tr.is_ok());
  REQUIRE(tr->step(x, Targets::classes(b.y.data())).is_ok());
  for (std::size_t i = 0; i < p.size; ++i) CHECK(fennec_test::close(p[i], want[i], 1e-7, 1e-6));
}

TEST_CASE("frozen layers: refusals are typed and change nothing", "[model][frozen]") {
  const ModelSpec spec = small_spec();
  OwnedArena a(1 << 20);
  // Nothing left to train; frozen layers at inference.
  Result<Model> r = Model::bind(spec, ModelOptions::training(4, OptimizerKind::kAdam).with_frozen_layers(4), a.arena);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  r = Model::bind(spec, ModelOptions::inference(4).with_frozen_layers(1), a.arena);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(a.arena.used() == 0);

  const ModelOptions o = ModelOptions::training(4, OptimizerKind::kAdam).with_frozen_layers(1);
  Result<Model> m = Model::bind(spec, o, a.arena);
  REQUIRE(m.is_ok());
  Rng rng(5);
  REQUIRE(m->init_parameters(rng).is_ok());
  Result<Trainer> tr = Trainer::create(m.value());
  REQUIRE(tr.is_ok());
  const Batch b = make_batch(spec, 4, 9);
  const ConstMatrixView x(b.x.data(), 4, spec.input);
  REQUIRE(tr->step(x, Targets::classes(b.y.data())).is_ok());
  const std::vector<unsigned char> params = bytes_of(m->parameters());
  const std::vector<unsigned char> s0 = bytes_of(m->optimizer_state(0)), s1 = bytes_of(m->optimizer_state(1));
  const std::uint64_t steps = tr->step_count();
  // A label out of range, a non-finite input, a batch above max_batch: refused, nothing changes.
  std::vector<std::int32_t> bad = b.y;
  bad[1] = 99;
  CHECK(!tr->step(x, Targets::classes(bad.data())).is_ok());
  std::vector<float> nan_x = b.x;
  nan_x[3] = NAN;
  CHECK(tr->step(ConstMatrixView(nan_x.data(), 4, spec.input), Targets::classes(b.y.data())).status().code() ==
        StatusCode::kNonFinite);
  std::vector<float> big(5 * spec.input, 0.f);
  std::vector<std::int32_t> big_y(5, 0);
  CHECK(tr->step(ConstMatrixView(big.data(), 5, spec.input), Targets::classes(big_y.data())).status().code() ==
        StatusCode::kShapeMismatch);
  CHECK(bytes_of(m->parameters()) == params);
  CHECK(bytes_of(m->optimizer_state(0)) == s0);
  CHECK(bytes_of(m->optimizer_state(1)) == s1);
  CHECK(tr->step_count() == steps);
  // Input gradients need the frozen layers' outputs, which are not kept.
  REQUIRE(m->forward(x).is_ok());
  std::vector<float> dl(4 * spec.output(), 0.1f), dx(4 * spec.input);
  CHECK(m->backward(x, ConstMatrixView(dl.data(), 4, spec.output()), MatrixView(dx.data(), 4, spec.input))
            .code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("external parameters: bad buffers are refused with a typed status, the arena untouched",
          "[model][external]") {
  const ModelSpec spec = small_spec();
  const ModelOptions inf = ModelOptions::inference(2).with_external_parameters();
  const std::size_t floats = file_layout_floats(spec, spec.num_layers);
  std::vector<float> params(floats + 1, 0.5f);
  OwnedArena a(1 << 16);
  auto bind = [&](const void* data, std::size_t bytes) {
    return Model::bind(spec, inf, a.arena, ExternalParameters{data, bytes}).status();
  };
  CHECK(bind(nullptr, floats * 4).code() == StatusCode::kInvalidArgument);
  CHECK(bind(reinterpret_cast<const unsigned char*>(params.data()) + 2, floats * 4).code() ==
        StatusCode::kInvalidArgument);
  CHECK(bind(params.data(), floats * 4 - 4).code() == StatusCode::kShapeMismatch);
  CHECK(bind(params.data(), floats * 4 + 4).code() == StatusCode::kShapeMismatch);
  // A spec other than the buffer's: its parameter count differs.
  ModelSpec other = spec;
  other.layers[1].units = 10;
  CHECK(Model::bind(other, inf, a.arena, ExternalParameters{params.data(), floats * 4}).status().code() ==
        StatusCode::kShapeMismatch);
  // Options and call must agree.
  CHECK(Model::bind(spec, inf, a.arena).status().code() == StatusCode::kInvalidArgument);
  CHECK(Model::bind(spec, ModelOptions::inference(2), a.arena, ExternalParameters{params.data(), floats * 4})
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(a.arena.used() == 0);

  Result<Model> m = Model::bind(spec, inf, a.arena, ExternalParameters{params.data(), floats * 4});
  REQUIRE(m.is_ok());
  CHECK(m->parameters().size == 0);
  CHECK(m->weights(0).data == nullptr);
  CHECK(m->const_weights(0).data == params.data());
  Rng rng(1);
  CHECK(m->init_parameters(rng).code() == StatusCode::kFailedPrecondition);
  CHECK(a.arena.used() == plan(spec, inf).total());
  CHECK(str(Status::ok()).size() > 0);
}

TEST_CASE("frozen layers: every optimizer, clipping mode, loss and batch size a full model takes is accepted",
          "[trainer][frozen]") {
  const Loss losses[] = {Loss::kSoftmaxCrossEntropy, Loss::kMse, Loss::kSigmoidBce};
  const ClipConfig clips[] = {ClipConfig{}, ClipConfig{0.5f, 0.f}, ClipConfig{0.f, 0.01f}, ClipConfig{0.5f, 0.01f}};
  for (Loss loss : losses) {
    const ModelSpec spec = small_spec().with_loss(loss);
    for (int opt = 0; opt < kOptimizerCount; ++opt) {
      for (const ClipConfig& clip : clips) {
        for (bool external : {false, true}) {
          CAPTURE(static_cast<int>(loss), opt, clip.max_norm, clip.max_value, external);
          const ModelOptions o = ModelOptions::training(4, static_cast<OptimizerKind>(opt))
                                     .with_frozen_layers(2)
                                     .with_external_parameters(external);
          std::vector<float> params(file_layout_floats(spec, spec.num_layers));
          Rng init(8);
          for (float& v : params) v = static_cast<float>(init.normal(0.0, 0.3));
          OwnedArena a(plan(spec, o).total());
          Result<Model> m = external ? Model::bind(spec, o, a.arena, ExternalParameters{params.data(), params.size() * 4})
                                     : Model::bind(spec, o, a.arena);
          REQUIRE(m.is_ok());
          if (!external) {
            Rng rng(4);
            REQUIRE(m->init_parameters(rng).is_ok());
          }
          const std::vector<unsigned char> frozen0 = layer_bytes(m.value(), 0), frozen1 = layer_bytes(m.value(), 1);
          Result<Trainer> tr = Trainer::create(m.value(), clip);
          REQUIRE(tr.is_ok());
          for (std::size_t rows : {std::size_t{1}, std::size_t{3}, std::size_t{4}}) {
            const Batch b = make_batch(spec, rows, rows);
            std::vector<float> t(rows * spec.output(), 0.f);
            for (std::size_t i = 0; i < rows; ++i) t[i * spec.output() + static_cast<std::size_t>(b.y[i])] = 1.f;
            const ConstMatrixView x(b.x.data(), rows, spec.input);
            Result<StepStats> s = loss == Loss::kSoftmaxCrossEntropy
                                      ? tr->step(x, Targets::classes(b.y.data()))
                                      : tr->step(x, Targets::values(ConstMatrixView(t.data(), rows, spec.output())));
            INFO(str(s.status()));
            REQUIRE(s.is_ok());
          }
          CHECK(layer_bytes(m.value(), 0) == frozen0);
          CHECK(layer_bytes(m.value(), 1) == frozen1);
          CHECK(tr->step_count() == 3);
        }
      }
    }
  }
}
