// SPDX-License-Identifier: Apache-2.0
// The kernels and end-to-end steps of the 784-512-256-10 MLP (ReLU, ReLU, softmax CE), each run
// once to warm up, then R1 and R2 times between counting-plugin markers (insn_mark.h), so count.py can take one call's
// instructions as the difference of the two runs, set-up excluded. Run it under qemu with
// libfennec_insn_count.so; outside the plugin it just runs.
//
// stdout: `isa NAME`, then one `case NAME R1 R2 WORK UNIT` line per case, in the order its three
// markers execute (before R1, between, after R2); UNIT is `mac` (WORK multiply-accumulates a
// call) or `elem` (WORK elements a call, for memory-bound kernels). int8 multiply-accumulates
// count as MACs too: an int8 case's figure is instructions per int8 MAC.
//
// FENNEC_INSN_CASE=TEXT runs only the cases whose names contain TEXT (count.py wants them all):
// with the plugin's range= (one function's address range from nm), what one function executes
// within one case, e.g. a GEMM's micro-kernel against its packing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fennec/fennec.hpp"
#include "insn_mark.h"
#include "kernels/kernel_table.hpp"
#include "kernels/qpack.hpp"

namespace {

using fennec::kernels::GemmArgs;
using fennec::kernels::KernelTable;
using fennec::kernels::OptimStepArgs;
using fennec::kernels::QGemmArgs;

constexpr unsigned kR1 = 1, kR2 = 2;
constexpr std::size_t kWidths[] = {784, 512, 256, 10};
constexpr std::size_t kBatches[] = {1, 16, 64};
// Elementwise kernels run over this many floats: large enough that the per-call overhead is a
// small share, odd so every tail path runs.
constexpr std::size_t kElems = 16384 + 3;

// 64-byte aligned, filled with a fixed pattern in [-1, 1).
float* buffer(std::size_t n, unsigned seed) {
  float* p = static_cast<float*>(std::aligned_alloc(64, ((n ? n : 1) * sizeof(float) + 63) / 64 * 64));
  if (!p) std::abort();
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = static_cast<float>(s >> 8) * (2.f / 16777216.f) - 1.f;
  }
  return p;
}

// Runs fn R1 times and R2 times between markers, announcing the case first. One call before the
// markers takes the first-call costs (lazy symbol binding, first-touch paths) out of both runs.
template <class Fn>
void measure(const char* name, double work, const char* unit, Fn&& fn) {
  static const char* const only = std::getenv("FENNEC_INSN_CASE");
  if (only && !std::strstr(name, only)) return;
  std::printf("case %s %u %u %.0f %s\n", name, kR1, kR2, work, unit);
  std::fflush(stdout);
  fn();
  FENNEC_INSN_MARK();
  for (unsigned r = 0; r < kR1; ++r) fn();
  FENNEC_INSN_MARK();
  for (unsigned r = 0; r < kR2; ++r) fn();
  FENNEC_INSN_MARK();
}

