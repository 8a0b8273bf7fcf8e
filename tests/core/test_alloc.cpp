// SPDX-License-Identifier: Apache-2.0
// Zero heap allocations after bind. This binary links the shared allocation counter
// (common/alloc_counter.cpp: every form of operator new/delete and, on glibc without sanitizers,
// the malloc family, each call counted). The counter is proven to work by deliberate
// allocations; then Model::bind (every optimizer's training layout, inference, refused binds) and
// 100 training steps and 100 inferences (plus init, trainer creation and evaluation) must make
// zero calls.
//
// Under ASan/TSan the sanitizer owns malloc, so only operator new/delete are counted there.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/alloc_counter.hpp"
#include "test_util.hpp"

using namespace fennec;

namespace {
std::uint64_t allocs() { return fennec_tools::heap_calls(); }
// Escapes a pointer so the compiler cannot elide the allocation that produced it.
void* volatile g_sink = nullptr;
}  // namespace

TEST_CASE("alloc: the counter sees deliberate allocations", "[alloc]") {
  const std::uint64_t a0 = allocs();
  int* p = new int(7);
  g_sink = p;
  delete p;
  const std::uint64_t a1 = allocs();
  CHECK(a1 - a0 == 1);
  {
    std::vector<double> v(100, 1.0);
    g_sink = v.data();
  }
  const std::uint64_t a2 = allocs();
  CHECK(a2 - a1 == 1);
  if (fennec_tools::alloc_counting_covers_malloc()) {
    void* m = std::malloc(64);
    g_sink = m;
    std::free(m);
    CHECK(allocs() - a2 == 1);
  } else {
    WARN("malloc family not replaced in this build (sanitizer or non-glibc): counting new/delete only");
  }
}

