// SPDX-License-Identifier: Apache-2.0
// Kernel-count firmware for the Cortex-M4F (mps2-an386 under qemu-system-arm): the training
// kernels of a 196-64-32-10 MLP (ReLU, softmax CE, Adam) at batch 1 and 16, for the plain scalar
// reference ("plain/") and the Cortex-M4F GEMMs the reference table uses on this core ("m4/").
// Each case runs once to warm up, then R1 and R2 times between counting-plugin markers
// (bench/qemu/insn_mark.h): bench/qemu/count.py turns the plugin's snapshots into one call's
// instructions, FMA share and estimated cycles. `train_kernels/...` is every kernel of one
// training step in sequence (forward, activation backward, dW, bias gradient, dX, Adam).
//
// It also checks the Cortex-M4F GEMMs against the plain reference on these shapes and on odd
// ones (tails of every loop, strides, alpha/beta, bias and activation), and prints
// "N passed, N failed"; the exit code is the failure count.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fennec/activation.hpp"
#include "insn_mark.h"
#include "kernels/kernel_table.hpp"

namespace {

using fennec::ActivationSpec;
using fennec::kernels::GemmArgs;
using fennec::kernels::KernelTable;
using fennec::kernels::OptimStepArgs;
using fennec::kernels::QGemmArgs;
using std::size_t;

constexpr unsigned kR1 = 1, kR2 = 2;
constexpr size_t kWidths[] = {196, 64, 32, 10};
constexpr size_t kLayers = 3;
constexpr size_t kMaxBatch = 16;
constexpr size_t kParams = 196 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10;  // 15018

// Parameters, gradients and Adam's moments laid out layer by layer (W then b), activations per
// layer, and the two dY/dX buffers: static, nothing on the heap.
float g_params[kParams], g_grads[kParams], g_m[kParams], g_v[kParams];
float g_x[kMaxBatch * 196];
float g_act[kLayers][kMaxBatch * 64];
float g_d[2][kMaxBatch * 196];
float g_check[2][64 * 200];
float g_scratch_in[3][64 * 200];

std::uint32_t g_seed = 12345;
float next_uniform() {  // [-1, 1)
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) * (2.f / 16777216.f) - 1.f;
}
void fill(float* p, size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) p[i] = scale * next_uniform();
}

size_t weight_offset(size_t l) {
  size_t o = 0;
  for (size_t i = 0; i < l; ++i) o += kWidths[i] * kWidths[i + 1] + kWidths[i + 1];
  return o;
}

template <class Fn>
void measure(const char* name, unsigned long work, const char* unit, Fn&& fn) {
  std::printf("case %s %u %u %lu %s\n", name, kR1, kR2, work, unit);
  fn();
  FENNEC_INSN_MARK();
  for (unsigned r = 0; r < kR1; ++r) fn();
  FENNEC_INSN_MARK();
  for (unsigned r = 0; r < kR2; ++r) fn();
  FENNEC_INSN_MARK();
}

GemmArgs forward_args(size_t l, size_t batch) {
  GemmArgs g;
  const size_t in = kWidths[l], out = kWidths[l + 1];
  g.m = batch, g.n = out, g.k = in;
  g.a = l == 0 ? g_x : g_act[l - 1], g.lda = in;
  g.b = g_params + weight_offset(l), g.ldb = in;
  g.c = g_act[l], g.ldc = out;
  g.bias = g_params + weight_offset(l) + in * out;
  g.act = l + 1 == kLayers ? ActivationSpec::identity() : ActivationSpec::relu();
  return g;
}

GemmArgs dw_args(size_t l, size_t batch, const float* dy) {
  GemmArgs g;
  const size_t in = kWidths[l], out = kWidths[l + 1];
  g.m = out, g.n = in, g.k = batch;
  g.a = dy, g.lda = out;
  g.b = l == 0 ? g_x : g_act[l - 1], g.ldb = in;
  g.c = g_grads + weight_offset(l), g.ldc = in;
  return g;
}

GemmArgs dx_args(size_t l, size_t batch, const float* dy, float* dx) {
  GemmArgs g;
  const size_t in = kWidths[l], out = kWidths[l + 1];
  g.m = batch, g.n = in, g.k = out;
  g.a = dy, g.lda = out;
  g.b = g_params + weight_offset(l), g.ldb = in;
  g.c = dx, g.ldc = in;
  return g;
}