void gemms(const KernelTable& t) {
  char name[96];
  for (std::size_t b : kBatches) {
    for (std::size_t l = 0; l + 1 < sizeof kWidths / sizeof kWidths[0]; ++l) {
      const std::size_t in = kWidths[l], out = kWidths[l + 1];
      const bool last = l + 2 == sizeof kWidths / sizeof kWidths[0];
      float* x = buffer(b * in, 1);
      float* w = buffer(out * in, 2);
      float* bias = buffer(out, 3);
      float* y = buffer(b * out, 4);
      float* dw = buffer(out * in, 5);
      float* dx = buffer(b * in, 6);
      const std::size_t scratch_floats = fennec::gemm_scratch_floats(b, out, in) > fennec::gemm_scratch_floats(out, in, b)
                                             ? fennec::gemm_scratch_floats(b, out, in)
                                             : fennec::gemm_scratch_floats(out, in, b);
      const std::size_t s_nn = fennec::gemm_scratch_floats(b, in, out);
      const std::size_t s_floats = scratch_floats > s_nn ? scratch_floats : s_nn;
      float* scratch = s_floats ? buffer(s_floats, 7) : nullptr;
      const double macs = static_cast<double>(b) * in * out;

      // Forward: Y = act(X W^T + bias), as a dense layer runs it.
      GemmArgs f;
      f.m = b, f.n = out, f.k = in, f.a = x, f.lda = in, f.b = w, f.ldb = in, f.c = y, f.ldc = out;
      f.bias = bias;
      f.act = last ? fennec::ActivationSpec::identity() : fennec::ActivationSpec::relu();
      f.scratch = scratch, f.scratch_floats = fennec::gemm_scratch_floats(b, out, in) ? s_floats : 0;
      std::snprintf(name, sizeof name, "gemm_nt_f32/fwd/%zu-%zu/b%zu", in, out, b);
      measure(name, macs, "mac", [&] { t.gemm_nt_f32(f); });

      // dW = dY^T X (dY is y here: the values do not change the instruction count).
      GemmArgs g;
      g.m = out, g.n = in, g.k = b, g.a = y, g.lda = out, g.b = x, g.ldb = in, g.c = dw, g.ldc = in;
      g.scratch = scratch, g.scratch_floats = fennec::gemm_scratch_floats(out, in, b) ? s_floats : 0;
      std::snprintf(name, sizeof name, "gemm_tn_f32/dW/%zu-%zu/b%zu", in, out, b);
      measure(name, macs, "mac", [&] { t.gemm_tn_f32(g); });

      // dX = dY W, for every layer but the first (no input gradient is needed there).
      if (l > 0) {
        GemmArgs d;
        d.m = b, d.n = in, d.k = out, d.a = y, d.lda = out, d.b = w, d.ldb = in, d.c = dx, d.ldc = in;
        d.scratch = scratch, d.scratch_floats = s_nn ? s_floats : 0;
        std::snprintf(name, sizeof name, "gemm_nn_f32/dX/%zu-%zu/b%zu", in, out, b);
        measure(name, macs, "mac", [&] { t.gemm_nn_f32(d); });
      }
      for (float* p : {x, w, bias, y, dw, dx, scratch}) std::free(p);
    }
  }
}

#if !defined(FENNEC_NO_INT8)
// int8 of a fixed pattern in [-lim, lim].
std::int8_t* bytes(std::size_t n, unsigned seed, int lim) {
  std::int8_t* p = static_cast<std::int8_t*>(std::aligned_alloc(64, ((n ? n : 1) + 63) / 64 * 64));
  if (!p) std::abort();
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = static_cast<std::int8_t>(static_cast<int>((s >> 8) % static_cast<std::uint32_t>(2 * lim + 1)) - lim);
  }
  return p;
}

// The int8 forward of each layer as QuantizedModel runs it: qgemv_s8 at batch 1, qgemm_nt_s8 at
// batch 64; hidden layers requantize to int8 (ReLU floor), the last dequantizes to f32. The
// weights are also packed (qpack_s8) where the build plans that layout, as the model holds them
// for a table that reads it (the dot-product NEON64 table); the others ignore wpack.
void qgemms(const KernelTable& t) {
  char name[96];
  for (std::size_t b : {std::size_t{1}, std::size_t{64}}) {
    for (std::size_t l = 0; l + 1 < sizeof kWidths / sizeof kWidths[0]; ++l) {
      const std::size_t in = kWidths[l], out = kWidths[l + 1];
      const bool last = l + 2 == sizeof kWidths / sizeof kWidths[0];
      std::int8_t* x = bytes(b * in, 41, 127);
      std::int8_t* w = bytes(out * in, 42, fennec::kQuantWeightMax);
      std::int8_t* y = bytes(b * out, 43, 1);
      float* yf = buffer(b * out, 44);
      float* deq = buffer(2 * out, 45);
      auto* ints = static_cast<std::int32_t*>(std::aligned_alloc(64, (6 * out * sizeof(std::int32_t) + 63) / 64 * 64));
      if (!ints) std::abort();
      std::int32_t* bias = ints;
      std::int32_t* wsum = ints + out;
      std::int32_t* mult = ints + 2 * out;
      std::int32_t* shift = ints + 3 * out;
      for (std::size_t j = 0; j < out; ++j) {
        std::int32_t s = 0;
        for (std::size_t p = 0; p < in; ++p) s += w[j * in + p];
        wsum[j] = s;
        bias[j] = static_cast<std::int32_t>(j * 37 % 2001) - 1000;
        mult[j] = 1518500250 + static_cast<std::int32_t>(j);
        shift[j] = 40;
      }
      std::uint8_t* wpack = nullptr;
      if (fennec::detail::kQPackPlanned) {
        wpack = static_cast<std::uint8_t*>(std::aligned_alloc(64, (fennec::detail::qpack_bytes(out, in) + 63) / 64 * 64));
        if (!wpack) std::abort();
        fennec::kernels::qpack_s8(w, in, out, in, wpack);
      }
      QGemmArgs g;
      g.m = b, g.n = out, g.k = in, g.x = x, g.ldx = in, g.w = w, g.ldw = in, g.wpack = wpack;
      g.bias = bias, g.wsum = wsum, g.mult = mult, g.shift = shift, g.mult_neg = mult, g.shift_neg = shift;
      if (last) {
        g.deq = deq, g.deq_neg = deq + out, g.yf = yf, g.ldyf = out;
      } else {
        g.out_zero_point = -128, g.out_lo = -128, g.y = y, g.ldy = out;
      }
      const fennec::kernels::QGemmFn fn = b == 1 ? t.qgemv_s8 : t.qgemm_nt_s8;
      std::snprintf(name, sizeof name, "%s/fwd/%zu-%zu/b%zu", b == 1 ? "qgemv_s8" : "qgemm_nt_s8", in, out, b);
      measure(name, static_cast<double>(b) * in * out, "mac", [&] { fn(g); });
      std::free(x), std::free(w), std::free(y), std::free(yf), std::free(deq), std::free(ints), std::free(wpack);
    }
  }
}
#endif