TEST_CASE("alloc: Model::bind allocates nothing (every optimizer, inference, refused binds)", "[alloc]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .dense(24, ActivationSpec::tanh())
                             .dense(4, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  constexpr int kBinds = kOptimizerCount + 2;
  ModelOptions opts[kBinds];
  for (int k = 0; k < kOptimizerCount; ++k)
    opts[k] = ModelOptions{Mode::kTraining, 8, static_cast<OptimizerKind>(k), Isa::kAuto};
  opts[kOptimizerCount] = ModelOptions{Mode::kInference, 8, OptimizerKind::kSgd, Isa::kAuto};
  opts[kOptimizerCount + 1] = ModelOptions{Mode::kInference, 1, OptimizerKind::kSgd, Isa::kAuto};
  std::size_t bytes = 0;
  for (const ModelOptions& o : opts) bytes = std::max(bytes, plan(spec, o).total());
  // All test-side memory is obtained before counting starts.
  fennec_test::OwnedArena arena(bytes);
  fennec_test::OwnedArena short_arena(plan(spec, opts[0]).total() - 1);
  StatusCode codes[kBinds + 2];
  std::size_t used[kBinds];

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  for (int i = 0; i < kBinds; ++i) {
    arena.arena.reset();
    Result<Model> m = Model::bind(spec, opts[i], arena.arena);
    codes[i] = m.status().code();
    used[i] = arena.arena.used();
  }
  // Refused binds format their message without the heap too: an arena one byte short, batch 0.
  codes[kBinds] = Model::bind(spec, opts[0], short_arena.arena).status().code();
  arena.arena.reset();
  ModelOptions zero_batch = opts[0];
  zero_batch.max_batch = 0;
  codes[kBinds + 1] = Model::bind(spec, zero_batch, arena.arena).status().code();
  const std::uint64_t after = allocs();
  // ---- counting ends ----

  CHECK(after - before == 0);
  for (int i = 0; i < kBinds; ++i) {
    INFO("bind " << i);
    CHECK(codes[i] == StatusCode::kOk);
    CHECK(used[i] > 0);
  }
  CHECK(codes[kBinds] == StatusCode::kOutOfMemory);
  CHECK(codes[kBinds + 1] == StatusCode::kInvalidArgument);
}

TEST_CASE("alloc: no heap allocation after bind (100 steps, 100 inferences)", "[alloc]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .dense(24, ActivationSpec::tanh())
                             .dense(4, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 8;
  const ModelOptions train_opts{Mode::kTraining, batch, OptimizerKind::kAdam, Isa::kAuto};
  const ModelOptions infer_opts{Mode::kInference, batch, OptimizerKind::kSgd, Isa::kAuto};
  const ModelOptions infer1_opts{Mode::kInference, 1, OptimizerKind::kSgd, Isa::kAuto};
  const std::size_t bytes = plan(spec, train_opts).total() + plan(spec, infer_opts).total() +
                            plan(spec, infer1_opts).total();
  // All test-side memory is obtained before counting starts.
  fennec_test::OwnedArena arena(bytes);
  std::vector<float> x(batch * 16);
  std::vector<std::int32_t> y(batch);
  Rng data(2718);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(4));
  Status statuses[8];
  std::size_t failures = 0;
  double checksum = 0;

  Result<Model> train = Model::bind(spec, train_opts, arena.arena);
  Result<Model> infer = Model::bind(spec, infer_opts, arena.arena);
  Result<Model> infer1 = Model::bind(spec, infer1_opts, arena.arena);
  REQUIRE(train.is_ok());
  REQUIRE(infer.is_ok());
  REQUIRE(infer1.is_ok());

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  Rng rng(99);
  statuses[0] = train.value().init_parameters(rng);
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.01f);
  cfg.clip = ClipConfig{1.f, 5.f};
  Result<Trainer> tr = Trainer::create(train.value(), cfg);
  statuses[1] = tr.status();
  ConstMatrixView xv(x.data(), batch, 16);
  const Targets targets = Targets::classes(y.data());
  for (int i = 0; i < 100 && tr.is_ok(); ++i) {
    Result<StepStats> s = tr.value().step(xv, targets);
    if (!s.is_ok()) {
      ++failures;
      statuses[2] = s.status();
    }
    checksum += s.value().loss;
  }
  Result<EvalStats> ev = tr.value().evaluate(xv, targets);
  statuses[3] = ev.status();
  // A refused step (bad label) must not allocate either (the message is formatted inline).
  std::int32_t bad[8] = {0, 1, 2, 3, 4, 0, 0, 0};
  statuses[4] = tr.value().step(xv, Targets::classes(bad)).status();
  for (std::size_t i = 0; i < infer.value().parameters().size; ++i)
    infer.value().parameters()[i] = train.value().parameters()[i];
  for (std::size_t i = 0; i < infer1.value().parameters().size; ++i)
    infer1.value().parameters()[i] = train.value().parameters()[i];
  for (int i = 0; i < 100; ++i) {
    Result<ConstMatrixView> out = (i % 2 ? infer1.value() : infer.value())
                                      .forward(ConstMatrixView(x.data(), i % 2 ? 1 : batch, 16));
    if (!out.is_ok()) {
      ++failures;
      statuses[5] = out.status();
    } else {
      checksum += out.value()(0, 0);
    }
  }
  const std::uint64_t after = allocs();
  // ---- counting ends ----

  INFO("checksum " << checksum);
  CHECK(after - before == 0);
  CHECK(statuses[0].is_ok());
  CHECK(statuses[1].is_ok());
  CHECK(failures == 0);
  CHECK(statuses[3].is_ok());
  CHECK(statuses[4].code() == StatusCode::kInvalidArgument);
  CHECK(tr.value().step_count() == 100);
}

TEST_CASE("alloc: frozen layers and external parameters: bind, 50 steps, refusals, no heap", "[alloc][frozen]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .dense(24, ActivationSpec::tanh())
                             .dense(4, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 8;
  const ModelOptions frozen = ModelOptions::training(batch, OptimizerConfig::adam(0.01)).with_frozen_layers(2);
  const ModelOptions external = frozen.with_external_parameters();
  const ModelOptions in_place = ModelOptions::inference(batch).with_external_parameters();
  fennec_test::OwnedArena arena(plan(spec, frozen).total() + plan(spec, external).total() + plan(spec, in_place).total());
  std::vector<float> params(spec.num_parameters(), 0.05f), x(batch * 16);
  std::vector<std::int32_t> y(batch);
  Rng data(31);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(4));
  const ExternalParameters ext{params.data(), params.size() * sizeof(float)};
  const ExternalParameters misaligned{reinterpret_cast<const unsigned char*>(params.data()) + 1, ext.bytes};
  StatusCode codes[8] = {};
  std::size_t failures = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  Result<Model> a = Model::bind(spec, frozen, arena.arena);
  Result<Model> b = Model::bind(spec, external, arena.arena, ext);
  Result<Model> c = Model::bind(spec, in_place, arena.arena, ext);
  codes[0] = a.status().code();
  codes[1] = b.status().code();
  codes[2] = c.status().code();
  codes[3] = Model::bind(spec, in_place, arena.arena, misaligned).status().code();
  codes[4] = Model::bind(spec, in_place, arena.arena).status().code();
  if (a.is_ok() && b.is_ok() && c.is_ok()) {
    Rng rng(3);
    codes[5] = a.value().init_parameters(rng).code();
    Result<Trainer> ta = Trainer::create(a.value()), tb = Trainer::create(b.value());
    codes[6] = ta.is_ok() && tb.is_ok() ? StatusCode::kOk : StatusCode::kFailedPrecondition;
    const ConstMatrixView xv(x.data(), batch, 16);
    for (int i = 0; i < 50 && ta.is_ok() && tb.is_ok(); ++i) {
      failures += !ta.value().step(xv, Targets::classes(y.data())).is_ok();
      failures += !tb.value().step(xv, Targets::classes(y.data())).is_ok();
      failures += !c.value().forward(xv).is_ok();
    }
    MatrixView dx(x.data(), batch, 16);
    codes[7] = a.value().backward(xv, ConstMatrixView(x.data(), batch, 4), dx).code();
  }
  const std::uint64_t after = allocs();
  // ---- counting ends ----
  CHECK(after - before == 0);
  CHECK(codes[0] == StatusCode::kOk);
  CHECK(codes[1] == StatusCode::kOk);
  CHECK(codes[2] == StatusCode::kOk);
  CHECK(codes[3] == StatusCode::kInvalidArgument);
  CHECK(codes[4] == StatusCode::kInvalidArgument);
  CHECK(codes[5] == StatusCode::kOk);
  CHECK(codes[6] == StatusCode::kOk);
  CHECK(codes[7] == StatusCode::kFailedPrecondition);
  CHECK(failures == 0);
}

