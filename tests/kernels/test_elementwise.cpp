// SPDX-License-Identifier: Apache-2.0
// The checkers of the elementwise and reduction signatures (bias_act_fwd_f32, act_bwd_f32,
// col_sum_f32, sum_squares_f32, scale_f32, clamp_f32: test_kernel_registry.cpp runs them on every
// table against the scalar reference), and the cross-table extreme-input test of sum_squares.
// Sizes {1, L-1, L, L+1, 2L+3, 3L, 64, 257} for the table's lane count L, pointer offsets
// {0, 1, 3} floats, row strides padded by the offset. Every float outside a kernel's block (the
// offset before it, the padding columns, the canaries after it) holds a sentinel that the
// reference and each SIMD table must leave as it was.
#include <cfloat>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <limits>
#include <vector>

#include "kernel_checkers.hpp"

using namespace fennec_ktest;
using fennec::Activation;
using fennec::ActivationSpec;

namespace {

constexpr float kCanary = -777.f;
const std::size_t kOffsets[] = {0, 1, 3};
const std::size_t kRows[] = {1, 3, 7};

const ActivationSpec kActs[] = {ActivationSpec::identity(), ActivationSpec::sigmoid(), ActivationSpec::tanh(),
                                ActivationSpec::relu(), ActivationSpec::leaky_relu(0.2f)};

// Activations: the tables' exp/tanh (xsimd's on x86, simd_common.hpp's on NEON) and libm differ
// by a few ulp. Measured over [-100, 100] against double: NEON sigmoid 2.2 ulp on AArch64 and 3.3
// on ARMv7 (its reciprocal is two Newton steps), tanh 1.3 and 1.9; x86 below 2 ulp.
// 8 eps relative plus 1e-7 absolute (values near 0, where tanh(x) ~ x and relative ulps blow up
// for sigmoid's 1 - y) is the documented bound.
constexpr double kActRtol = 8 * FLT_EPSILON;
constexpr double kActAtol = 1e-7;

}  // namespace

// Forward: activations of pre-activations wide enough to saturate sigmoid/tanh and cross zero.
void fennec_ktest::check_kernel(const char*, BiasActFwdFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (const ActivationSpec& act : kActs)
    for (std::size_t m : kRows)
      for (std::size_t n : lane_sizes(t.lanes))
        for (std::size_t off : kOffsets)
          for (int with_bias = 0; with_bias < 2; ++with_bias) {
            INFO(t.name << " act=" << fennec::activation_name(act.kind) << " m=" << m << " n=" << n
                        << " off=" << off << " bias=" << with_bias);
            const std::size_t ld = n + off;
            std::vector<float> y0 = uniform(rng, off + m * ld, -12.f, 12.f);
            for (std::size_t i = 0; i < y0.size(); ++i)
              if (!in_block(i, off, m, n, ld)) y0[i] = kCanary;
            const std::vector<float> bias = uniform(rng, off + n);
            const float* b = with_bias ? bias.data() + off : nullptr;
            std::vector<float> yr = y0, yx = y0;
            (t.oracle->*fn)(m, n, yr.data() + off, ld, b, act);
            (t.table->*fn)(m, n, yx.data() + off, ld, b, act);
            std::size_t bad = canaries_overwritten(yr, y0, off, m, n, ld) + canaries_overwritten(yx, y0, off, m, n, ld);
            for (std::size_t i = 0; i < yr.size(); ++i)
              if (in_block(i, off, m, n, ld) && !close(yx[i], yr[i], kActAtol, kActRtol) && bad++ < 3)
                FAIL_CHECK("fwd [" << i << "] " << yx[i] << " vs ref " << yr[i]);
            CHECK(bad == 0);
          }
}