void optimizers(const KernelTable& t) {
  float* w = buffer(kElems, 11);
  float* g = buffer(kElems, 12);
  float* s1 = buffer(kElems, 13);
  float* s2 = buffer(kElems, 14);
  for (std::size_t i = 0; i < kElems; ++i) s2[i] = s2[i] * s2[i];  // second moments are >= 0
  OptimStepArgs o;
  o.n = kElems, o.w = w, o.g = g, o.s1 = s1, o.s2 = s2;
  o.lr = 1e-3f, o.momentum = 0.9f, o.rho = 0.9f, o.one_minus_rho = 0.1f, o.beta1 = 0.9f;
  o.one_minus_beta1 = 0.1f, o.beta2 = 0.999f, o.one_minus_beta2 = 0.001f, o.eps = 1e-8f;
  o.weight_decay = 0.f, o.decoupled_decay = 1.f, o.inv_bias_correction1 = 10.f, o.inv_bias_correction2 = 1000.f;
  const struct {
    const char* name;
    fennec::kernels::OptimStepFn fn;
  } steps[] = {{"sgd_step_f32", t.sgd_step_f32},         {"momentum_step_f32", t.momentum_step_f32},
               {"nesterov_step_f32", t.nesterov_step_f32}, {"adagrad_step_f32", t.adagrad_step_f32},
               {"rmsprop_step_f32", t.rmsprop_step_f32},   {"adam_step_f32", t.adam_step_f32},
               {"adamw_step_f32", t.adamw_step_f32}};
  char name[96];
  for (const auto& s : steps) {
    std::snprintf(name, sizeof name, "%s/n%zu", s.name, kElems);
    measure(name, kElems, "elem", [&] { s.fn(o); });
  }
  std::snprintf(name, sizeof name, "sum_squares_f32/n%zu", kElems);
  volatile double sink = 0;
  measure(name, kElems, "elem", [&] { sink = sink + t.sum_squares_f32(kElems, g); });
  std::snprintf(name, sizeof name, "scale_f32/n%zu", kElems);
  measure(name, kElems, "elem", [&] { t.scale_f32(kElems, w, 1.f); });
  std::snprintf(name, sizeof name, "clamp_f32/n%zu", kElems);
  measure(name, kElems, "elem", [&] { t.clamp_f32(kElems, g, -0.5f, 0.5f); });
  for (float* p : {w, g, s1, s2}) std::free(p);
}

void activations(const KernelTable& t) {
  // The 512-wide hidden layer at batch 64 (32768 elements).
  constexpr std::size_t m = 64, n = 512;
  float* y = buffer(m * n, 21);
  float* dy = buffer(m * n, 22);
  float* bias = buffer(n, 23);
  float* out = buffer(n, 24);
  char name[96];
  const struct {
    const char* name;
    fennec::ActivationSpec act;
  } acts[] = {{"relu", fennec::ActivationSpec::relu()},
              {"tanh", fennec::ActivationSpec::tanh()},
              {"sigmoid", fennec::ActivationSpec::sigmoid()}};
  for (const auto& a : acts) {
    std::snprintf(name, sizeof name, "bias_act_fwd_f32/%s/%zux%zu", a.name, m, n);
    measure(name, m * n, "elem", [&] { t.bias_act_fwd_f32(m, n, y, n, bias, a.act); });
    // act_bwd reads y as an activation output: keep it in the activation's range.
    std::snprintf(name, sizeof name, "act_bwd_f32/%s/%zux%zu", a.name, m, n);
    measure(name, m * n, "elem", [&] { t.act_bwd_f32(m, n, y, n, dy, n, a.act); });
  }
  std::snprintf(name, sizeof name, "col_sum_f32/%zux%zu", m, n);
  measure(name, m * n, "elem", [&] { t.col_sum_f32(m, n, dy, n, out); });
  for (float* p : {y, dy, bias, out}) std::free(p);
}

