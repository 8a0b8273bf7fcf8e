// SPDX-License-Identifier: Apache-2.0
// Memory-bound kernels: the fused optimizer updates over the 784-512-256-10 MLP's 535,818
// parameters (B/s and fraction of the L3-sized triad: the streams are 2.1 MB each), and the
// forward/backward activation kernels on a 64x512 layer output.
//   BM_<optimizer>_step_f32/<arch>/535818     BM_bias_act_fwd_f32/<arch>/<act>/64x512
//   BM_act_bwd_f32/<arch>/<act>/64x512        BM_sum_squares_f32/<arch>/535818
#include "bench_common.hpp"

namespace fennec_bench {
namespace {

constexpr std::size_t kParams = 535818;

struct Opt {
  const char* id;
  fennec::kernels::OptimStepFn fennec::kernels::KernelTable::*fn;
  int slots;
};
const Opt kOpts[] = {
    {"sgd_step_f32", &fennec::kernels::KernelTable::sgd_step_f32, 0},
    {"momentum_step_f32", &fennec::kernels::KernelTable::momentum_step_f32, 1},
    {"nesterov_step_f32", &fennec::kernels::KernelTable::nesterov_step_f32, 1},
    {"adagrad_step_f32", &fennec::kernels::KernelTable::adagrad_step_f32, 1},
    {"rmsprop_step_f32", &fennec::kernels::KernelTable::rmsprop_step_f32, 1},
    {"adam_step_f32", &fennec::kernels::KernelTable::adam_step_f32, 2},
    {"adamw_step_f32", &fennec::kernels::KernelTable::adamw_step_f32, 2},
};

void bm_optim(benchmark::State& st, const fennec::kernels::KernelTable* t, const Opt& opt) {
  const std::size_t n = kParams;
  Buffer w(n, 1), g(n, 2, -1e-3f, 1e-3f), s1(n, 3, 0.f, 1e-6f), s2(n, 4, 0.f, 1e-6f);
  fennec::kernels::OptimStepArgs a;
  a.n = n;
  a.w = w.data();
  a.g = g.data();
  a.s1 = opt.slots >= 1 ? s1.data() : nullptr;
  a.s2 = opt.slots >= 2 ? s2.data() : nullptr;
  a.lr = 1e-3f;
  a.momentum = 0.9f;
  a.rho = 0.99f;
  a.one_minus_rho = 0.01f;
  a.beta1 = 0.9f;
  a.one_minus_beta1 = 0.1f;
  a.beta2 = 0.999f;
  a.one_minus_beta2 = 0.001f;
  a.eps = 1e-8f;
  a.inv_bias_correction1 = 1.f / (1.f - 0.9f);
  a.inv_bias_correction2 = 1.f / (1.f - 0.999f);
  const auto fn = t->*opt.fn;
  for (auto _ : st) {
    fn(a);
    benchmark::ClobberMemory();
  }
  // Read w, g and the state; write w and the state.
  const double streams = 2.0 + 1.0 + 2.0 * opt.slots;
  byte_counters(st, streams * sizeof(float) * n, true);
}

}  // namespace

void register_kernels() {
  for (const Table& t : tables(true)) {
    const fennec::kernels::KernelTable* table = t.table;
    for (const Opt& opt : kOpts)
      benchmark::RegisterBenchmark(("BM_" + std::string(opt.id) + "/" + t.name + "/" + std::to_string(kParams)).c_str(),
                                   [table, &opt](benchmark::State& st) { bm_optim(st, table, opt); });
    benchmark::RegisterBenchmark(("BM_sum_squares_f32/" + t.name + "/" + std::to_string(kParams)).c_str(),
                                 [table](benchmark::State& st) {
                                   Buffer x(kParams, 5);
                                   double s = 0;
                                   for (auto _ : st) s += table->sum_squares_f32(kParams, x.data());
                                   benchmark::DoNotOptimize(s);
                                   byte_counters(st, sizeof(float) * kParams, true);
                                 });
    for (fennec::ActivationSpec act : {fennec::ActivationSpec::relu(), fennec::ActivationSpec::sigmoid(),
                                       fennec::ActivationSpec::tanh()}) {
      const std::string suffix = std::string(fennec::activation_name(act.kind)) + "/64x512";
      benchmark::RegisterBenchmark(("BM_bias_act_fwd_f32/" + t.name + "/" + suffix).c_str(),
                                   [table, act](benchmark::State& st) {
                                     Buffer y(64 * 512, 6, -4.f, 4.f), b(512, 7);
                                     for (auto _ : st) {
                                       table->bias_act_fwd_f32(64, 512, y.data(), 512, b.data(), act);
                                       benchmark::ClobberMemory();
                                     }
                                     byte_counters(st, 2.0 * sizeof(float) * 64 * 512, true);
                                   });
      benchmark::RegisterBenchmark(("BM_act_bwd_f32/" + t.name + "/" + suffix).c_str(),
                                   [table, act](benchmark::State& st) {
                                     Buffer y(64 * 512, 8, 0.f, 1.f), dy(64 * 512, 9);
                                     for (auto _ : st) {
                                       table->act_bwd_f32(64, 512, y.data(), 512, dy.data(), 512, act);
                                       benchmark::ClobberMemory();
                                     }
                                     byte_counters(st, 3.0 * sizeof(float) * 64 * 512, true);
                                   });
    }
  }
}

}  // namespace fennec_bench