OptimStepArgs adam_args(size_t n) {
  OptimStepArgs o;
  o.n = n, o.w = g_params, o.g = g_grads, o.s1 = g_m, o.s2 = g_v;
  o.lr = 1e-3f, o.beta1 = 0.9f, o.one_minus_beta1 = 0.1f, o.beta2 = 0.999f, o.one_minus_beta2 = 0.001f;
  o.eps = 1e-8f, o.inv_bias_correction1 = 10.f, o.inv_bias_correction2 = 1000.f;
  return o;
}

// Every kernel of one training step (no loss: it is a few operations per output).
void train_kernels(const KernelTable& t, size_t batch) {
  for (size_t l = 0; l < kLayers; ++l) t.gemm_nt_f32(forward_args(l, batch));
  float* dy = g_d[0];
  for (size_t l = kLayers; l-- > 0;) {
    const size_t out = kWidths[l + 1];
    t.act_bwd_f32(batch, out, g_act[l], out, dy, out, forward_args(l, batch).act);
    t.gemm_tn_f32(dw_args(l, batch, dy));
    t.col_sum_f32(batch, out, dy, out, g_grads + weight_offset(l) + kWidths[l] * out);
    if (l > 0) {
      float* dx = dy == g_d[0] ? g_d[1] : g_d[0];
      t.gemm_nn_f32(dx_args(l, batch, dy, dx));
      dy = dx;
    }
  }
  t.adam_step_f32(adam_args(kParams));
}

void count_table(const KernelTable& t, const char* tag) {
  char name[96];
  for (size_t batch : {size_t{1}, kMaxBatch}) {
    for (size_t l = 0; l < kLayers; ++l) {
      const size_t in = kWidths[l], out = kWidths[l + 1];
      const unsigned long macs = static_cast<unsigned long>(batch * in * out);
      std::snprintf(name, sizeof name, "%s/gemm_nt_f32/fwd/%u-%u/b%u", tag, unsigned(in), unsigned(out), unsigned(batch));
      const GemmArgs f = forward_args(l, batch);
      measure(name, macs, "mac", [&] { t.gemm_nt_f32(f); });
      std::snprintf(name, sizeof name, "%s/gemm_tn_f32/dW/%u-%u/b%u", tag, unsigned(in), unsigned(out), unsigned(batch));
      const GemmArgs w = dw_args(l, batch, g_d[0]);
      measure(name, macs, "mac", [&] { t.gemm_tn_f32(w); });
      if (l > 0) {
        std::snprintf(name, sizeof name, "%s/gemm_nn_f32/dX/%u-%u/b%u", tag, unsigned(in), unsigned(out), unsigned(batch));
        const GemmArgs d = dx_args(l, batch, g_d[0], g_d[1]);
        measure(name, macs, "mac", [&] { t.gemm_nn_f32(d); });
      }
    }
  }
  std::snprintf(name, sizeof name, "%s/adam_step_f32/n%u", tag, unsigned(kParams));
  const OptimStepArgs o = adam_args(kParams);
  measure(name, kParams, "elem", [&] { t.adam_step_f32(o); });
  std::snprintf(name, sizeof name, "%s/bias_act_fwd_f32/relu/16x64", tag);
  measure(name, 16 * 64, "elem", [&] { t.bias_act_fwd_f32(16, 64, g_act[0], 64, g_params, ActivationSpec::relu()); });
  std::snprintf(name, sizeof name, "%s/act_bwd_f32/relu/16x64", tag);
  measure(name, 16 * 64, "elem", [&] { t.act_bwd_f32(16, 64, g_act[0], 64, g_d[0], 64, ActivationSpec::relu()); });
  // A training step's MACs: forward and dW of every layer, dX of every layer but the first.
  unsigned long step_macs = 0;
  for (size_t l = 0; l < kLayers; ++l) step_macs += (l > 0 ? 3 : 2) * kWidths[l] * kWidths[l + 1];
  std::snprintf(name, sizeof name, "%s/train_kernels/196-64-32-10/b%u", tag, unsigned(kMaxBatch));
  measure(name, step_macs * kMaxBatch, "mac", [&] { train_kernels(t, kMaxBatch); });
}

struct Report {
  int passed = 0, failed = 0;
};

