// SPDX-License-Identifier: Apache-2.0
// quantize() and QuantizedModel (fennec/quant.hpp): the plan is exact (one byte short fails and
// leaves the arena as it was); int8 logits follow the f32 ones; every kernel table gives the
// same bits; the parameters follow the scheme; bad input gets a typed error.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/isa_registry.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/qpack.hpp"
#include "test_util.hpp"

using namespace fennec;
using fennec_test::OwnedArena;
using fennec_test::str;

namespace {

constexpr ModelSpec mlp_spec(ActivationSpec hidden = ActivationSpec::relu()) {
  return ModelSpec(20).dense(32, hidden).dense(16, hidden).dense(5, ActivationSpec::identity());
}

// An f32 inference model with He-initialised weights and small random biases.
struct F32 {
  OwnedArena arena;
  Model model;
  explicit F32(const ModelSpec& spec, std::uint64_t seed = 7) : arena(plan(spec, ModelOptions::inference(8)).total()) {
    Result<Model> m = Model::bind(spec, ModelOptions::inference(8, Isa::kRef), arena.arena);
    REQUIRE(m.is_ok());
    model = std::move(m).value();
    Rng rng(seed);
    REQUIRE(model.init_parameters(rng).is_ok());
    std::mt19937 g(static_cast<unsigned>(seed));
    std::uniform_real_distribution<float> d(-0.1f, 0.1f);
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      VectorView b = model.bias(l);
      for (std::size_t j = 0; j < b.size; ++j) b[j] = d(g);
    }
  }
};

std::vector<float> inputs(std::size_t rows, std::size_t cols, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(rows * cols);
  for (float& x : v) x = d(g);
  return v;
}

std::size_t arena_bytes(const ModelSpec& spec, const QuantOptions& o) {
  return quantized_plan(spec, o.max_batch).total() + calibration_scratch_bytes(spec, o);
}

std::size_t argmax(const float* p, std::size_t n) {
  std::size_t a = 0;
  for (std::size_t j = 1; j < n; ++j) a = p[j] > p[a] ? j : a;
  return a;
}

}  // namespace

TEST_CASE("quant: the plan is exact, and one byte short fails leaving the arena as it was", "[quant][plan]") {
  const ModelSpec spec = mlp_spec();
  F32 f(spec);
  const std::vector<float> cal = inputs(100, spec.input, 1);
  for (ClipMethod clip : {ClipMethod::kMinMax, ClipMethod::kPercentile}) {
    QuantOptions o;
    o.clip = clip;
    o.max_batch = 4;
    o.calibration_batch = 16;
    const std::size_t need = arena_bytes(spec, o);
    {
      OwnedArena a(need);
      Result<QuantizedModel> q = quantize(f.model, ConstMatrixView(cal.data(), 100, spec.input), o, a.arena);
      REQUIRE(q.is_ok());
      CHECK(a.arena.used() == quantized_plan(spec, 4).total());
      CHECK(a.arena.peak() == need);
    }
    {
      OwnedArena a(need - 1);
      Result<QuantizedModel> q = quantize(f.model, ConstMatrixView(cal.data(), 100, spec.input), o, a.arena);
      REQUIRE_FALSE(q.is_ok());
      CHECK(q.status().code() == StatusCode::kOutOfMemory);
      CHECK(a.arena.used() == 0);
    }
  }
  // Hand-derived: 20-32-16-5 at batch 3. Weights 640 -> 640, 512, 80 -> 128; per-channel arrays
  // 9 x (128, 64, 64); activations 2 x round(3 * 32 = 96 -> 128) + round(3 * 5 * 4 = 60 -> 64).
  constexpr QuantizedPlan p = quantized_plan(mlp_spec(), 3);
  CHECK(p.parameters == 640 + 9 * 128 + 512 + 9 * 64 + 128 + 9 * 64);
  CHECK(p.activations == 2 * 128 + 64);
  // x86-64: each weight block has the packed layout's size, units rounded up to 16 and fan_in
  // to 4: 32 x 20, 16 x 32, 16 x 16 = 640, 512, 256 bytes, which add 0, 0 and 256 - 128 to the
  // row-major blocks above.
  CHECK(p.packed == (detail::kQPackPlanned ? 128 : 0));
  CHECK(p.total() == p.parameters + p.packed + p.activations);
}

