// SPDX-License-Identifier: Apache-2.0
// Scalar reference kernels: the fallback on targets without SIMD and the oracle every SIMD
// table is tested against. Written loop-blocked so they are usable, not just correct.
#include <cmath>
#include <cstddef>

#include "kernels/arch_tables.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/quantize_scalar.hpp"
#include "kernels/requant.hpp"
#if defined(FENNEC_CORTEX_M4_KERNELS)
#include "kernels/cortex_m4/gemm_cortex_m4.hpp"
#if !defined(FENNEC_NO_INT8)
#include "kernels/cortex_m4/qgemm_cortex_m4.hpp"
#endif
#endif

namespace fennec::kernels {

// The reference kernels, each named by its id in kernel_list.def (the table is expanded from
// the registry below, so a row without a ref::<id> fails to compile). Internal linkage: an
// inference-only build leaves the training rows out of its table, and the compiler then drops
// their code.
namespace ref {
namespace {

using std::size_t;

void bias_act_fwd_f32(size_t m, size_t n, float* y, size_t ldy, const float* bias, ActivationSpec act) {
  for (size_t i = 0; i < m; ++i) {
    float* row = y + i * ldy;
    if (bias)
      for (size_t j = 0; j < n; ++j) row[j] += bias[j];
    // ReLU written out as activate() computes it: no call per element for the common layer
    // (on a Cortex-M4 at -Os the call made it 29 instructions an element).
    if (act.kind == Activation::kRelu)
      for (size_t j = 0; j < n; ++j) row[j] = row[j] > 0.f ? row[j] : 0.f;
    else if (act.kind != Activation::kIdentity)
      for (size_t j = 0; j < n; ++j) row[j] = activate(act, row[j]);
  }
}

void epilogue(const GemmArgs& g) {
  if (g.bias || g.act.kind != Activation::kIdentity) bias_act_fwd_f32(g.m, g.n, g.c, g.ldc, g.bias, g.act);
}

// C = A * B^T: 4x4 blocks of dot products along the contiguous k of both operands.
void gemm_nt_f32(const GemmArgs& g) {
  constexpr size_t kB = 4;
  for (size_t i0 = 0; i0 < g.m; i0 += kB) {
    const size_t ib = g.m - i0 < kB ? g.m - i0 : kB;
    for (size_t j0 = 0; j0 < g.n; j0 += kB) {
      const size_t jb = g.n - j0 < kB ? g.n - j0 : kB;
      float acc[kB][kB] = {};
      for (size_t p = 0; p < g.k; ++p) {
        for (size_t i = 0; i < ib; ++i) {
          const float a = g.a[(i0 + i) * g.lda + p];
          for (size_t j = 0; j < jb; ++j) acc[i][j] += a * g.b[(j0 + j) * g.ldb + p];
        }
      }
      for (size_t i = 0; i < ib; ++i) {
        float* c = g.c + (i0 + i) * g.ldc + j0;
        for (size_t j = 0; j < jb; ++j)
          c[j] = g.alpha * acc[i][j] + (g.beta == 0.f ? 0.f : g.beta * c[j]);
      }
    }
  }
  epilogue(g);
}

// C = beta * C, with beta == 0 writing zeros (C is not read, it may hold NaN).
void scale_c(const GemmArgs& g) {
  for (size_t i = 0; i < g.m; ++i) {
    float* c = g.c + i * g.ldc;
    if (g.beta == 0.f) {
      for (size_t j = 0; j < g.n; ++j) c[j] = 0.f;
    } else if (g.beta != 1.f) {
      for (size_t j = 0; j < g.n; ++j) c[j] *= g.beta;
    }
  }
}

// C += alpha * A * B as rank-1 row updates, k blocked so a block of B rows stays in cache.
void gemm_nn_f32(const GemmArgs& g) {
  scale_c(g);
  constexpr size_t kKc = 128;
  for (size_t p0 = 0; p0 < g.k; p0 += kKc) {
    const size_t pe = g.k - p0 < kKc ? g.k : p0 + kKc;
    for (size_t i = 0; i < g.m; ++i) {
      float* c = g.c + i * g.ldc;
      for (size_t p = p0; p < pe; ++p) {
        const float a = g.alpha * g.a[i * g.lda + p];
        const float* b = g.b + p * g.ldb;
        for (size_t j = 0; j < g.n; ++j) c[j] += a * b[j];
      }
    }
  }
  epilogue(g);
}

// C += alpha * A^T * B (A is k x m): row p of A and row p of B form a rank-1 update.
void gemm_tn_f32(const GemmArgs& g) {
  scale_c(g);
  constexpr size_t kMc = 64;
  for (size_t i0 = 0; i0 < g.m; i0 += kMc) {
    const size_t ie = g.m - i0 < kMc ? g.m : i0 + kMc;
    for (size_t p = 0; p < g.k; ++p) {
      const float* a = g.a + p * g.lda;
      const float* b = g.b + p * g.ldb;
      for (size_t i = i0; i < ie; ++i) {
        const float ai = g.alpha * a[i];
        float* c = g.c + i * g.ldc;
        for (size_t j = 0; j < g.n; ++j) c[j] += ai * b[j];
      }
    }
  }
  epilogue(g);
}

void act_bwd_f32(size_t m, size_t n, const float* y, size_t ldy, float* dy, size_t lddy, ActivationSpec act) {
  if (act.kind == Activation::kIdentity) return;
  for (size_t i = 0; i < m; ++i) {
    const float* yr = y + i * ldy;
    float* dr = dy + i * lddy;
    // ReLU's derivative as activation_derivative_from_output() computes it, without the call.
    if (act.kind == Activation::kRelu) {
      for (size_t j = 0; j < n; ++j) dr[j] *= yr[j] > 0.f ? 1.f : 0.f;
      continue;
    }
    for (size_t j = 0; j < n; ++j) dr[j] *= activation_derivative_from_output(act, yr[j]);
  }
}

void col_sum_f32(size_t m, size_t n, const float* a, size_t lda, float* out) {
  for (size_t j = 0; j < n; ++j) out[j] = 0.f;
  for (size_t i = 0; i < m; ++i) {
    const float* r = a + i * lda;
    for (size_t j = 0; j < n; ++j) out[j] += r[j];
  }
}

double sum_squares_f32(size_t n, const float* x) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

void scale_f32(size_t n, float* x, float s) {
  for (size_t i = 0; i < n; ++i) x[i] *= s;
}

void clamp_f32(size_t n, float* x, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) {
    // Comparisons are false for NaN, so NaN passes through unchanged.
    if (x[i] < lo) x[i] = lo;
    if (x[i] > hi) x[i] = hi;
  }
}

void bn_stats_f32(size_t m, size_t n, const float* x, size_t ldx, float* mean, float* var) {
  const float inv_m = 1.f / static_cast<float>(m);
  for (size_t j = 0; j < n; ++j) {
    float s = 0.f;
    for (size_t i = 0; i < m; ++i) s += x[i * ldx + j];
    const float mu = s * inv_m;
    float q = 0.f;
    for (size_t i = 0; i < m; ++i) {
      const float d = x[i * ldx + j] - mu;
      q += d * d;
    }
    mean[j] = mu;
    var[j] = q * inv_m;
  }
}

void bn_fwd_f32(const BnFwdArgs& a) {
  for (size_t i = 0; i < a.m; ++i)
    for (size_t j = 0; j < a.n; ++j) {
      const float xh = (a.x[i * a.ldx + j] - a.mean[j]) * a.inv_std[j];
      if (a.xhat) a.xhat[i * a.ldxhat + j] = xh;
      a.y[i * a.ldy + j] = a.gamma[j] * xh + a.beta[j];
    }
}

void bn_bwd_f32(const BnBwdArgs& a) {
  const float fm = static_cast<float>(a.m), inv_m = 1.f / fm;
  for (size_t j = 0; j < a.n; ++j) {
    float db = 0.f, dg = 0.f;
    for (size_t i = 0; i < a.m; ++i) {
      db += a.dy[i * a.lddy + j];
      dg += a.dy[i * a.lddy + j] * a.xhat[i * a.ldxhat + j];
    }
    a.dbeta[j] = db;
    a.dgamma[j] = dg;
    const float k = a.gamma[j] * a.inv_std[j] * inv_m;
    for (size_t i = 0; i < a.m; ++i)
      a.dx[i * a.lddx + j] = k * (fm * a.dy[i * a.lddy + j] - db - a.xhat[i * a.ldxhat + j] * dg);
  }
}

void dropout_f32(size_t m, size_t n, const float* x, size_t ldx, const unsigned char* mask, size_t ldmask,
                 float scale, float* y, size_t ldy) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) y[i * ldy + j] = mask[i * ldmask + j] ? x[i * ldx + j] * scale : 0.f;
}