// |got - want| <= 1e-5 + 1e-5 * sqrt(k) * sum|terms|: the products are the same, only the order
// of the sums (and one fused rounding per term) differs, so the error is bounded by the
// magnitude of the terms, not of the result.
void compare(Report& rep, const char* what, const float* got, const float* want, const float* mag, size_t m,
             size_t n, size_t ld, size_t k) {
  const float rtol = 1e-5f * std::sqrt(static_cast<float>(k ? k : 1));
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      const float g = got[i * ld + j], w = want[i * ld + j];
      const float d = g > w ? g - w : w - g;
      if (!(d <= 1e-5f + rtol * mag[i * ld + j])) {
        ++rep.failed;
        std::printf("FAIL %s at (%u, %u): got %ld, want %ld (1e-6 units)\n", what, unsigned(i), unsigned(j),
                    static_cast<long>(g * 1e6f), static_cast<long>(w * 1e6f));
        return;
      }
    }
  ++rep.passed;
}

// One GEMM form on one shape: the Cortex-M4F kernel against the plain reference, with C
// pre-filled (beta reads it) and a border beyond n (ld > n) that must stay untouched.
void check_gemm(Report& rep, int form, size_t m, size_t n, size_t k, float alpha, float beta, bool bias_act) {
  const KernelTable& m4 = fennec::kernels::ref_kernel_table();
  const KernelTable& plain = fennec::kernels::plain_ref_kernel_table();
  const size_t pad = 3;
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.alpha = alpha, g.beta = beta;
  float* a = g_scratch_in[0];
  float* b = g_scratch_in[1];
  float* bias = g_scratch_in[2];
  // form 0: nt, A m x k, B n x k; 1: nn, A m x k, B k x n; 2: tn, A k x m, B k x n.
  const size_t a_rows = form == 2 ? k : m, a_cols = form == 2 ? m : k;
  const size_t b_rows = form == 0 ? n : k, b_cols = form == 0 ? k : n;
  g.lda = a_cols + pad, g.ldb = b_cols + pad, g.ldc = n + pad;
  fill(a, a_rows * g.lda, 1.f);
  fill(b, b_rows * g.ldb, 1.f);
  fill(bias, n, 1.f);
  g.a = a, g.b = b;
  if (bias_act) g.bias = bias, g.act = ActivationSpec::tanh();
  fill(g_check[0], m * g.ldc, 1.f);
  for (size_t i = 0; i < m * g.ldc; ++i) g_check[1][i] = g_check[0][i];
  // Magnitude of the terms of each output (for the tolerance).
  static float mag[64 * 200];
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float s = 0.f;
      for (size_t p = 0; p < k; ++p) {
        const float av = form == 2 ? a[p * g.lda + i] : a[i * g.lda + p];
        const float bv = form == 0 ? b[j * g.ldb + p] : b[p * g.ldb + j];
        s += std::fabs(av * bv);
      }
      mag[i * g.ldc + j] = std::fabs(alpha) * s + std::fabs(beta * g_check[0][i * g.ldc + j]) + 1.f;
    }
  GemmArgs gm = g, gp = g;
  gm.c = g_check[0], gp.c = g_check[1];
  const KernelTable* tables[2] = {&m4, &plain};
  GemmArgs* args[2] = {&gm, &gp};
  for (int t = 0; t < 2; ++t) {
    const fennec::kernels::GemmFn fn =
        form == 0 ? tables[t]->gemm_nt_f32 : form == 1 ? tables[t]->gemm_nn_f32 : tables[t]->gemm_tn_f32;
    fn(*args[t]);
  }
  char what[64];
  std::snprintf(what, sizeof what, "%s m=%u n=%u k=%u", form == 0 ? "gemm_nt" : form == 1 ? "gemm_nn" : "gemm_tn",
                unsigned(m), unsigned(n), unsigned(k));
  compare(rep, what, g_check[0], g_check[1], mag, m, n, g.ldc, k);
  // The border columns (j >= n) are never written.
  bool border_ok = true;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = n; j < g.ldc; ++j) border_ok = border_ok && g_check[0][i * g.ldc + j] == g_check[1][i * g.ldc + j];
  if (border_ok) {
    ++rep.passed;
  } else {
    ++rep.failed;
    std::printf("FAIL %s: wrote beyond n\n", what);
  }
}