TEST_CASE("alloc: the fused update makes no heap allocation (bind, 50 steps)", "[alloc][fused]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .dense(4, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 8;
  const ModelOptions opts = ModelOptions::fused_training(batch, OptimizerConfig::adam(0.01), 5);
  fennec_test::OwnedArena arena(plan(spec, opts).total());
  std::vector<float> x(batch * 16);
  std::vector<std::int32_t> y(batch);
  Rng data(31);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(4));
  std::size_t failures = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  Result<Model> m = Model::bind(spec, opts, arena.arena);
  Rng rng(7);
  const Status init = m.is_ok() ? m.value().init_parameters(rng) : m.status();
  Result<Trainer> tr = m.is_ok() ? Trainer::create(m.value(), ClipConfig{0.f, 1.f}) : Result<Trainer>(m.status());
  for (int i = 0; i < 50 && tr.is_ok(); ++i)
    if (!tr.value().step(ConstMatrixView(x.data(), batch, 16), Targets::classes(y.data())).is_ok()) ++failures;
  // The refused configuration formats its message without the heap too.
  const Status refused = m.is_ok() ? Trainer::create(m.value(), ClipConfig{1.f, 0.f}).status() : m.status();
  const std::uint64_t after = allocs();
  // ---- counting ends ----

  CHECK(after - before == 0);
  REQUIRE(m.is_ok());
  CHECK(init.is_ok());
  REQUIRE(tr.is_ok());
  CHECK(failures == 0);
  CHECK(tr.value().step_count() == 50);
  CHECK(refused.code() == StatusCode::kUnsupported);
}

TEST_CASE("alloc: learning-rate schedules and early stopping make no heap allocation", "[alloc][schedule]") {
  const ModelSpec spec = ModelSpec(16).dense(32, ActivationSpec::relu()).dense(4, ActivationSpec::identity());
  const std::size_t batch = 8;
  const ModelOptions opts = ModelOptions::training(batch, OptimizerConfig::adam(0.01));
  fennec_test::OwnedArena arena(plan(spec, opts).total());
  std::vector<float> x(batch * 16);
  std::vector<std::int32_t> y(batch);
  Rng data(32);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(4));
  const ScheduleConfig schedules[] = {ScheduleConfig::step(3, 0.5).with_warmup(2), ScheduleConfig::exponential(4, 0.9),
                                      ScheduleConfig::cosine(20, 1e-4).with_warmup(5),
                                      ScheduleConfig::plateau(1, 0.5, MetricMode::kMin, 1e-5)};
  std::size_t failures = 0, steps = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  Result<Model> m = Model::bind(spec, opts, arena.arena);
  Rng rng(7);
  if (!m.is_ok() || !m.value().init_parameters(rng).is_ok()) ++failures;
  for (const ScheduleConfig& sc : schedules) {
    if (!m.is_ok()) break;
    TrainerConfig tc;
    tc.optimizer = OptimizerConfig::adam(0.01);
    tc.schedule = sc;
    Result<Trainer> tr = Trainer::create(m.value(), tc);
    Result<EarlyStopping> stop = EarlyStopping::create(3, MetricMode::kMin);
    if (!tr.is_ok() || !stop.is_ok()) {
      ++failures;
      continue;
    }
    for (int i = 0; i < 30; ++i) {
      if (!tr.value().step(ConstMatrixView(x.data(), batch, 16), Targets::classes(y.data())).is_ok()) ++failures;
      ++steps;
      if (i % 5 == 4) {
        const double metric = 1.0 + (i % 10);  // alternately worse: plateau reduces, patience counts
        if (!tr.value().observe_metric(metric).is_ok() || !stop.value().update(metric).is_ok()) ++failures;
      }
    }
  }
  // Refusals format their messages without the heap too.
  const Status refused = LrSchedule::create(ScheduleConfig::cosine(0), 0.1).status();
  const std::uint64_t after = allocs();
  // ---- counting ends ----

  CHECK(after - before == 0);
  CHECK(failures == 0);
  CHECK(steps == 120);
  CHECK(refused.code() == StatusCode::kInvalidArgument);
}

