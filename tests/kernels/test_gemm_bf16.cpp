// SPDX-License-Identifier: Apache-2.0
// The bf16 GEMM tables (products kBf16 in isa_list.def) bit for bit against a scalar emulation of
// what they compute: A and B rounded to bf16 as vcvtne2ps2bf16 rounds, multiplied and summed as
// vdpbf16ps sums. test_gemm.cpp holds the same tables to the f32 oracle over the whole GemmArgs
// contract (alpha, beta, bias, activations, m == 1) within the bf16 rounding bound; this file pins
// the rounding itself, where a bound would let a wrong rounding mode or pair order pass.
//
// Bit-exact is possible because the order of every operation is defined: Intel's pseudo-code for
// VDPBF16PS adds, per f32 lane, the odd (high) bf16 pair's product to the accumulator and then
// the even (low) one's, each as an FMA rounded to nearest even, with denormal inputs read as zero
// and denormal results flushed to zero, MXCSR ignored; the GEMM's packing puts k = 2q in the low
// half and 2q+1 in the high half, starts each k block's accumulator at 0 and adds the block to C
// in f32 (the epilogue's add, IEEE rounding, no flush). VCVTNE2PS2BF16 rounds to nearest even,
// turns a denormal into a zero of its sign and quietens a NaN. So the emulation below repeats
// the kernel's k blocking (kGemmKc, balanced as gemm_impl.hpp balances it); shapes are those that
// take the packed path (m >= 2, and n >= 32 for NT: narrower outputs and m == 1 keep f32 products).
// alpha 1, beta 0, no bias, identity: the epilogue adds no rounding of its own there.
//
// Inputs: uniform(-1, 1) with one element in 8 replaced by a special value: a bf16 rounding tie
// (the low 16 bits exactly 0x8000, both parities of the kept bit), a denormal (read as zero), or
// 1e-20, whose products with each other underflow below FLT_MIN (flushed to zero).
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "fennec/detail/gemm_blocking.hpp"
#include "kernel_test_util.hpp"

using namespace fennec_ktest;
using fennec::kernels::GemmArgs;
using fennec::kernels::GemmFn;

