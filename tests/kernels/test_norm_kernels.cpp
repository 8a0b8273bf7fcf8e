// SPDX-License-Identifier: Apache-2.0
// Checkers of the batch-norm and dropout signatures (kernel_checkers.hpp): every table against
// its oracle and against a double computation, m rows x n columns with n swept around the lane
// count, row strides n + {0, 1, 3}, canaries around every output, and the in-place forms the
// model uses (bn_fwd x == y, bn_bwd dx == dy, dropout x == y).
//
// Tolerances, |x - r| <= atol + rtol |r| (inputs in [-1, 1], inv_std in [0.5, 2]): every table
// sums each column down the rows in the same order, so tables differ only where a compiler
// contracts a multiply-add; the bounds below are the forward-error bounds of the float
// computation against double, which cover that too.
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernel_checkers.hpp"

namespace fennec_ktest {
namespace {

constexpr float kCanary = -777.f;
const std::size_t kOffsets[] = {0, 1, 3};
const std::size_t kRows[] = {1, 2, 7, 64};

std::vector<float> with_canaries(std::size_t size, std::size_t off, std::size_t m, std::size_t n,
                                 std::size_t ld, const std::vector<float>& inside) {
  std::vector<float> v(size, kCanary);
  for (std::size_t i = 0; i < size; ++i)
    if (in_block(i, off, m, n, ld)) v[i] = inside[i];
  return v;
}

}  // namespace

void check_kernel(const char*, BnStatsFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (std::size_t m : kRows)
    for (std::size_t n : lane_sizes(t.lanes))
      for (std::size_t off : kOffsets) {
        INFO(t.name << " m=" << m << " n=" << n << " off=" << off);
        const std::size_t ld = n + off;
        const std::vector<float> x = uniform(rng, off + m * ld);
        const std::vector<float> out0(n + 2, kCanary);
        std::vector<float> mean = out0, var = out0, rmean = out0, rvar = out0;
        (t.oracle->*fn)(m, n, x.data() + off, ld, rmean.data() + 1, rvar.data() + 1);
        (t.table->*fn)(m, n, x.data() + off, ld, mean.data() + 1, var.data() + 1);
        CHECK(canaries_overwritten(mean, out0, 1, 1, n, n + 1) == 0);
        CHECK(canaries_overwritten(var, out0, 1, 1, n, n + 1) == 0);
        // A sum of m terms of size <= 1 (mean) or <= 4 (squared deviations) errs by at most
        // m eps times that, and the divide by m scales the error back: 2 m eps and 8 m eps.
        const double fm = static_cast<double>(m);
        for (std::size_t j = 0; j < n; ++j) {
          double mu = 0, q = 0;
          for (std::size_t i = 0; i < m; ++i) mu += x[off + i * ld + j];
          mu /= fm;
          for (std::size_t i = 0; i < m; ++i) q += (x[off + i * ld + j] - mu) * (x[off + i * ld + j] - mu);
          q /= fm;
          CHECK(close(mean[j + 1], mu, 2 * fm * FLT_EPSILON, 0));
          CHECK(close(var[j + 1], q, 8 * fm * FLT_EPSILON, 0));
          CHECK(close(mean[j + 1], rmean[j + 1], 4 * fm * FLT_EPSILON, 0));
          CHECK(close(var[j + 1], rvar[j + 1], 16 * fm * FLT_EPSILON, 0));
        }
      }
}

void check_kernel(const char*, BnFwdFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (std::size_t m : kRows)
    for (std::size_t n : lane_sizes(t.lanes))
      for (std::size_t off : kOffsets)
        for (bool in_place : {false, true}) {
          INFO(t.name << " m=" << m << " n=" << n << " off=" << off << " in_place=" << in_place);
          const std::size_t ld = n + off, size = off + m * ld;
          const std::vector<float> x = uniform(rng, size);
          const std::vector<float> mean = uniform(rng, n), inv_std = uniform(rng, n, 0.5f, 2.f);
          const std::vector<float> gamma = uniform(rng, n), beta = uniform(rng, n);
          auto run = [&](const KernelTable& k, std::vector<float>& xhat, std::vector<float>& y) {
            BnFwdArgs a;
            a.m = m;
            a.n = n;
            a.x = in_place ? y.data() + off : x.data() + off;
            a.ldx = a.ldxhat = a.ldy = ld;
            a.mean = mean.data();
            a.inv_std = inv_std.data();
            a.gamma = gamma.data();
            a.beta = beta.data();
            a.xhat = xhat.data() + off;
            a.y = y.data() + off;
            (k.*fn)(a);
          };
          const std::vector<float> canaries(size, kCanary);
          const std::vector<float> y0 = in_place ? with_canaries(size, off, m, n, ld, x) : canaries;
          std::vector<float> xh = canaries, y = y0, rxh = canaries, ry = y0;
          run(*t.oracle, rxh, ry);
          run(*t.table, xh, y);
          CHECK(canaries_overwritten(xh, canaries, off, m, n, ld) == 0);
          CHECK(canaries_overwritten(y, canaries, off, m, n, ld) == 0);
          // xhat: a subtraction and a product (2 eps relative of |x - mean| <= 2, times <= 2);
          // y: one more product and sum (|y| <= 5): 4 eps of 5 plus the xhat error times |gamma|.
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
              const std::size_t p = off + i * ld + j;
              const double dxh = (static_cast<double>(x[p]) - mean[j]) * inv_std[j];
              const double dy = gamma[j] * dxh + beta[j];
              CHECK(close(xh[p], dxh, 8 * FLT_EPSILON, 0));
              CHECK(close(y[p], dy, 28 * FLT_EPSILON, 0));
              CHECK(close(y[p], ry[p], 56 * FLT_EPSILON, 0));
            }
          // Without xhat (inference): the same y, nothing else written.
          std::vector<float> y2 = y0;
          BnFwdArgs a;
          a.m = m;
          a.n = n;
          a.x = in_place ? y2.data() + off : x.data() + off;
          a.ldx = a.ldy = ld;
          a.mean = mean.data();
          a.inv_std = inv_std.data();
          a.gamma = gamma.data();
          a.beta = beta.data();
          a.y = y2.data() + off;
          (t.table->*fn)(a);
          CHECK(y2 == y);
        }
}

