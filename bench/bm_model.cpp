// SPDX-License-Identifier: Apache-2.0
// End to end on the 784-512-256-10 MLP (ReLU, ReLU, softmax cross-entropy):
//   BM_train_step/<arch>/mlp784/<batch>  one Trainer::step with Adam (forward, loss, backward,
//                                        global-norm clip, update), batch 64 and 256
//   BM_train_step/<arch>/mlp784bn/64     the same step with batch norm and dropout 0.2 on both
//                                        hidden layers (its overhead over mlp784/64 is the
//                                        figure bench/README.md quotes; same FLOP count)
//   BM_infer/<arch>/mlp784/<batch>       Model::forward of an inference model, batch 1, 64 and 256
//   BM_infer_int8/<arch>/mlp784/<batch>  QuantizedModel::forward of the same He-initialised model
//                                        quantized (min/max) with 256 calibration rows, batch 1
//                                        and 64; FLOP/s counts its multiply-adds as 2 operations
// Each also runs on T threads (a ThreadPool; T = FENNEC_THREADS, default the machine's cores)
// when T > 1, named with the suffix /threads:T: the 1- and T-thread figures of one run.
// FLOP counters: 2*batch*weights for forward; a training step adds dW for every layer and dX
// for every layer but the first (154 MFLOP at batch 64). Fraction of the measured FMA peak.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "fennec/fennec.hpp"