TEST_CASE("alloc: quantize and int8 inference allocate nothing (every table, refused calls)", "[alloc][quant]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .dense(24, ActivationSpec::leaky_relu(0.1f))
                             .dense(4, ActivationSpec::identity());
  const ModelOptions f32_opts = ModelOptions::inference(8);
  QuantOptions qo;
  qo.max_batch = 8;
  QuantOptions pct = qo;
  pct.clip = ClipMethod::kPercentile;
  const std::size_t qbytes = quantized_plan(spec, 8).total() + calibration_scratch_bytes(spec, pct);
  // All test-side memory is obtained before counting starts.
  fennec_test::OwnedArena f32_arena(plan(spec, f32_opts).total());
  fennec_test::OwnedArena arena(qbytes);
  fennec_test::OwnedArena short_arena(qbytes / 2);
  std::vector<float> x(64 * 16);
  Rng data(31);
  for (float& v : x) v = static_cast<float>(data.normal());
  Result<Model> f32 = Model::bind(spec, f32_opts, f32_arena.arena);
  REQUIRE(f32.is_ok());
  Rng init(5);
  REQUIRE(f32.value().init_parameters(init).is_ok());
  const Isa isas[] = {Isa::kRef, Isa::kAuto};
  StatusCode codes[6] = {};
  double checksum = 0;
  std::size_t failures = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  for (int i = 0; i < 2; ++i) {
    arena.arena.reset();
    QuantOptions o = i == 0 ? qo : pct;
    o.isa = isas[i];
    Result<QuantizedModel> q = quantize(f32.value(), ConstMatrixView(x.data(), 64, 16), o, arena.arena);
    codes[i] = q.status().code();
    if (!q.is_ok()) continue;
    for (int step = 0; step < 100; ++step) {
      const std::size_t rows = step % 2 ? 8 : 1;
      Result<ConstMatrixView> y = q.value().forward(ConstMatrixView(x.data() + (step % 8) * 16, rows, 16));
      if (!y.is_ok()) {
        ++failures;
        continue;
      }
      checksum += y.value()(0, 0);
    }
    // A refused forward formats its message without the heap too.
    codes[2 + i] = q.value().forward(ConstMatrixView(x.data(), 9, 16)).status().code();
  }
  codes[4] = quantize(f32.value(), ConstMatrixView(x.data(), 64, 16), qo, short_arena.arena).status().code();
  codes[5] = quantize(f32.value(), ConstMatrixView(x.data(), 64, 15), qo, arena.arena).status().code();
  const std::uint64_t after = allocs();
  // ---- counting ends ----

  CHECK(after - before == 0);
  CHECK(codes[0] == StatusCode::kOk);
  CHECK(codes[1] == StatusCode::kOk);
  CHECK(codes[2] == StatusCode::kShapeMismatch);
  CHECK(codes[3] == StatusCode::kShapeMismatch);
  CHECK(codes[4] == StatusCode::kOutOfMemory);
  CHECK(codes[5] == StatusCode::kShapeMismatch);
  CHECK(failures == 0);
  CHECK(std::isfinite(checksum));
}