void check_kernel(const char*, BnBwdFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (std::size_t m : kRows)
    for (std::size_t n : lane_sizes(t.lanes))
      for (std::size_t off : kOffsets)
        for (bool in_place : {false, true}) {
          INFO(t.name << " m=" << m << " n=" << n << " off=" << off << " in_place=" << in_place);
          const std::size_t ld = n + off, size = off + m * ld;
          const std::vector<float> dy = uniform(rng, size), xhat = uniform(rng, size, -2.f, 2.f);
          const std::vector<float> gamma = uniform(rng, n), inv_std = uniform(rng, n, 0.5f, 2.f);
          const std::vector<float> canaries(size, kCanary), vec0(n + 2, kCanary);
          const std::vector<float> dx0 = in_place ? with_canaries(size, off, m, n, ld, dy) : canaries;
          auto run = [&](const KernelTable& k, std::vector<float>& dx, std::vector<float>& dg, std::vector<float>& db) {
            BnBwdArgs a;
            a.m = m;
            a.n = n;
            a.dy = in_place ? dx.data() + off : dy.data() + off;
            a.lddy = a.ldxhat = a.lddx = ld;
            a.xhat = xhat.data() + off;
            a.gamma = gamma.data();
            a.inv_std = inv_std.data();
            a.dgamma = dg.data() + 1;
            a.dbeta = db.data() + 1;
            a.dx = dx.data() + off;
            (k.*fn)(a);
          };
          std::vector<float> dx = dx0, dg = vec0, db = vec0, rdx = dx0, rdg = vec0, rdb = vec0;
          run(*t.oracle, rdx, rdg, rdb);
          run(*t.table, dx, dg, db);
          CHECK(canaries_overwritten(dx, canaries, off, m, n, ld) == 0);
          CHECK(canaries_overwritten(dg, vec0, 1, 1, n, n + 1) == 0);
          CHECK(canaries_overwritten(db, vec0, 1, 1, n, n + 1) == 0);
          // Sums of m terms of size <= 1 (dbeta) and <= 2 (dgamma): m eps and 2 m eps of m.
          // dx = k (m dy - dbeta - xhat dgamma), |k| <= 2/m: the errors of the three terms
          // (m eps, m^2 eps, 2 * 2 m^2 eps) times 2/m, plus rounding of the result: (4 + 10 m) eps.
          const double fm = static_cast<double>(m);
          for (std::size_t j = 0; j < n; ++j) {
            double sb = 0, sg = 0;
            for (std::size_t i = 0; i < m; ++i) {
              const std::size_t p = off + i * ld + j;
              sb += dy[p];
              sg += static_cast<double>(dy[p]) * xhat[p];
            }
            CHECK(close(db[j + 1], sb, fm * fm * FLT_EPSILON, 0));
            CHECK(close(dg[j + 1], sg, 2 * fm * fm * FLT_EPSILON, 0));
            CHECK(close(db[j + 1], rdb[j + 1], 2 * fm * fm * FLT_EPSILON, 0));
            CHECK(close(dg[j + 1], rdg[j + 1], 4 * fm * fm * FLT_EPSILON, 0));
            const double k = static_cast<double>(gamma[j]) * inv_std[j] / fm;
            for (std::size_t i = 0; i < m; ++i) {
              const std::size_t p = off + i * ld + j;
              const double r = k * (fm * dy[p] - sb - xhat[p] * sg);
              CHECK(close(dx[p], r, (4 + 10 * fm) * FLT_EPSILON, 0));
              CHECK(close(dx[p], rdx[p], 2 * (4 + 10 * fm) * FLT_EPSILON, 0));
            }
          }
        }
}