constexpr fennec::ModelSpec kSpec = fennec::ModelSpec(784)
                                        .dense(512, fennec::ActivationSpec::relu())
                                        .dense(256, fennec::ActivationSpec::relu())
                                        .dense(10, fennec::ActivationSpec::identity())
                                        .with_loss(fennec::Loss::kSoftmaxCrossEntropy);

double weight_macs(std::size_t batch) {
  double w = 0;
  for (std::size_t i = 0; i < kSpec.num_layers; ++i) w += static_cast<double>(kSpec.layers[i].units) * kSpec.fan_in(i);
  return w * batch;
}

struct Bound {
  void* bytes = nullptr;
  fennec::Model model;
};

bool bind(Bound& b, const fennec::ModelOptions& opts) {
  const std::size_t need = fennec::plan(kSpec, opts).total();
  b.bytes = std::aligned_alloc(64, (need + 63) / 64 * 64);
  fennec::Arena arena(b.bytes, need);
  fennec::Result<fennec::Model> m = fennec::Model::bind(kSpec, opts, arena);
  if (!m.is_ok()) return false;
  b.model = std::move(m).value();
  fennec::Rng rng(7);
  return b.model.init_parameters(rng).is_ok();
}

bool end_to_end() {
  char name[96];
  for (std::size_t batch : {std::size_t{1}, std::size_t{64}}) {
    Bound b;
    if (!bind(b, fennec::ModelOptions{fennec::Mode::kInference, batch, fennec::OptimizerKind::kSgd})) return false;
    float* x = buffer(batch * 784, 31);
    for (std::size_t i = 0; i < batch * 784; ++i) x[i] = 0.5f * (x[i] + 1.f);
    const fennec::ConstMatrixView xv(x, batch, 784);
    bool ok = true;
    std::snprintf(name, sizeof name, "infer/784-512-256-10/b%zu", batch);
    measure(name, weight_macs(batch), "mac", [&] { ok = ok && b.model.forward(xv).is_ok(); });
    std::free(x);
    std::free(b.bytes);
    if (!ok) return false;
  }
  for (std::size_t batch : {std::size_t{16}, std::size_t{64}}) {
    Bound b;
    if (!bind(b, fennec::ModelOptions{fennec::Mode::kTraining, batch, fennec::OptimizerKind::kAdam})) return false;
    fennec::TrainerConfig cfg;
    cfg.optimizer = fennec::OptimizerConfig::adam(1e-4f);
    cfg.clip.max_norm = 5.f;
    fennec::Result<fennec::Trainer> tr = fennec::Trainer::create(b.model, cfg);
    if (!tr.is_ok()) return false;
    float* x = buffer(batch * 784, 32);
    for (std::size_t i = 0; i < batch * 784; ++i) x[i] = 0.5f * (x[i] + 1.f);
    std::int32_t labels[64];
    for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int32_t>(i % 10);
    const fennec::ConstMatrixView xv(x, batch, 784);
    bool ok = true;
    // Forward, dW of every layer and dX of every layer but the first.
    const double macs = 3.0 * weight_macs(batch) - static_cast<double>(batch) * 784 * 512;
    std::snprintf(name, sizeof name, "train_step/adam/784-512-256-10/b%zu", batch);
    measure(name, macs, "mac",
            [&] { ok = ok && tr->step(xv, fennec::Targets::classes(labels)).is_ok(); });
    std::free(x);
    std::free(b.bytes);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int main() {
  const fennec::Isa isa = fennec::best_isa();
  const KernelTable* t = fennec::kernels::kernel_table_for(isa);
  if (!t) return 1;
  std::printf("isa %s\n", fennec::isa_name(isa));
  gemms(*t);
#if !defined(FENNEC_NO_INT8)
  qgemms(*t);
#endif
  optimizers(*t);
  activations(*t);
  if (!end_to_end()) {
    std::printf("error: end-to-end case failed\n");
    return 1;
  }
  return 0;
}