namespace {

std::uint32_t bits_of(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
float float_of(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// vcvtne2ps2bf16 on one float, returned as the f32 the bf16 stands for.
float round_bf16(float x) {
  const std::uint32_t u = bits_of(x);
  const std::uint32_t exponent = u & 0x7f800000u, mantissa = u & 0x007fffffu;
  if (exponent == 0) return float_of(u & 0x80000000u);                                // zero or denormal: signed 0
  if (exponent == 0x7f800000u) return float_of(mantissa ? (u | 0x00400000u) & 0xffff0000u : u);  // NaN, inf
  return float_of((u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u);
}

// One of vdpbf16ps's two steps: acc + a*b rounded once (a*b is exact in f32's range: two 8-bit
// significands), a denormal result flushed to a zero of its sign.
float dp_step(float a, float b, float acc) {
  const float r = std::fma(a, b, acc);
  return std::fpclassify(r) == FP_SUBNORMAL ? std::copysign(0.f, r) : r;
}

enum class Form { kNT, kNN, kTN };

struct Problem {
  Form form;
  std::size_t m, n, k;
  std::vector<float> a, b;  // A (m x k; TN: k x m), B (k x n; NT: n x k), dense
  float at(std::size_t i, std::size_t p) const { return form == Form::kTN ? a[p * m + i] : a[i * k + p]; }
  float bt(std::size_t p, std::size_t j) const { return form == Form::kNT ? b[j * k + p] : b[p * n + j]; }
};

// C = A B as the bf16 tables compute it (the file comment).
std::vector<float> emulate(const Problem& q) {
  std::vector<float> c(q.m * q.n, 0.f);
  const std::size_t kblocks = (q.k + fennec::kGemmKc - 1) / fennec::kGemmKc;
  const std::size_t kc_max = (q.k + kblocks - 1) / kblocks;
  for (std::size_t i = 0; i < q.m; ++i)
    for (std::size_t j = 0; j < q.n; ++j)
      for (std::size_t p0 = 0; p0 < q.k; p0 += kc_max) {
        const std::size_t p1 = p0 + kc_max < q.k ? p0 + kc_max : q.k;
        float acc = 0.f;
        for (std::size_t p = p0; p < p1; p += 2) {
          if (p + 1 < p1) acc = dp_step(round_bf16(q.at(i, p + 1)), round_bf16(q.bt(p + 1, j)), acc);
          else acc = dp_step(0.f, 0.f, acc);  // the zero padding of an odd block
          acc = dp_step(round_bf16(q.at(i, p)), round_bf16(q.bt(p, j)), acc);
        }
        c[i * q.n + j] = p0 == 0 ? acc : c[i * q.n + j] + acc;
      }
  return c;
}

std::vector<float> operand(std::mt19937& rng, std::size_t count) {
  std::vector<float> v = uniform(rng, count);
  const float specials[] = {float_of(0x3f808000u), float_of(0xbf818000u), float_of(0x3e7f8000u),  // ties
                            1e-39f, -3e-39f,                                                      // denormals
                            1e-20f, -1e-20f};                                                     // underflowing
  for (std::size_t i = 0; i < count; ++i)
    if (rng() % 8 == 0) v[i] = specials[rng() % (sizeof specials / sizeof specials[0])];
  return v;
}

std::vector<float> run(GemmFn gemm, const Problem& q) {
  std::vector<float> c(q.m * q.n, std::nanf(""));
  std::vector<float> scratch(fennec::gemm_scratch_floats(q.m, q.n, q.k) + 16);
  GemmArgs g;
  g.m = q.m;
  g.n = q.n;
  g.k = q.k;
  g.a = q.a.data();
  g.lda = q.form == Form::kTN ? q.m : q.k;
  g.b = q.b.data();
  g.ldb = q.form == Form::kNT ? q.k : q.n;
  g.c = c.data();
  g.ldc = q.n;
  g.scratch = scratch.data();
  g.scratch_floats = scratch.size();
  gemm(g);
  return c;
}

}  // namespace

TEST_CASE("bf16 GEMM tables round and sum as vdpbf16ps, bit for bit", "[kernels][gemm][bf16]") {
  INFO("seed " << test_seed());
  std::size_t tables = 0;
  for (const SimdTable& st : simd_tables()) {
    if (fennec::kernels::isa_info(st.isa)->products != fennec::kernels::GemmProducts::kBf16) continue;
    ++tables;
    std::mt19937 rng(test_seed());
    const struct {
      Form form;
      GemmFn KernelTable::*fn;
      const char* name;
    } forms[] = {{Form::kNT, &KernelTable::gemm_nt_f32, "nt"},
                 {Form::kNN, &KernelTable::gemm_nn_f32, "nn"},
                 {Form::kTN, &KernelTable::gemm_tn_f32, "tn"}};
    // m, n and k around the 8 x 32 tile, odd k (a padded pair), k over one and two k blocks.
    const std::size_t shapes[][3] = {{2, 32, 1},  {8, 32, 2},   {9, 33, 3},    {17, 64, 31},  {64, 512, 784},
                                     {7, 95, 257}, {33, 40, 513}, {200, 37, 65}, {3, 129, 300}};
    for (const auto& f : forms)
      for (const auto& s : shapes) {
        Problem q{f.form, s[0], s[1], s[2], operand(rng, s[0] * s[2]), operand(rng, s[2] * s[1])};
        INFO(st.name << " gemm_" << f.name << " m=" << q.m << " n=" << q.n << " k=" << q.k);
        const std::vector<float> want = emulate(q), got = run(st.table->*f.fn, q);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < want.size(); ++i)
          if (bits_of(want[i]) != bits_of(got[i]) && bad++ < 5)
            FAIL_CHECK("C[" << i / q.n << "," << i % q.n << "] = " << got[i] << ", emulated " << want[i]);
        CHECK(bad == 0);
      }
  }
  if (tables == 0) WARN("no bf16 GEMM table runs here: the bf16 rounding is NOT TESTED");
}