void sgd_step_f32(const OptimStepArgs& o) {
  for (size_t i = 0; i < o.n; ++i) {
    const float g = o.g[i] + o.weight_decay * o.w[i];
    o.w[i] -= o.lr * g;
  }
}

void momentum_step_f32(const OptimStepArgs& o) {
  for (size_t i = 0; i < o.n; ++i) {
    const float g = o.g[i] + o.weight_decay * o.w[i];
    const float v = o.momentum * o.s1[i] + g;
    o.s1[i] = v;
    o.w[i] -= o.lr * v;
  }
}

void nesterov_step_f32(const OptimStepArgs& o) {
  for (size_t i = 0; i < o.n; ++i) {
    const float g = o.g[i] + o.weight_decay * o.w[i];
    const float v = o.momentum * o.s1[i] + g;
    o.s1[i] = v;
    o.w[i] -= o.lr * (g + o.momentum * v);
  }
}

void adagrad_step_f32(const OptimStepArgs& o) {
  for (size_t i = 0; i < o.n; ++i) {
    const float g = o.g[i] + o.weight_decay * o.w[i];
    const float r = o.s1[i] + g * g;
    o.s1[i] = r;
    o.w[i] -= o.lr * g / (std::sqrt(r) + o.eps);
  }
}

void rmsprop_step_f32(const OptimStepArgs& o) {
  for (size_t i = 0; i < o.n; ++i) {
    const float g = o.g[i] + o.weight_decay * o.w[i];
    const float r = o.rho * o.s1[i] + o.one_minus_rho * g * g;
    o.s1[i] = r;
    o.w[i] -= o.lr * g / (std::sqrt(r) + o.eps);
  }
}