// Backward from stored activation outputs (the reference forward of the same wide
// pre-activations); dy in [-1, 1]. A few rounded products: 4 eps relative, plus |dy| eps
// absolute because tanh' = 1 - y*y cancels near |y| = 1, where the reference's rounding of y*y
// (eps/2 absolute) dominates and a contracted FMA (the SIMD code) is exact.
void fennec_ktest::check_kernel(const char*, ActBwdFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (const ActivationSpec& act : kActs)
    for (std::size_t m : kRows)
      for (std::size_t n : lane_sizes(t.lanes))
        for (std::size_t off : kOffsets)
          for (int with_bias = 0; with_bias < 2; ++with_bias) {
            INFO(t.name << " act=" << fennec::activation_name(act.kind) << " m=" << m << " n=" << n
                        << " off=" << off << " bias=" << with_bias);
            const std::size_t ld = n + off;
            std::vector<float> y = uniform(rng, off + m * ld, -12.f, 12.f);
            for (std::size_t i = 0; i < y.size(); ++i)
              if (!in_block(i, off, m, n, ld)) y[i] = kCanary;
            const std::vector<float> bias = uniform(rng, off + n);
            ref().bias_act_fwd_f32(m, n, y.data() + off, ld, with_bias ? bias.data() + off : nullptr, act);
            std::vector<float> dy0 = uniform(rng, off + m * ld);
            for (std::size_t i = 0; i < dy0.size(); ++i)
              if (!in_block(i, off, m, n, ld)) dy0[i] = kCanary;
            std::vector<float> dr = dy0, dx = dy0;
            (t.oracle->*fn)(m, n, y.data() + off, ld, dr.data() + off, ld, act);
            (t.table->*fn)(m, n, y.data() + off, ld, dx.data() + off, ld, act);
            std::size_t bad = canaries_overwritten(dr, dy0, off, m, n, ld) + canaries_overwritten(dx, dy0, off, m, n, ld);
            for (std::size_t i = 0; i < dr.size(); ++i)
              if (in_block(i, off, m, n, ld) && !close(dx[i], dr[i], std::fabs(dy0[i]) * FLT_EPSILON, 4 * FLT_EPSILON) &&
                  bad++ < 3)
                FAIL_CHECK("bwd [" << i << "] " << dx[i] << " vs ref " << dr[i]);
            CHECK(bad == 0);
          }
}

void fennec_ktest::check_kernel(const char*, ColSumFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (std::size_t m : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}, std::size_t{257}})
    for (std::size_t n : lane_sizes(t.lanes))
      for (std::size_t off : kOffsets) {
        INFO(t.name << " m=" << m << " n=" << n << " off=" << off);
        const std::size_t ld = n + off;
        const std::vector<float> a = uniform(rng, off + m * ld);
        const std::vector<float> out0(n + 2, kCanary);  // out at +1, one canary each side
        std::vector<float> r = out0, x = out0;
        (t.oracle->*fn)(m, n, a.data() + off, ld, r.data() + 1);
        (t.table->*fn)(m, n, a.data() + off, ld, x.data() + 1);
        CHECK(canaries_overwritten(r, out0, 1, 1, n, n + 1) == 0);
        CHECK(canaries_overwritten(x, out0, 1, 1, n, n + 1) == 0);
        // Sum of m terms in |a| <= 1: error <= m eps sum|a| <= m^2 eps (any order).
        const double atol = static_cast<double>(m) * m * FLT_EPSILON;
        for (std::size_t j = 1; j <= n; ++j) CHECK(close(x[j], r[j], atol, 0));
      }
}