void check_kernels(Report& rep) {
  const KernelTable& m4 = fennec::kernels::ref_kernel_table();
  const KernelTable& plain = fennec::kernels::plain_ref_kernel_table();
  if (&m4 == &plain || m4.gemm_nt_f32 == plain.gemm_nt_f32) {
    ++rep.failed;
    std::printf("FAIL the reference table does not use the Cortex-M4F GEMMs\n");
  }
  const size_t sizes[] = {1, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  for (int form = 0; form < 3; ++form) {
    // The model's shapes, then every size against every loop's block (4 rows, 8 columns).
    for (size_t l = 0; l < kLayers; ++l)
      for (size_t batch : {size_t{1}, kMaxBatch}) {
        const size_t in = kWidths[l], out = kWidths[l + 1];
        if (form == 0) check_gemm(rep, 0, batch, out, in, 1.f, 0.f, false);
        if (form == 1) check_gemm(rep, 1, batch, in, out, 1.f, 0.f, false);
        if (form == 2 && in <= 200 - 3) check_gemm(rep, 2, out, in, batch, 1.f, 0.f, false);
      }
    for (size_t m : sizes)
      for (size_t n : sizes) {
        const size_t k = sizes[(m + 2 * n) % 10];
        check_gemm(rep, form, m, n, k, 1.f, 0.f, false);
      }
    check_gemm(rep, form, 9, 17, 19, 0.5f, 0.f, false);
    check_gemm(rep, form, 9, 17, 19, 1.f, 1.f, false);
    check_gemm(rep, form, 9, 17, 19, -2.f, 0.25f, true);
    check_gemm(rep, form, 5, 8, 0, 1.f, 0.5f, true);
    // The leftover tiles: two rows of W after the 4-row tiles (n = 10, 14), the two terms after
    // the groups of four (k = 10, 14), and batch 1's outer product (k = 1), plain and not.
    check_gemm(rep, form, 6, 10, 19, 1.f, 0.f, false);
    check_gemm(rep, form, 6, 10, 10, -2.f, 0.25f, true);
    check_gemm(rep, form, 5, 14, 14, 1.f, 1.f, false);
    check_gemm(rep, form, 7, 30, 1, 1.f, 0.f, false);
    check_gemm(rep, form, 7, 30, 1, 0.5f, 1.f, true);
    // The bias summed first (alpha 1, beta 0): sample pairs with the half block of 4 terms and a
    // last row of W alone, and an odd last sample in 5-row tiles.
    check_gemm(rep, form, 4, 9, 12, 1.f, 0.f, true);
    check_gemm(rep, form, 3, 10, 32, 1.f, 0.f, true);
  }
}


// int8: the SMLAD GEMM (qgemm_cortex_m4.cpp) against the plain loop (qgemm_scalar) on the
// layers of the example's 16-32-32-4 classifier and of 196-64-32-10, as a quantized model runs
// them: hidden layers requantized to int8 with a ReLU clamp, the last one dequantized to f32.
constexpr size_t kQMaxK = 260, kQMaxN = 68, kQMaxM = 17, kQPad = 3;
std::int8_t g_qx[kQMaxM * (kQMaxK + kQPad)];
std::int8_t g_qw[kQMaxN * (kQMaxK + kQPad)];
std::int32_t g_qchannel[6][kQMaxN];  // bias, wsum, mult, shift, mult_neg, shift_neg
float g_qdeq[2][kQMaxN];
std::int8_t g_qy[2][kQMaxM * (kQMaxN + kQPad)];
float g_qyf[2][kQMaxM * (kQMaxN + kQPad)];

std::int8_t next_s8(int lo, int hi) {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<std::int8_t>(lo + static_cast<int>((g_seed >> 8) % static_cast<std::uint32_t>(hi - lo + 1)));
}

// Random int8 data and channel parameters in the scheme's ranges (weights in [-127, 127],
// multipliers up to 2^31 - 1, shifts 32..39: the channel scales in [2^-9, 1/2) that quantize()
// turns into those shifts, so the counts see a real model's epilogue; check_qkernels adds the
// other shifts) for an (m x k) x (n x k) GEMM with row padding.
QGemmArgs qgemm_args(size_t m, size_t n, size_t k, bool requantize, size_t pad) {
  QGemmArgs g;
  g.m = m, g.n = n, g.k = k;
  g.x = g_qx, g.ldx = k + pad;
  g.w = g_qw, g.ldw = k + pad;
  for (size_t i = 0; i < m * g.ldx; ++i) g_qx[i] = next_s8(-128, 127);
  for (size_t i = 0; i < n * g.ldw; ++i) g_qw[i] = next_s8(-127, 127);
  for (size_t j = 0; j < n; ++j) {
    g_qchannel[0][j] = static_cast<std::int32_t>(g_seed % 20001u) - 10000;
    g_qchannel[2][j] = static_cast<std::int32_t>((g_seed = g_seed * 1664525u + 1013904223u) >> 1);
    g_qchannel[3][j] = 32 + static_cast<std::int32_t>(g_seed % 8u);
    g_qchannel[4][j] = g_qchannel[2][j] >> 3;
    g_qchannel[5][j] = g_qchannel[3][j];
    g_qdeq[0][j] = 1e-4f * (1.f + next_uniform());
    g_qdeq[1][j] = 0.f;
  }
  g.bias = g_qchannel[0], g.wsum = g_qchannel[1];
  g.mult = g_qchannel[2], g.shift = g_qchannel[3], g.mult_neg = g_qchannel[4], g.shift_neg = g_qchannel[5];
  g.out_zero_point = -128 + static_cast<std::int32_t>(g_seed % 64u), g.out_lo = g.out_zero_point;
  if (requantize) {
    g.y = g_qy[0], g.ldy = n + pad;
  } else {
    g.deq = g_qdeq[0], g.deq_neg = g_qdeq[1], g.yf = g_qyf[0], g.ldyf = n + pad;
  }
  return g;
}

// The SMLAD kernel and the plain loop write the same bytes, outputs and padding (filled alike
// beforehand, so a write past n shows). shift > 0: every channel takes that shift.
void check_qgemm(Report& rep, size_t m, size_t n, size_t k, bool requantize, size_t pad, std::int32_t shift = 0) {
  QGemmArgs g = qgemm_args(m, n, k, requantize, pad);
  if (shift > 0)
    for (size_t j = 0; j < n; ++j) g_qchannel[3][j] = g_qchannel[5][j] = shift;
  QGemmArgs gp = g;
  if (requantize) {
    gp.y = g_qy[1];
  } else {
    gp.yf = g_qyf[1];
  }
  const size_t rows = m * (n + pad);
  for (size_t i = 0; i < rows; ++i) g_qy[0][i] = g_qy[1][i] = next_s8(-128, 127), g_qyf[0][i] = g_qyf[1][i] = 7.f;
  fennec::kernels::ref_kernel_table().qgemm_nt_s8(g);
  fennec::kernels::plain_ref_kernel_table().qgemm_nt_s8(gp);
  const bool same = requantize ? std::memcmp(g_qy[0], g_qy[1], rows) == 0
                               : std::memcmp(g_qyf[0], g_qyf[1], rows * sizeof(float)) == 0;
  if (same) {
    ++rep.passed;
  } else {
    ++rep.failed;
    std::printf("FAIL qgemm_nt_s8 m=%u n=%u k=%u %s pad=%u shift=%d: not the bits of qgemm_scalar\n", unsigned(m),
                unsigned(n), unsigned(k), requantize ? "int8" : "f32", unsigned(pad), static_cast<int>(shift));
  }
}

void check_qkernels(Report& rep) {
  const KernelTable& m4 = fennec::kernels::ref_kernel_table();
  const KernelTable& plain = fennec::kernels::plain_ref_kernel_table();
  if (m4.qgemm_nt_s8 == plain.qgemm_nt_s8 || m4.qgemv_s8 == plain.qgemv_s8) {
    ++rep.failed;
    std::printf("FAIL the reference table does not use the Cortex-M4 int8 GEMM\n");
  }
  // Every k tail (k % 4) around the word loops, the packed kernel's 1-, 2- and 4-word steps, the
  // packed chunk (256 columns) and the sums kept across chunks past it; n around the 4-row
  // block; m on both sides of the packed kernel's threshold and row block.
  const size_t ks[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 20, 24, 28, 31, 32, 33, 127, 128, 129, 132, 196, 255, 256, 257, 260};
  const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 33, 64};
  const size_t ms[] = {1, 2, 3, 4, 5, 16, 17};
  unsigned c = 0;
  for (size_t k : ks)
    for (size_t n : ns) {
      const size_t m = ms[c % 7];
      check_qgemm(rep, m, n, k, c % 2 == 0, c % 3 == 0 ? 0 : c % 3 == 1 ? 1 : 3);
      ++c;
    }
  for (size_t m : ms) check_qgemm(rep, m, 10, 196, false, 1);
  // From 12 channels the packed kernel's row loop reads the first words of every row unpacked
  // once per call: all of them (k = 32, 64; m = 4 at k = 256), part (k = 196, 252 at m = 16 and
  // 17), each run's length around its loop's 8 words, with the n % 4 block after them.
  const size_t unpacked[][3] = {{16, 12, 32},  {16, 32, 64},  {4, 12, 256}, {16, 64, 196}, {17, 16, 196},
                                {16, 13, 252}, {5, 12, 60},   {17, 14, 36}, {16, 12, 100}, {6, 15, 124}};
  for (const auto& s : unpacked)
    for (unsigned v = 0; v < 4; ++v) check_qgemm(rep, s[0], s[1], s[2], v % 2 == 0, v < 2 ? 0 : 3);
  // The epilogue's two paths (shifts of 32 and more in 32-bit steps, the others in int64) at
  // their edges and the scheme's bounds, at both batch kernels, and (k % 4 == 0) in the packed
  // kernel's assembly row loop (shifts up to 55, its zero point in the rounding term).
  for (std::int32_t shift : {1, 2, 20, 30, 31, 32, 33, 34, 40, 55, 56, 61, 62}) {
    for (size_t m : {size_t{1}, size_t{16}}) check_qgemm(rep, m, 9, 33, true, 1, shift);
    check_qgemm(rep, 16, 9, 32, true, 1, shift);
    check_qgemm(rep, 16, 12, 196, true, 1, shift);
  }
}