void check_kernel(const char*, DropoutFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  for (std::size_t m : kRows)
    for (std::size_t n : lane_sizes(t.lanes))
      for (std::size_t off : kOffsets)
        for (bool in_place : {false, true}) {
          INFO(t.name << " m=" << m << " n=" << n << " off=" << off << " in_place=" << in_place);
          const std::size_t ld = n + off, size = off + m * ld;
          std::vector<float> x = uniform(rng, size, -4.f, 4.f);
          std::vector<unsigned char> mask(size);
          for (unsigned char& b : mask) b = static_cast<unsigned char>(rng() % 3 == 0 ? 0 : 1 + rng() % 255);
          // A NaN under a dropped position must come out 0 (select, not multiply).
          for (std::size_t p = off; p < size; p += 5)
            if (!mask[p]) x[p] = std::numeric_limits<float>::quiet_NaN();
          const float scale = 1.f / (1.f - 0.3f);
          const std::vector<float> canaries(size, kCanary);
          const std::vector<float> y0 = in_place ? with_canaries(size, off, m, n, ld, x) : canaries;
          std::vector<float> y = y0;
          (t.table->*fn)(m, n, in_place ? y.data() + off : x.data() + off, ld, mask.data() + off, ld, scale,
                         y.data() + off, ld);
          CHECK(canaries_overwritten(y, canaries, off, m, n, ld) == 0);
          // One rounding (x * scale) or an exact 0: every table is bit-exact.
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
              const std::size_t p = off + i * ld + j;
              const float r = mask[p] ? x[p] * scale : 0.f;
              CHECK(std::memcmp(&y[p], &r, sizeof(float)) == 0);
            }
        }
}

}  // namespace fennec_ktest