TEST_CASE("quant: int8 logits follow the f32 network (ReLU and LeakyReLU)", "[quant]") {
  for (ActivationSpec act : {ActivationSpec::relu(), ActivationSpec::leaky_relu(0.1f), ActivationSpec::identity()}) {
    INFO("hidden activation " << activation_name(act.kind));
    const ModelSpec spec = mlp_spec(act);
    F32 f(spec, 11);
    const std::vector<float> cal = inputs(256, spec.input, 2);
    QuantOptions o;
    o.max_batch = 8;
    OwnedArena a(arena_bytes(spec, o));
    Result<QuantizedModel> qr = quantize(f.model, ConstMatrixView(cal.data(), 256, spec.input), o, a.arena);
    REQUIRE(qr.is_ok());
    QuantizedModel q = std::move(qr).value();
    CHECK(q.weight_bytes() == 20 * 32 + 32 * 16 + 16 * 5);
    const std::vector<float> x = inputs(8 * 50, spec.input, 3);
    std::size_t agree = 0, total = 0;
    double max_err = 0, max_logit = 0;
    for (std::size_t b = 0; b < 50; ++b) {
      const ConstMatrixView xb(x.data() + b * 8 * spec.input, 8, spec.input);
      Result<ConstMatrixView> yf = f.model.forward(xb);
      REQUIRE(yf.is_ok());
      const std::vector<float> ref(yf.value().data, yf.value().data + 8 * 5);
      Result<ConstMatrixView> yq = q.forward(xb);
      REQUIRE(yq.is_ok());
      for (std::size_t i = 0; i < 8; ++i) {
        agree += argmax(ref.data() + i * 5, 5) == argmax(yq.value().row(i), 5);
        ++total;
        for (std::size_t j = 0; j < 5; ++j) {
          max_err = std::fmax(max_err, std::fabs(ref[i * 5 + j] - yq.value()(i, j)));
          max_logit = std::fmax(max_logit, std::fabs(ref[i * 5 + j]));
        }
      }
    }
    // Three layers of 8-bit rounding (weights, activations): the error bound is a few percent
    // of the logit range, and the predicted class almost always agrees.
    INFO("max |int8 - f32| " << max_err << " of max |logit| " << max_logit << ", argmax agrees " << agree << "/" << total);
    CHECK(max_err <= 0.05 * max_logit);
    CHECK(agree >= total * 95 / 100);
  }
}