TEST_CASE("alloc: batch norm and dropout make no heap allocation (bind, 50 steps, phases, inference)",
          "[alloc][layers]") {
  const ModelSpec spec = ModelSpec(16)
                             .dense(32, ActivationSpec::relu())
                             .batchnorm()
                             .dropout(0.2f)
                             .dense(24, ActivationSpec::tanh())
                             .batchnorm(1e-5f, 0.1f, false)
                             .dense(4, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 8;
  OptimizerConfig adamw = OptimizerConfig::adamw(0.01f);
  adamw.weight_decay = 0.01f;
  const ModelOptions train_opts = ModelOptions::training(batch, adamw);
  const ModelOptions infer_opts = ModelOptions::inference(batch);
  fennec_test::OwnedArena arena(plan(spec, train_opts).total() + plan(spec, infer_opts).total());
  std::vector<float> x(batch * 16);
  std::vector<std::int32_t> y(batch);
  Rng data(31);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(4));
  std::size_t failures = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  Result<Model> train = Model::bind(spec, train_opts, arena.arena);
  Result<Model> infer = Model::bind(spec, infer_opts, arena.arena);
  if (train.is_ok() && infer.is_ok()) {
    Rng rng(1);
    failures += !train.value().init_parameters(rng).is_ok();
    failures += !infer.value().init_parameters(rng).is_ok();
    Result<Trainer> tr = Trainer::create(train.value());
    const ConstMatrixView xv(x.data(), batch, 16);
    const Targets targets = Targets::classes(y.data());
    for (int i = 0; i < 50 && tr.is_ok(); ++i) failures += !tr.value().step(xv, targets).is_ok();
    failures += !tr.is_ok() || !tr.value().evaluate(xv, targets).is_ok();
    failures += !train.value().set_phase(Model::Phase::kEval).is_ok();
    failures += !train.value().forward(ConstMatrixView(x.data(), 1, 16)).is_ok();
    failures += !train.value().set_phase(Model::Phase::kTrain).is_ok();
    failures += !train.value().forward(xv).is_ok();
    failures += !train.value().backward(xv, train.value().output_gradient(batch)).is_ok();
    failures += train.value().forward(ConstMatrixView(x.data(), 1, 16)).is_ok();  // refused: 1 row
    for (int i = 0; i < 50; ++i) failures += !infer.value().forward(xv).is_ok();
  } else {
    ++failures;
  }
  const std::uint64_t after = allocs();
  // ---- counting ends ----
  CHECK(after - before == 0);
  CHECK(failures == 0);
}

TEST_CASE("alloc: 2 threads: training steps and inferences make zero heap calls", "[alloc][threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  // Wide enough that the GEMMs, the update and the norm's sum of squares split (checked below
  // through the pool's run count).
  const ModelSpec spec = ModelSpec(640)
                             .dense(160, ActivationSpec::relu())
                             .dense(128, ActivationSpec::tanh())
                             .dense(10, ActivationSpec::identity())
                             .with_loss(Loss::kSoftmaxCrossEntropy);
  const std::size_t batch = 48;
  const ModelOptions train_opts = ModelOptions::training(batch, OptimizerKind::kAdam).with_threads(2);
  const ModelOptions infer_opts = ModelOptions::inference(batch).with_threads(2);
  fennec_test::OwnedArena arena(plan(spec, train_opts).total() + plan(spec, infer_opts).total());
  std::vector<float> x(batch * spec.input);
  std::vector<std::int32_t> y(batch);
  Rng data(31);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (std::int32_t& v : y) v = static_cast<std::int32_t>(data.below(10));
  Result<Model> train = Model::bind(spec, train_opts, arena.arena);
  Result<Model> infer = Model::bind(spec, infer_opts, arena.arena);
  REQUIRE(train.is_ok());
  REQUIRE(infer.is_ok());
  // Setup: creating the threads is the C library's allocation, before counting starts.
  ThreadPool pool;
  REQUIRE(pool.start(2).is_ok());
  REQUIRE(train.value().set_thread_pool(&pool).is_ok());
  REQUIRE(infer.value().set_thread_pool(&pool).is_ok());
  Rng rng(5);
  REQUIRE(train.value().init_parameters(rng).is_ok());
  REQUIRE(infer.value().init_parameters(rng).is_ok());
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.01f);
  cfg.clip = ClipConfig{0.f, 5.f};
  Result<Trainer> tr = Trainer::create(train.value(), cfg);
  REQUIRE(tr.is_ok());
  const ConstMatrixView xv(x.data(), batch, spec.input);
  std::size_t failures = 0;

  const std::uint64_t before = allocs();
  // ---- nothing below may allocate (no Catch2 assertions until the count is taken) ----
  for (int i = 0; i < 20; ++i) {
    if (!tr.value().step(xv, Targets::classes(y.data())).is_ok()) ++failures;
    if (!infer.value().forward(xv).is_ok()) ++failures;
  }
  const std::uint64_t after = allocs();
  // ---- counting ends ----
  CHECK(after - before == 0);
  CHECK(failures == 0);
  CHECK(pool.runs() >= 20u * 9);  // a step: 5 split GEMMs, the update, the sum of squares; a forward: 2
}