// Shared by adam (L2 folded into g) and adamw (decay applied to w directly). The arguments are
// read into locals once: the stores to w and the moments are floats, so the compiler could not
// otherwise keep OptimStepArgs' float members in registers (at -Os on a Cortex-M4 it reloaded
// them and called this per element: 66 instructions an element, 35 with them hoisted).
struct AdamConstants {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, inv_bc1, inv_bc2, lr, eps;
  explicit AdamConstants(const OptimStepArgs& o)
      : beta1(o.beta1), one_minus_beta1(o.one_minus_beta1), beta2(o.beta2), one_minus_beta2(o.one_minus_beta2),
        inv_bc1(o.inv_bias_correction1), inv_bc2(o.inv_bias_correction2), lr(o.lr), eps(o.eps) {}
};

inline __attribute__((always_inline)) float adam_update(const AdamConstants& k, float* s1, float* s2, float w,
                                                        float g) {
  const float m = k.beta1 * *s1 + k.one_minus_beta1 * g;
  const float v = k.beta2 * *s2 + k.one_minus_beta2 * g * g;
  *s1 = m;
  *s2 = v;
  const float m_hat = m * k.inv_bc1;
  const float v_hat = v * k.inv_bc2;
  return w - k.lr * m_hat / (std::sqrt(v_hat) + k.eps);
}