TEST_CASE("quant: every kernel table gives the same bits", "[quant][isa]") {
  const ModelSpec spec = ModelSpec(70).dense(33, ActivationSpec::relu()).dense(17, ActivationSpec::leaky_relu(0.2f)).dense(
      4, ActivationSpec::identity());
  F32 f(spec, 5);
  const std::vector<float> cal = inputs(64, spec.input, 4);
  const std::vector<float> x = inputs(6, spec.input, 5, -1.5f, 1.5f);  // some inputs beyond the calibrated range
  std::vector<float> reference;
  std::vector<std::int8_t> reference_weights;
  std::size_t tables = 0;
  for (const kernels::IsaInfo& info : kernels::kIsas) {
    if (!isa_supported(info.isa)) continue;
    QuantOptions o;
    o.max_batch = 6;
    o.isa = info.isa;
    OwnedArena a(arena_bytes(spec, o));
    Result<QuantizedModel> q = quantize(f.model, ConstMatrixView(cal.data(), 64, spec.input), o, a.arena);
    REQUIRE(q.is_ok());
    CHECK(q.value().isa() == info.isa);
    std::vector<float> out;
    for (std::size_t rows : {std::size_t{1}, std::size_t{6}}) {
      Result<ConstMatrixView> y = q.value().forward(ConstMatrixView(x.data(), rows, spec.input));
      REQUIRE(y.is_ok());
      out.insert(out.end(), y.value().data, y.value().data + rows * 4);
    }
    // The weights are held once, in the layout this table reads, and are the same numbers.
    const bool packed_layout = detail::kQPackPlanned && kernels::qgemm_reads_packed(info.isa);
    std::vector<std::int8_t> w;
    for (std::size_t l = 0; l < q.value().num_layers(); ++l) {
      const QuantizedLayer& L = q.value().layer(l);
      CHECK((L.packed != nullptr) == packed_layout);
      CHECK((L.weights != nullptr) == !packed_layout);
      for (std::size_t j = 0; j < L.units; ++j)
        for (std::size_t k = 0; k < L.fan_in; ++k) w.push_back(L.weight(j, k));
    }
    if (reference_weights.empty()) reference_weights = w;
    CHECK(w == reference_weights);
    // Batch 1 (qgemv_s8) and the first row of batch 6 (qgemm_nt_s8) agree too.
    CHECK(std::memcmp(out.data(), out.data() + 4, 4 * sizeof(float)) == 0);
    if (reference.empty()) reference = out;
    INFO("table " << info.id);
    CHECK(std::memcmp(out.data(), reference.data(), out.size() * sizeof(float)) == 0);
    ++tables;
  }
  CHECK(tables >= 1);
}

TEST_CASE("quant: weight() and set_weight() address the packed layout as qpack_s8 writes it", "[quant]") {
  // Runs on every build and CPU: the layout is plain arithmetic (qpack_layout.hpp), whether or
  // not this machine has the table that reads it.
  for (std::size_t units : {std::size_t{1}, std::size_t{16}, std::size_t{19}})
    for (std::size_t fan_in : {std::size_t{1}, std::size_t{4}, std::size_t{10}}) {
      std::mt19937 g(static_cast<unsigned>(units * 31 + fan_in));
      std::uniform_int_distribution<int> d(-127, 127);
      std::vector<std::int8_t> plain(units * fan_in);
      for (std::int8_t& v : plain) v = static_cast<std::int8_t>(d(g));
      std::vector<std::uint8_t> want(detail::qpack_bytes(units, fan_in)), got(want.size(), 0);
      kernels::qpack_s8(plain.data(), fan_in, units, fan_in, want.data());
      QuantizedLayer L;
      L.units = static_cast<std::uint32_t>(units);
      L.fan_in = static_cast<std::uint32_t>(fan_in);
      L.packed = got.data();
      for (std::size_t j = 0; j < units; ++j)
        for (std::size_t k = 0; k < fan_in; ++k) L.set_weight(j, k, plain[j * fan_in + k]);
      INFO(units << " x " << fan_in);
      CHECK(got == want);
      bool same = true;
      for (std::size_t j = 0; j < units; ++j)
        for (std::size_t k = 0; k < fan_in; ++k) same = same && L.weight(j, k) == plain[j * fan_in + k];
      CHECK(same);
    }
}