namespace fennec_bench {
namespace {

constexpr fennec::ModelSpec kSpec = fennec::ModelSpec(784)
                                        .dense(512, fennec::ActivationSpec::relu())
                                        .dense(256, fennec::ActivationSpec::relu())
                                        .dense(10, fennec::ActivationSpec::identity())
                                        .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
constexpr fennec::ModelSpec kLayersSpec = fennec::ModelSpec(784)
                                              .dense(512, fennec::ActivationSpec::relu())
                                              .batchnorm()
                                              .dropout(0.2f)
                                              .dense(256, fennec::ActivationSpec::relu())
                                              .batchnorm()
                                              .dropout(0.2f)
                                              .dense(10, fennec::ActivationSpec::identity())
                                              .with_loss(fennec::Loss::kSoftmaxCrossEntropy);

double weight_flops(std::size_t batch) {
  double w = 0;
  for (std::size_t i = 0; i < kSpec.num_layers; ++i) w += static_cast<double>(kSpec.layers[i].units) * kSpec.fan_in(i);
  return 2.0 * w * batch;
}

struct Bound {
  Buffer bytes;
  fennec::Arena arena;
  fennec::Model model;
  fennec::ThreadPool pool;
};

bool bind(Bound& b, fennec::ModelOptions opts, unsigned threads, const fennec::ModelSpec& spec = kSpec) {
  opts.threads = threads;
  const std::size_t need = fennec::plan(spec, opts).total();
  b.bytes = Buffer(need / sizeof(float) + 1);
  b.arena = fennec::Arena(b.bytes.data(), need + sizeof(float));
  fennec::Result<fennec::Model> m = fennec::Model::bind(spec, opts, b.arena);
  if (!m.is_ok()) return false;
  b.model = std::move(m).value();
  if (threads > 1 && !(b.pool.start(threads).is_ok() && b.model.set_thread_pool(&b.pool).is_ok())) return false;
  fennec::Rng rng(7);
  return b.model.init_parameters(rng).is_ok();
}

void bm_train(benchmark::State& st, fennec::Isa isa, std::size_t batch, const fennec::ModelSpec& spec,
              unsigned threads) {
  Bound b;
  const fennec::ModelOptions opts{fennec::Mode::kTraining, batch, fennec::OptimizerKind::kAdam, isa};
  if (!bind(b, opts, threads, spec)) return st.SkipWithError("bind failed");
  fennec::TrainerConfig cfg;
  cfg.optimizer = fennec::OptimizerConfig::adam(1e-4f);
  cfg.clip.max_norm = 5.f;
  fennec::Result<fennec::Trainer> tr = fennec::Trainer::create(b.model, cfg);
  if (!tr.is_ok()) return st.SkipWithError("trainer failed");
  Buffer x(batch * 784, 11, 0.f, 1.f);
  std::vector<std::int32_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int32_t>(i % 10);
  const fennec::ConstMatrixView xv(x.data(), batch, 784);
  for (auto _ : st) {
    fennec::Result<fennec::StepStats> s = tr->step(xv, fennec::Targets::classes(labels.data()));
    if (!s.is_ok()) return st.SkipWithError(s.status().message());
    benchmark::DoNotOptimize(s->loss);
  }
  // Forward, dW and dX of every layer but the first (no input gradient is asked for): 154 MFLOP
  // at batch 64, 2 FLOP per multiply-add.
  flop_counters(st, 3.0 * weight_flops(batch) - 2.0 * batch * kSpec.input * kSpec.layers[0].units);
}

void bm_infer(benchmark::State& st, fennec::Isa isa, std::size_t batch, unsigned threads) {
  Bound b;
  const fennec::ModelOptions opts{fennec::Mode::kInference, batch, fennec::OptimizerKind::kSgd, isa};
  if (!bind(b, opts, threads)) return st.SkipWithError("bind failed");
  Buffer x(batch * 784, 12, 0.f, 1.f);
  const fennec::ConstMatrixView xv(x.data(), batch, 784);
  for (auto _ : st) {
    fennec::Result<fennec::ConstMatrixView> y = b.model.forward(xv);
    benchmark::DoNotOptimize(y->data);
    benchmark::ClobberMemory();
  }
  flop_counters(st, weight_flops(batch));
}

void bm_infer_int8(benchmark::State& st, fennec::Isa isa, std::size_t batch) {
  Bound b;
  const fennec::ModelOptions opts{fennec::Mode::kInference, 64, fennec::OptimizerKind::kSgd, fennec::Isa::kAuto};
  if (!bind(b, opts, 1)) return st.SkipWithError("bind failed");
  constexpr std::size_t kCalibration = 256;
  const Buffer cal(kCalibration * 784, 13, 0.f, 1.f);
  fennec::QuantOptions qo;
  qo.max_batch = batch;
  qo.isa = isa;
  const std::size_t need = fennec::quantized_plan(kSpec, batch).total() + fennec::calibration_scratch_bytes(kSpec, qo);
  std::vector<unsigned char> bytes(need + 64);
  fennec::Arena arena(bytes.data(), bytes.size());
  fennec::Result<fennec::QuantizedModel> q =
      fennec::quantize(b.model, fennec::ConstMatrixView(cal.data(), kCalibration, 784), qo, arena);
  if (!q.is_ok()) return st.SkipWithError(q.status().message());
  Buffer x(batch * 784, 12, 0.f, 1.f);
  const fennec::ConstMatrixView xv(x.data(), batch, 784);
  for (auto _ : st) {
    fennec::Result<fennec::ConstMatrixView> y = q->forward(xv);
    benchmark::DoNotOptimize(y->data);
    benchmark::ClobberMemory();
  }
  flop_counters(st, weight_flops(batch));
}

}  // namespace

void register_model() {
  const unsigned many = fennec::kBuildHasThreads ? bench_threads() : 1;
  for (const Table& t : tables(true)) {
    const fennec::Isa isa = t.isa;
    const unsigned counts[2] = {1, many};
    for (int c = 0; c < (many > 1 ? 2 : 1); ++c) {
      const unsigned threads = counts[c];
      const std::string suffix = threads > 1 ? "/threads:" + std::to_string(threads) : "";
      for (std::size_t batch : {64, 256})
        benchmark::RegisterBenchmark(
            ("BM_train_step/" + t.name + "/mlp784/" + std::to_string(batch) + suffix).c_str(),
            [isa, batch, threads](benchmark::State& st) { bm_train(st, isa, batch, kSpec, threads); })
            ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("BM_train_step/" + t.name + "/mlp784bn/64" + suffix).c_str(),
                                   [isa, threads](benchmark::State& st) { bm_train(st, isa, 64, kLayersSpec, threads); })
          ->Unit(benchmark::kMicrosecond);
      for (std::size_t batch : {1, 64, 256})
        benchmark::RegisterBenchmark(("BM_infer/" + t.name + "/mlp784/" + std::to_string(batch) + suffix).c_str(),
                                     [isa, batch, threads](benchmark::State& st) { bm_infer(st, isa, batch, threads); })
            ->Unit(benchmark::kMicrosecond);
    }
    for (std::size_t batch : {1, 64})
      benchmark::RegisterBenchmark(("BM_infer_int8/" + t.name + "/mlp784/" + std::to_string(batch)).c_str(),
                                   [isa, batch](benchmark::State& st) { bm_infer_int8(st, isa, batch); })
          ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace fennec_bench