void fennec_ktest::check_kernel(const char*, SumSquaresFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  std::vector<std::size_t> sizes = lane_sizes(t.lanes);
  sizes.push_back(4096 + 5);
  sizes.push_back(3 * 4096 + 4 * t.lanes + 1);
  for (std::size_t n : sizes)
    for (std::size_t off : kOffsets) {
      INFO(t.name << " n=" << n << " off=" << off);
      const std::vector<float> x = uniform(rng, off + n, -3.f, 3.f);
      const double r = (t.oracle->*fn)(n, x.data() + off);
      const double v = (t.table->*fn)(n, x.data() + off);
      // Positive terms; the kernel sums blocks of 4096 in 4 float chains of L lanes, then
      // folds the 4L partials: worst-case relative error (4096/(4L) + 4L + 2) eps.
      const double rtol = (4096.0 / (4 * t.lanes) + 4.0 * t.lanes + 2) * FLT_EPSILON;
      CHECK(close(v, r, 0, rtol));
    }
  // Non-finite input makes the result non-finite (the trainer relies on it).
  std::vector<float> x(100, 1.f);
  x[37] = std::numeric_limits<float>::quiet_NaN();
  CHECK(!std::isfinite((t.table->*fn)(x.size(), x.data())));
  x[37] = std::numeric_limits<float>::infinity();
  CHECK(!std::isfinite((t.table->*fn)(x.size(), x.data())));
  x[37] = 1.f;
  x[99] = std::numeric_limits<float>::quiet_NaN();  // in the tail
  CHECK(!std::isfinite((t.table->*fn)(x.size(), x.data())));
}

// The trainer refuses a batch when the squared gradient norm is not finite, so that decision
// must not depend on the table: finite inputs whose squares overflow float (x = 1e30, or many
// 1e19s) must give a finite sum on every table, as the double reference does.
TEST_CASE("sum_squares_f32: the same accept/refuse decision on every table for extreme inputs", "[kernels][reduction]") {
  const float kMax = std::numeric_limits<float>::max(), kInf = std::numeric_limits<float>::infinity(),
              kNaN = std::numeric_limits<float>::quiet_NaN(), kDen = std::numeric_limits<float>::denorm_min();
  struct Case {
    const char* what;
    std::vector<float> x;
  };
  std::vector<Case> cases = {
      {"one 1e30", {1e30f}},
      {"1e30 among ones", std::vector<float>(100, 1.f)},
      {"4099 x 1e19", std::vector<float>(4099, 1e19f)},
      {"4096 x -1e20", std::vector<float>(4096, -1e20f)},
      {"FLT_MAX", {kMax}},
      {"65 x FLT_MAX", std::vector<float>(65, kMax)},
      {"denormals", std::vector<float>(37, kDen)},
      {"1e-30 and 1e30", {1e-30f, 1e30f, -1e30f}},
      {"Inf", std::vector<float>(33, 2.f)},
      {"NaN", std::vector<float>(33, 2.f)},
      {"-Inf after FLT_MAX", std::vector<float>(40, kMax)},
  };
  cases[1].x[57] = 1e30f;
  cases[8].x[31] = kInf;
  cases[9].x[5] = kNaN;
  cases[10].x[39] = -kInf;
  std::size_t checked = 0;
  for (const SimdTable& st : simd_tables()) {
    for (const Case& c : cases) {
      for (std::size_t off : kOffsets) {
        INFO(st.name << ": " << c.what << " off=" << off);
        std::vector<float> buf(off, 0.f);
        buf.insert(buf.end(), c.x.begin(), c.x.end());
        const double r = ref().sum_squares_f32(c.x.size(), buf.data() + off);
        const double v = st.table->sum_squares_f32(c.x.size(), buf.data() + off);
        CHECK(std::isfinite(v) == std::isfinite(r));
        // Relative 1e-6 (float partial sums); underflowed squares may read as 0 (atol 1e-30).
        if (std::isfinite(r)) CHECK(close(v, r, 1e-30, 1e-6));
        ++checked;
      }
    }
  }
  std::printf("sum_squares cross-table cases: %zu\n", checked);
}

