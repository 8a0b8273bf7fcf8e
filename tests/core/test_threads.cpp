// SPDX-License-Identifier: Apache-2.0
// ThreadPool, and models splitting their work across it: every task runs exactly once; a bad
// start or a pool larger than the plan is refused and changes nothing; training gives the same
// model file and optimizer state for 1 to 4 threads (any kernel table the run picks,
// FENNEC_ISA included), inference the same outputs at batch 64 and batch 1; and the split
// update and sum of squares equal their one-thread results bit for bit.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <unistd.h>

#include "core/parallel_gemm.hpp"
#include "core/parallel_ranges.hpp"
#include "fennec/io.hpp"
#include "fennec/stream.hpp"
#include "test_util.hpp"

using namespace fennec;

namespace {

struct Counts {
  std::atomic<int> runs[200];
};

void count_task(void* context, unsigned i) { static_cast<Counts*>(context)->runs[i].fetch_add(1); }

// Whether a GEMM of m x n x k (split along `extent`) is split on 2+ threads: the rule of
// core/parallel_gemm.hpp, restated so that the tests know how many runs to expect.
int splits(std::size_t m, std::size_t n, std::size_t k, std::size_t extent) {
  return double(m) * double(n) * double(k) >= detail::kGemmSplitMinMacs &&
         extent / detail::kGemmSplitQuantum >= 2;
}

// The split GEMMs of one training step (forward, then dW and dX of every layer but layer 0's
// dX) and of one forward.
int step_splits(const ModelSpec& spec, std::size_t batch) {
  int n = 0;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::size_t units = spec.layers[l].units, fan_in = spec.fan_in(l);
    n += splits(batch, units, fan_in, units);                // forward (NT, columns)
    n += splits(units, fan_in, batch, units);                // dW (TN, rows)
    if (l > 0) n += splits(batch, fan_in, units, fan_in);  // dX (NN, columns)
  }
  return n;
}
int forward_splits(const ModelSpec& spec, std::size_t batch) {
  int n = 0;
  for (std::size_t l = 0; l < spec.num_layers; ++l)
    n += splits(batch, spec.layers[l].units, spec.fan_in(l), spec.layers[l].units);
  return n;
}