TEST_CASE("quant: parameters follow the scheme", "[quant]") {
  const ModelSpec spec = mlp_spec(ActivationSpec::leaky_relu(0.25f));
  F32 f(spec, 3);
  const std::vector<float> cal = inputs(64, spec.input, 6, 0.f, 2.f);  // non-negative inputs: z = -128
  QuantOptions o;
  OwnedArena a(arena_bytes(spec, o));
  Result<QuantizedModel> qr = quantize(f.model, ConstMatrixView(cal.data(), 64, spec.input), o, a.arena);
  REQUIRE(qr.is_ok());
  const QuantizedModel& q = qr.value();
  CHECK(q.layer(0).in_zero_point == -128);
  CHECK(q.layer(0).in_scale <= 2.f / 255.f * 1.0001f);
  for (std::size_t l = 0; l < q.num_layers(); ++l) {
    const QuantizedLayer& L = q.layer(l);
    for (std::size_t j = 0; j < L.units; ++j) {
      int amax = 0;
      for (std::size_t k = 0; k < L.fan_in; ++k) amax = std::max(amax, std::abs(int{L.weight(j, k)}));
      CHECK(amax == 127);  // symmetric per-channel scale: each row's largest weight maps to 127
      if (l + 1 < q.num_layers()) {
        const double m = double(L.in_scale) * L.weight_scale[j] / L.out_scale;
        CHECK(std::fabs(std::ldexp(double(L.mult[j]), -L.shift[j]) - m) <= m * 1e-9);
        CHECK(L.mult[j] >= (1 << 30));
        // LeakyReLU: the negative side's multiplier is alpha times the positive one.
        CHECK(std::fabs(std::ldexp(double(L.mult_neg[j]), -L.shift_neg[j]) - 0.25 * m) <= m * 1e-9);
      }
    }
  }
}

TEST_CASE("quant: the percentile clip narrows a range an outlier stretches", "[quant]") {
  const ModelSpec spec = mlp_spec();
  F32 f(spec);
  std::vector<float> cal = inputs(200, spec.input, 8);
  cal[17] = 50.f;  // one outlier among 4000 input values
  QuantOptions mm, pc;
  pc.clip = ClipMethod::kPercentile;
  pc.percentile = 99.9;
  OwnedArena a1(arena_bytes(spec, mm)), a2(arena_bytes(spec, pc));
  Result<QuantizedModel> q1 = quantize(f.model, ConstMatrixView(cal.data(), 200, spec.input), mm, a1.arena);
  Result<QuantizedModel> q2 = quantize(f.model, ConstMatrixView(cal.data(), 200, spec.input), pc, a2.arena);
  REQUIRE(q1.is_ok());
  REQUIRE(q2.is_ok());
  CHECK(q1.value().layer(0).in_scale >= 51.f / 255.f * 0.999f);
  // [-1, 1] plus at most a histogram bin of 51 / 2048.
  CHECK(q2.value().layer(0).in_scale <= (2.f + 2 * 51.f / 2048.f) / 255.f * 1.001f);
}