// clamp_f32 bit for bit against the reference at the values a comparison can get wrong: both
// zeros (equal, so a zero bound leaves the other zero as it is), denormals (a NEON compare or
// min/max would flush them), infinities, the bounds themselves and NaNs of both signs (passed
// through with their bits). ARMv7 compares in integer lanes, so these are its edge cases.
TEST_CASE("clamp_f32: zeros, denormals, infinities and NaNs give the reference's bits on every table",
          "[kernels][elementwise]") {
  const float kInf = std::numeric_limits<float>::infinity(), kDen = std::numeric_limits<float>::denorm_min();
  const float kNaN = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {0.f,   -0.f,  kDen,  -kDen,    1e-39f, -1e-39f, kInf,     -kInf, kNaN,
                                     -kNaN, 0.5f,  -0.5f, 0.75f,    -0.75f, 1e30f,   -1e30f,   3.f,   -3.f,
                                     FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN, 0.7499999f, -0.5000001f};
  struct Bounds {
    float lo, hi;
  };
  const Bounds bounds[] = {{-0.5f, 0.75f}, {0.f, 1.f}, {-0.f, 0.f}, {-1.f, -0.f}, {kDen, 2 * kDen}, {-kInf, kInf}};
  std::vector<TableUnderTest> tables{reference_under_test()};
  for (const SimdTable& st : simd_tables()) tables.push_back(simd_under_test(st));
  std::size_t checked = 0;
  for (const TableUnderTest& t : tables) {
    for (const Bounds& b : bounds) {
      // Every value at every lane position: the list rotated through a block of 3 vectors + tail.
      for (std::size_t shift = 0; shift < values.size(); ++shift) {
        std::vector<float> x(values.size());
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = values[(i + shift) % values.size()];
        std::vector<float> r = x;
        t.oracle->clamp_f32(r.size(), r.data(), b.lo, b.hi);
        t.table->clamp_f32(x.size(), x.data(), b.lo, b.hi);
        for (std::size_t i = 0; i < x.size(); ++i) {
          INFO(t.name << " lo=" << b.lo << " hi=" << b.hi << " x=" << values[(i + shift) % values.size()]);
          std::uint32_t xb, rb;
          std::memcpy(&xb, &x[i], 4);
          std::memcpy(&rb, &r[i], 4);
          CHECK(xb == rb);
          ++checked;
        }
      }
    }
  }
  std::printf("clamp edge cases: %zu values checked\n", checked);
}

namespace {

// scale_f32 and clamp_f32 against the oracle exactly (one rounded multiply; a clamp is exact),
// with a NaN in the block that must stay NaN in both, and the sentinels outside it (the offset
// and two floats after) untouched. `apply` runs the kernel of a table on n floats at p.
template <class Apply>
void check_exact_in_place(const TableUnderTest& t, Apply apply) {
  std::mt19937 rng(test_seed());
  for (std::size_t n : lane_sizes(t.lanes))
    for (std::size_t off : kOffsets) {
      INFO(t.name << " n=" << n << " off=" << off);
      std::vector<float> x0 = uniform(rng, off + n + 2, -2.f, 2.f);
      for (std::size_t i = 0; i < x0.size(); ++i)
        if (!in_block(i, off, 1, n, n + 2)) x0[i] = kCanary;
      const std::size_t nan_at = off + n / 2;
      x0[nan_at] = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> r = x0, x = x0;
      apply(*t.oracle, n, r.data() + off);
      apply(*t.table, n, x.data() + off);
      CHECK(canaries_overwritten(r, x0, off, 1, n, n + 2) == 0);
      CHECK(canaries_overwritten(x, x0, off, 1, n, n + 2) == 0);
      CHECK(std::isnan(r[nan_at]));
      CHECK(std::isnan(x[nan_at]));
      for (std::size_t i = off; i < off + n; ++i)
        if (i != nan_at) CHECK(close(x[i], r[i], 0, 0));
    }
}

}  // namespace

void fennec_ktest::check_kernel(const char*, ScaleFn KernelTable::*fn, const TableUnderTest& t) {
  check_exact_in_place(t, [fn](const KernelTable& k, std::size_t n, float* x) { (k.*fn)(n, x, -0.37f); });
}

void fennec_ktest::check_kernel(const char*, ClampFn KernelTable::*fn, const TableUnderTest& t) {
  check_exact_in_place(t, [fn](const KernelTable& k, std::size_t n, float* x) { (k.*fn)(n, x, -0.5f, 0.75f); });
}