// Wide enough that the hidden layers' GEMMs split (>= 2 units of 32 and over the multiply-add
// threshold: 5 of the 8 a step), with a 10-wide output layer whose GEMMs stay whole; 124,618
// parameters, so the update splits into up to 3 ranges and the norm is summed in 2 chunks.
ModelSpec wide_spec() {
  return ModelSpec(640)
      .dense(160, ActivationSpec::relu())
      .dense(128, ActivationSpec::tanh())
      .dense(10, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

// A model bound for `opts`, its GEMMs split across a pool of opts.threads threads, and its
// parameters drawn from `rng`.
struct PooledModel {
  fennec_test::OwnedArena arena;
  ThreadPool pool;
  Model model;

  PooledModel(const ModelSpec& spec, const ModelOptions& opts, Rng& rng) : arena(plan(spec, opts).total()) {
    Result<Model> bound = Model::bind(spec, opts, arena.arena);
    REQUIRE(bound.is_ok());
    model = std::move(bound).value();
    REQUIRE(pool.start(opts.threads).is_ok());
    REQUIRE(model.set_thread_pool(&pool).is_ok());
    REQUIRE(model.init_parameters(rng).is_ok());
  }
};

struct Trained {
  std::vector<unsigned char> model_file, parameters, state0, state1;
  unsigned long pool_runs = 0;
  unsigned long clipped_steps = 0;  // steps whose norm was over max_norm (scaled)
  std::size_t gradient_floats = 0;
};

// 50 Adam steps with global-norm clipping, from the same seed, on `threads` threads.
Trained train_with(unsigned threads) {
  constexpr std::size_t kBatch = 48;
  const ModelSpec spec = wide_spec();
  const ModelOptions opts = ModelOptions::training(kBatch, OptimizerKind::kAdam).with_threads(threads);
  Rng rng(4242);
  PooledModel m(spec, opts, rng);
  std::vector<float> x(kBatch * spec.input);
  std::vector<std::int32_t> y(kBatch);
  TrainerConfig cfg;
  cfg.optimizer = OptimizerConfig::adam(0.003f);
  cfg.clip = ClipConfig{0.f, 2.f};
  Result<Trainer> tr = Trainer::create(m.model, cfg);
  REQUIRE(tr.is_ok());
  unsigned long clipped = 0;
  for (int step = 0; step < 50; ++step) {
    for (float& v : x) v = static_cast<float>(rng.normal());
    for (std::int32_t& v : y) v = static_cast<std::int32_t>(rng.below(10));
    Result<StepStats> st = tr.value().step(ConstMatrixView(x.data(), kBatch, spec.input), Targets::classes(y.data()));
    REQUIRE(st.is_ok());
    clipped += st->grad_norm > cfg.clip.max_norm;
  }
  Trained t;
  t.model_file.resize(model_file_size(spec));
  MemoryWriter out(t.model_file.data(), t.model_file.size());
  ByteWriter w = out.writer();
  REQUIRE(save_model(m.model, w).is_ok());
  REQUIRE(out.size() == t.model_file.size());
  t.clipped_steps = clipped;
  t.gradient_floats = m.model.gradients().size;
  t.parameters = fennec_test::bytes_of(m.model.parameters());
  t.state0 = fennec_test::bytes_of(m.model.optimizer_state(0));
  t.state1 = fennec_test::bytes_of(m.model.optimizer_state(1));
  t.pool_runs = m.pool.runs();
  return t;
}

// Inference: a first layer wide enough that batch 1 splits too.
ModelSpec inference_spec() {
  return ModelSpec(640)
      .dense(512, ActivationSpec::relu())
      .dense(96, ActivationSpec::tanh())
      .dense(10, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

std::vector<unsigned char> infer_with(unsigned threads, std::size_t batch, unsigned long* split_gemms) {
  const ModelSpec spec = inference_spec();
  const ModelOptions opts = ModelOptions::inference(batch).with_threads(threads);
  Rng rng(77);
  PooledModel m(spec, opts, rng);
  std::vector<float> x(batch * spec.input);
  for (float& v : x) v = static_cast<float>(rng.normal());
  Result<ConstMatrixView> out = m.model.forward(ConstMatrixView(x.data(), batch, spec.input));
  REQUIRE(out.is_ok());
  *split_gemms = m.pool.runs();
  std::vector<unsigned char> bytes;
  for (std::size_t i = 0; i < out->rows; ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(out->row(i));
    bytes.insert(bytes.end(), p, p + out->cols * sizeof(float));
  }
  return bytes;
}

}  // namespace

TEST_CASE("threads: every task of a run runs exactly once, for any task count", "[threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  ThreadPool pool;
  CHECK(pool.threads() == 1);
  REQUIRE(pool.start(3).is_ok());
  CHECK(pool.threads() == 3);
  for (unsigned tasks : {0u, 1u, 2u, 3u, 7u, 200u}) {
    Counts c;
    for (auto& r : c.runs) r = 0;
    pool.run(tasks, &count_task, &c);
    for (unsigned i = 0; i < 200; ++i) {
      INFO("tasks " << tasks << ", task " << i);
      CHECK(c.runs[i].load() == (i < tasks ? 1 : 0));
    }
  }
}

TEST_CASE("threads: start refuses bad counts and a second start", "[threads]") {
  ThreadPool pool;
  CHECK(pool.start(0).code() == StatusCode::kInvalidArgument);
  CHECK(pool.start(kMaxThreads + 1).code() == StatusCode::kInvalidArgument);
  CHECK(pool.threads() == 1);
  if (!kBuildHasThreads) {
    CHECK(pool.start(2).code() == StatusCode::kUnsupported);
    return;
  }
  REQUIRE(pool.start(2).is_ok());
  const Status again = pool.start(2);
  CHECK(again.code() == StatusCode::kFailedPrecondition);
  CHECK(pool.threads() == 2);
}

TEST_CASE("threads: a pool larger than the model's plan is refused and changes nothing", "[threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  const ModelSpec spec = wide_spec();
  const ModelOptions opts = ModelOptions::inference(8).with_threads(2);
  fennec_test::OwnedArena arena(plan(spec, opts).total());
  Result<Model> m = Model::bind(spec, opts, arena.arena);
  REQUIRE(m.is_ok());
  ThreadPool three, two;
  REQUIRE(three.start(3).is_ok());
  REQUIRE(two.start(2).is_ok());
  REQUIRE(m.value().set_thread_pool(&two).is_ok());
  const Status s = m.value().set_thread_pool(&three);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(m.value().thread_pool() == &two);
  CHECK(m.value().set_thread_pool(nullptr).is_ok());
  CHECK(m.value().thread_pool() == nullptr);
}

TEST_CASE("threads: plan() reserves one GEMM packing block per thread", "[threads][plan]") {
  const ModelSpec spec = wide_spec();
  const ModelOptions one = ModelOptions::training(48, OptimizerKind::kAdam);
  const MemoryPlan p1 = plan(spec, one), p3 = plan(spec, one.with_threads(3));
  // (A build without threads plans one block whatever the count: validate refuses more.)
  const std::size_t blocks = kBuildHasThreads ? 3 : 1;
  CHECK(p3.scratch == blocks * p1.scratch);
  CHECK(p3.total() - p1.total() == (blocks - 1) * p1.scratch);
  CHECK(validate(one.with_threads(2)).is_ok());
  if (kBuildHasThreads) {
    CHECK(validate(one.with_threads(0)).code() == StatusCode::kInvalidArgument);
    CHECK(validate(one.with_threads(kMaxThreads + 1)).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("threads: 50 training steps give the same model file on 1 to 4 threads", "[threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  const ModelSpec spec = wide_spec();
  const Trained one = train_with(1);
  CHECK(one.pool_runs == 0);
  for (unsigned threads : {2u, 3u, 4u}) {
    INFO(threads << " threads");
    const Trained t = train_with(threads);
    // Not vacuous: the GEMMs large enough were split (5 of the 8 a step), and so were the
    // update and the norm's sum of squares (one run each a step), and the clipping scale on
    // the steps it ran.
    ThreadPool probe;
    REQUIRE(probe.start(threads).is_ok());
    REQUIRE(detail::range_count(&probe, t.gradient_floats) >= 2);
    REQUIRE(detail::sum_squares_chunk(t.gradient_floats) < t.gradient_floats);
    CHECK(step_splits(spec, 48) == 5);
    CHECK(t.clipped_steps == one.clipped_steps);
    CHECK(t.pool_runs == 50u * (step_splits(spec, 48) + 2) + t.clipped_steps);
    CHECK(t.model_file == one.model_file);
    CHECK(t.parameters == one.parameters);
    CHECK(t.state0 == one.state0);
    CHECK(t.state1 == one.state1);
  }
}

TEST_CASE("threads: inference gives the same bits on 1, 2 and 3 threads (batch 64 and 1)", "[threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  for (std::size_t batch : {std::size_t{64}, std::size_t{1}}) {
    unsigned long runs = 0;
    const std::vector<unsigned char> one = infer_with(1, batch, &runs);
    CHECK(runs == 0);
    CHECK(forward_splits(inference_spec(), batch) == (batch == 1 ? 1 : 2));
    for (unsigned threads : {2u, 3u}) {
      INFO("batch " << batch << ", " << threads << " threads");
      CHECK(infer_with(threads, batch, &runs) == one);
      CHECK(runs == static_cast<unsigned long>(forward_splits(inference_spec(), batch)));
    }
  }
}

TEST_CASE("threads: element-wise ranges cover every float once, starting at whole vectors", "[threads]") {
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    if (threads > 1 && !kBuildHasThreads) break;
    ThreadPool pool;
    REQUIRE(pool.start(threads).is_ok());
    for (std::size_t n : {std::size_t{100}, 2 * detail::kRangeMinFloats - 1, 2 * detail::kRangeMinFloats + 7,
                          std::size_t{200003}}) {
      INFO(threads << " threads, n " << n);
      std::vector<std::atomic<int>> seen(n);
      std::atomic<int> ranges{0}, misaligned{0};
      detail::for_each_range(&pool, n, [&](std::size_t begin, std::size_t end) {
        ranges.fetch_add(1);
        if (begin % detail::kRangeQuantum != 0) misaligned.fetch_add(1);
        for (std::size_t i = begin; i < end; ++i) seen[i].fetch_add(1);
      });
      CHECK(ranges.load() == static_cast<int>(detail::range_count(&pool, n)));
      CHECK(misaligned.load() == 0);
      int wrong = 0;
      for (const std::atomic<int>& c : seen) wrong += c.load() != 1;
      CHECK(wrong == 0);
    }
    // A pass long enough splits into one range a thread, up to n / kRangeMinFloats.
    CHECK(detail::range_count(&pool, 200003) == (threads < 6 ? threads : 6u));
    CHECK(detail::range_count(&pool, 2 * detail::kRangeMinFloats - 1) == 1u);
  }
}

namespace {

struct StackProbe {
  std::atomic<std::uintptr_t> local[4];
};

void note_stack(void* context, unsigned i) {
  int here = 0;
  static_cast<StackProbe*>(context)->local[i].store(reinterpret_cast<std::uintptr_t>(&here));
}

}  // namespace

TEST_CASE("threads: worker stacks from the arena", "[threads]") {
  if (!kBuildHasThreads) {
    WARN("this build has no threads (FENNEC_THREADS=OFF)");
    return;
  }
  constexpr std::size_t kStack = 256 * 1024;
  fennec_test::OwnedArena arena(ThreadPool::stack_arena_bytes(3, kStack));
  {
    ThreadPool pool;
    REQUIRE(pool.start(3, arena.arena, kStack).is_ok());
    CHECK(arena.arena.used() == ThreadPool::stack_arena_bytes(3, kStack));
    // Task i runs on thread i: the workers' (1 and 2) locals lie in the arena, the caller's not.
    StackProbe probe;
    pool.run(3, &note_stack, &probe);
    const std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(arena.aligned_base());
    const std::uintptr_t hi = lo + arena.arena.used();
    for (unsigned i = 1; i < 3; ++i) {
      INFO("worker " << i);
      CHECK(probe.local[i].load() >= lo);
      CHECK(probe.local[i].load() < hi);
    }
    CHECK((probe.local[0].load() < lo || probe.local[0].load() >= hi));
  }
  arena.arena.reset();

  // Refusals leave the arena as it was and the pool unstarted.
  ThreadPool pool;
  const long minimum = sysconf(_SC_THREAD_STACK_MIN);
  if (minimum > 1) {
    const Status small = pool.start(2, arena.arena, static_cast<std::size_t>(minimum) - 1);
    CHECK(small.code() == StatusCode::kInvalidArgument);
    CHECK(arena.arena.used() == 0);
  }
  fennec_test::OwnedArena tiny(kStack / 2);
  const Status short_arena = pool.start(3, tiny.arena, kStack);
  INFO(fennec_test::str(short_arena));
  CHECK(short_arena.code() == StatusCode::kOutOfMemory);
  CHECK(tiny.arena.used() == 0);
  CHECK(pool.threads() == 1);
  CHECK(pool.start(1, tiny.arena, kStack).is_ok());  // one thread: nothing taken
  CHECK(tiny.arena.used() == 0);
}