TEST_CASE("quant: bad input gets a typed error and changes nothing", "[quant][bad-input]") {
  const ModelSpec spec = mlp_spec();
  F32 f(spec);
  std::vector<float> cal = inputs(10, spec.input, 9);
  QuantOptions o;
  OwnedArena a(arena_bytes(spec, o) + 4096);
  const auto expect = [&](const Model& m, ConstMatrixView c, const QuantOptions& opt, StatusCode code) {
    Result<QuantizedModel> q = quantize(m, c, opt, a.arena);
    REQUIRE_FALSE(q.is_ok());
    INFO(str(q.status()));
    CHECK(q.status().code() == code);
    CHECK(a.arena.used() == 0);
  };
  const ConstMatrixView good(cal.data(), 10, spec.input);
  expect(Model(), good, o, StatusCode::kFailedPrecondition);
  expect(f.model, ConstMatrixView(cal.data(), 10, spec.input - 1), o, StatusCode::kShapeMismatch);
  expect(f.model, ConstMatrixView(cal.data(), 0, spec.input), o, StatusCode::kInvalidArgument);
  QuantOptions bad = o;
  bad.clip = ClipMethod::kPercentile;
  bad.percentile = 40;
  expect(f.model, good, bad, StatusCode::kInvalidArgument);
  bad = o;
  bad.clip = ClipMethod::kPercentile;
  bad.histogram_bins = 8;
  expect(f.model, good, bad, StatusCode::kInvalidArgument);
  bad = o;
  bad.calibration_batch = 0;
  expect(f.model, good, bad, StatusCode::kInvalidArgument);
  bad = o;
  bad.max_batch = 0;
  expect(f.model, good, bad, StatusCode::kInvalidArgument);
  bad = o;
  bad.clip = static_cast<ClipMethod>(9);
  expect(f.model, good, bad, StatusCode::kInvalidArgument);
  cal[33] = std::nanf("");
  expect(f.model, good, o, StatusCode::kNonFinite);
  cal[33] = 0.f;
  // sigmoid and tanh have no int8 form.
  for (ActivationSpec act : {ActivationSpec::sigmoid(), ActivationSpec::tanh()}) {
    F32 g(mlp_spec(act));
    expect(g.model, good, o, StatusCode::kUnsupported);
  }
  // forward: wrong width, batch above max_batch, NaN, unbound.
  o.max_batch = 2;
  Result<QuantizedModel> qr = quantize(f.model, good, o, a.arena);
  REQUIRE(qr.is_ok());
  QuantizedModel q = std::move(qr).value();
  CHECK(q.forward(ConstMatrixView(cal.data(), 1, spec.input - 1)).status().code() == StatusCode::kShapeMismatch);
  CHECK(q.forward(ConstMatrixView(cal.data(), 3, spec.input)).status().code() == StatusCode::kShapeMismatch);
  cal[3] = INFINITY;
  CHECK(q.forward(ConstMatrixView(cal.data(), 1, spec.input)).status().code() == StatusCode::kNonFinite);
  CHECK(QuantizedModel().forward(good).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("quant: check_parameters refuses every out-of-scheme field", "[quant][bad-input]") {
  const ModelSpec spec = mlp_spec(ActivationSpec::relu());
  F32 f(spec);
  const std::vector<float> cal = inputs(32, spec.input, 10);
  QuantOptions o;
  OwnedArena a(arena_bytes(spec, o));
  Result<QuantizedModel> qr = quantize(f.model, ConstMatrixView(cal.data(), 32, spec.input), o, a.arena);
  REQUIRE(qr.is_ok());
  QuantizedModel q = std::move(qr).value();
  REQUIRE(q.check_parameters().is_ok());
  // `mutate` changes layer 0's descriptor, which is put back after the check; a change to the
  // arena data its views point at is undone by the caller.
  const auto corrupt = [&](auto&& mutate) {
    const QuantizedLayer before = q.layer(0);
    mutate(q);
    const Status s = q.check_parameters();
    q.mutable_layer(0) = before;
    INFO(str(s));
    CHECK(s.code() == StatusCode::kCorruptData);
  };
  QuantizedLayer& L0 = q.mutable_layer(0);
  const QuantizedLayer saved = L0;
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).in_scale = 0.f; });
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).in_scale = -1.f; });
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).in_scale = std::nanf(""); });
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).in_zero_point = 128; });
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).out_zero_point = -129; });
  corrupt([](QuantizedModel& m) { m.mutable_layer(0).out_lo = m.layer(0).out_zero_point + 1; });  // ReLU needs z_y
  L0 = saved;
  const std::int32_t shift = L0.shift[2];
  L0.shift[2] = 0;
  corrupt([](QuantizedModel&) {});
  L0.shift[2] = 63;
  corrupt([](QuantizedModel&) {});
  L0.shift[2] = shift;
  const std::int32_t mult = L0.mult[1];
  L0.mult[1] = -5;
  corrupt([](QuantizedModel&) {});
  L0.mult[1] = mult;
  const float ws = L0.weight_scale[4];
  L0.weight_scale[4] = INFINITY;
  corrupt([](QuantizedModel&) {});
  L0.weight_scale[4] = ws;
  const std::int8_t w = L0.weight(0, 7);
  L0.set_weight(0, 7, -128);
  corrupt([](QuantizedModel&) {});
  L0.set_weight(0, 7, static_cast<std::int8_t>(w == 127 ? 126 : w + 1));  // wsum disagrees
  corrupt([](QuantizedModel&) {});
  L0.set_weight(0, 7, w);
  const std::int32_t bias = L0.bias[0];
  L0.bias[0] = INT32_MAX;
  corrupt([](QuantizedModel&) {});
  L0.bias[0] = bias;
  CHECK(q.check_parameters().is_ok());
}