void adam_step_f32(const OptimStepArgs& o) {
  const AdamConstants k(o);
  const float wd = o.weight_decay;
  float* w = o.w;
  const float* g = o.g;
  float* s1 = o.s1;
  float* s2 = o.s2;
  for (size_t i = 0, n = o.n; i < n; ++i) w[i] = adam_update(k, s1 + i, s2 + i, w[i], g[i] + wd * w[i]);
}

void adamw_step_f32(const OptimStepArgs& o) {
  const AdamConstants k(o);
  const float decay = o.decoupled_decay;
  float* w = o.w;
  const float* g = o.g;
  float* s1 = o.s1;
  float* s2 = o.s2;
  for (size_t i = 0, n = o.n; i < n; ++i) w[i] = adam_update(k, s1 + i, s2 + i, w[i] * decay, g[i]);
}

// int8 GEMM: one exact int32 dot product per output, then the shared epilogue (requant.hpp).
void qgemm_nt_s8(const QGemmArgs& g) { qgemm_scalar(g); }

// The batch-1 form has the same definition (SIMD tables specialise it).
void qgemv_s8(const QGemmArgs& g) { qgemm_nt_s8(g); }

// int8 input quantization, element by element (quantize_scalar.hpp).
bool quantize_s8(const QuantizeArgs& a) { return quantize_scalar(a); }

}  // namespace
}  // namespace ref

namespace {

// plain: the reference loops for every kernel. Otherwise, on Cortex-M4F builds with
// FENNEC_CORTEX_M4_KERNELS, the GEMMs are the ones specialised for that core (the reference
// table is the only one such a target has); the plain table stays the oracle they are tested
// against.
constexpr KernelTable make_ref_table(bool plain) {
  KernelTable t;
  t.isa = Isa::kRef;
#define FENNEC_KERNEL(id, Fn, scope) t.id = row_in_build(RowScope::scope) ? &ref::id : nullptr;
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL
#if defined(FENNEC_CORTEX_M4_KERNELS)
  if (!plain) {
    t.gemm_nt_f32 = cortex_m4::gemm_nt;
#if !defined(FENNEC_INFERENCE_ONLY)
    t.gemm_nn_f32 = cortex_m4::gemm_nn;
    t.gemm_tn_f32 = cortex_m4::gemm_tn;
#endif
#if !defined(FENNEC_NO_INT8)
    t.qgemv_s8 = cortex_m4::qgemm_nt_s8;
    t.qgemm_nt_s8 = cortex_m4::qgemm_nt_s8;
#endif
  }
#else
  (void)plain;
#endif
  return t;
}

#if defined(FENNEC_CORTEX_M4_KERNELS)
constexpr KernelTable kPlainRefTable = make_ref_table(true);
#endif

}  // namespace

// isa_list.def's table for `ref` (declared extern in arch_tables.hpp).
constexpr KernelTable reference_kernel_table = make_ref_table(false);

namespace {

// Every row the build carries has a reference implementation.
#define FENNEC_KERNEL(id, Fn, scope) \
  static_assert(!row_in_build(RowScope::scope) || reference_kernel_table.id != nullptr, "ref kernel missing: " #id);
#include "kernels/kernel_list.def"
#undef FENNEC_KERNEL

}  // namespace

const KernelTable& ref_kernel_table() { return reference_kernel_table; }
#if defined(FENNEC_CORTEX_M4_KERNELS)
const KernelTable& plain_ref_kernel_table() { return kPlainRefTable; }
#else
const KernelTable& plain_ref_kernel_table() { return reference_kernel_table; }
#endif

}  // namespace fennec::kernels