struct QShape {
  const char* name;
  size_t widths[4];
};
constexpr QShape kQModels[] = {{"16-32-32-4", {16, 32, 32, 4}}, {"196-64-32-10", {196, 64, 32, 10}}};

void count_qtable(const KernelTable& t, const char* tag) {
  char name[96];
  for (const QShape& model : kQModels)
    for (size_t batch : {size_t{1}, kMaxBatch}) {
      const fennec::kernels::QGemmFn fn = batch == 1 ? t.qgemv_s8 : t.qgemm_nt_s8;
      const char* id = batch == 1 ? "qgemv_s8" : "qgemm_nt_s8";
      QGemmArgs layers[kLayers];
      unsigned long model_macs = 0;
      for (size_t l = 0; l < kLayers; ++l) {
        const size_t in = model.widths[l], out = model.widths[l + 1];
        layers[l] = qgemm_args(batch, out, in, l + 1 < kLayers, 0);
        const unsigned long macs = static_cast<unsigned long>(batch * in * out);
        model_macs += macs;
        std::snprintf(name, sizeof name, "%s/%s/fwd/%u-%u/b%u", tag, id, unsigned(in), unsigned(out), unsigned(batch));
        measure(name, macs, "mac", [&] { fn(layers[l]); });
      }
      std::snprintf(name, sizeof name, "%s/%s/model/%s/b%u", tag, id, model.name, unsigned(batch));
      measure(name, model_macs, "mac", [&] {
        for (const QGemmArgs& g : layers) fn(g);
      });
    }
}

}  // namespace

int main() {
  fill(g_params, kParams, 0.1f);
  fill(g_grads, kParams, 0.01f);
  fill(g_m, kParams, 0.01f);
  for (size_t i = 0; i < kParams; ++i) g_v[i] = 1e-4f * (1.f + next_uniform());
  for (size_t i = 0; i < kMaxBatch * 196; ++i) g_x[i] = 0.5f * (1.f + next_uniform());
  fill(g_d[0], kMaxBatch * 196, 0.1f);
  Report rep;
  check_kernels(rep);
  check_qkernels(rep);
  count_table(fennec::kernels::plain_ref_kernel_table(), "plain");
  count_table(fennec::kernels::ref_kernel_table(), "m4");
  count_qtable(fennec::kernels::plain_ref_kernel_table(), "plain");
  count_qtable(fennec::kernels::ref_kernel_table(), "m4");
  std::printf("fennec-m4-kernel-count: %d passed, %d failed\n", rep.passed, rep.failed);
  std::printf("%d passed, %d failed\n", rep.passed, rep.failed);
  return rep.failed;
}
