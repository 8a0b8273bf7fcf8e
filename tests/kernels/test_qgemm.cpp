// SPDX-License-Identifier: Apache-2.0
// The int8 GEMMs (QGemmFn: qgemv_s8, qgemm_nt_s8): every table must give the oracle's bits, not
// approximately but exactly, since the scheme is integer arithmetic (fennec/quant.hpp). The
// exact oracle here recomputes each output in int64 from the documented formulas, independently
// of requant.hpp; the table under test is also compared byte for byte with its oracle table.
// Shapes sweep k around the 16/32/64-byte steps of the x86 dot products, n and m around their
// tiles, byte offsets {0, 1, 3} of x; both output forms (int8 requantized, f32 dequantized);
// identity, ReLU (floor = zero point) and LeakyReLU (a second multiplier) epilogues; extreme
// inputs (every product -128 * -127) at the largest k the scheme allows to test int32 headroom.
// Each case runs with the packed weights (qpack_s8, read by the VNNI and dot-product NEON64
// tables) and without them; n also sweeps around the 16-unit panels and their blocks, m (batch) every size 1 .. 67 around
// the row tiles and the 64-row chunks of the packed GEMM, k around its 4-byte groups. Row
// strides ldx, ldw beyond k (random bytes between the rows, which no table may read into the
// result) run around the NEON tables' 16-byte steps and their 4 x 4 and 1 x 8 tiles.
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fennec/quant.hpp"
#include "kernel_checkers.hpp"
#include "kernels/qpack.hpp"

namespace fennec_ktest {
namespace {

using std::size_t;

struct QCase {
  size_t m, n, k, x_off;
  bool f32_out;
  int epilogue;  // 0 identity, 1 relu, 2 leaky
  bool extreme;
  size_t x_pad = 0, w_pad = 0;  // ldx = k + x_pad, ldw = k + w_pad
};

struct QData {
  std::vector<std::int8_t> x, w;
  std::vector<std::uint8_t> wpack;
  std::vector<std::int32_t> bias, wsum, mult, shift, mult_neg, shift_neg;
  std::vector<float> deq, deq_neg;
  std::int32_t zp = 0, lo = -128;
};

QData make_data(std::mt19937& rng, const QCase& c) {
  QData d;
  std::uniform_int_distribution<int> xs(-128, 127), ws(-127, 127);
  d.x.resize(c.x_off + c.m * (c.k + c.x_pad));
  d.w.resize(c.n * (c.k + c.w_pad));
  for (auto& v : d.x) v = static_cast<std::int8_t>(c.extreme ? -128 : xs(rng));
  for (auto& v : d.w) v = static_cast<std::int8_t>(c.extreme ? -127 : ws(rng));
  d.zp = std::uniform_int_distribution<int>(-128, 127)(rng);
  d.lo = c.epilogue == 1 ? d.zp : -128;
  // Shifts that put typical accumulators (~ 127 * 128 * sqrt(k)) around the int8 range, plus
  // the ends of the allowed range.
  std::uniform_int_distribution<std::int32_t> ms(1 << 30, std::numeric_limits<std::int32_t>::max());
  std::uniform_int_distribution<int> ss(34, 48);
  for (size_t j = 0; j < c.n; ++j) {
    std::int64_t s = 0;
    for (size_t p = 0; p < c.k; ++p) s += d.w[j * (c.k + c.w_pad) + p];
    d.wsum.push_back(static_cast<std::int32_t>(s));
    d.bias.push_back(c.extreme ? 0 : std::uniform_int_distribution<std::int32_t>(-(1 << 20), 1 << 20)(rng));
    d.mult.push_back(j % 7 == 3 ? 0 : ms(rng));
    d.shift.push_back(j % 11 == 5 ? fennec::kRequantMaxShift : (j % 13 == 6 ? fennec::kRequantMinShift : ss(rng)));
    d.mult_neg.push_back(c.epilogue == 2 ? d.mult.back() / 10 : d.mult.back());
    d.shift_neg.push_back(d.shift.back());
    d.deq.push_back(std::uniform_real_distribution<float>(1e-6f, 1e-3f)(rng));
    d.deq_neg.push_back(c.epilogue == 1 ? 0.f : (c.epilogue == 2 ? d.deq.back() * 0.1f : d.deq.back()));
  }
  d.wpack.resize(fennec::detail::qpack_bytes(c.n, c.k));
  fennec::kernels::qpack_s8(d.w.data(), c.k + c.w_pad, c.n, c.k, d.wpack.data());
  return d;
}

// With `packed`, a table that reads the packed weights (qgemm_reads_packed) gets no w at all, so
// a path that still read w would crash rather than pass on the row-major copy.
fennec::kernels::QGemmArgs args_for(const QCase& c, const QData& d, std::int8_t* y, float* yf, bool packed, fennec::Isa isa) {
  fennec::kernels::QGemmArgs g;
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.x = d.x.data() + c.x_off;
  g.ldx = c.k + c.x_pad;
  g.w = packed && fennec::kernels::qgemm_reads_packed(isa) ? nullptr : d.w.data();
  g.ldw = c.k + c.w_pad;
  g.wpack = packed ? d.wpack.data() : nullptr;
  g.bias = d.bias.data();
  g.wsum = d.wsum.data();
  g.mult = d.mult.data();
  g.shift = d.shift.data();
  g.mult_neg = d.mult_neg.data();
  g.shift_neg = d.shift_neg.data();
  g.out_zero_point = d.zp;
  g.out_lo = d.lo;
  if (c.f32_out) {
    g.deq = d.deq.data();
    g.deq_neg = d.deq_neg.data();
    g.yf = yf;
    g.ldyf = c.n + 2;
  } else {
    g.y = y;
    g.ldy = c.n + 3;
  }
  return g;
}

// The documented formulas, in int64, without requant.hpp.
void exact(const QCase& c, const QData& d, std::vector<std::int8_t>& y, std::vector<float>& yf) {
  for (size_t i = 0; i < c.m; ++i)
    for (size_t j = 0; j < c.n; ++j) {
      std::int64_t acc = d.bias[j];
      for (size_t p = 0; p < c.k; ++p)
        acc += std::int64_t{d.x[c.x_off + i * (c.k + c.x_pad) + p]} * d.w[j * (c.k + c.w_pad) + p];
      REQUIRE(acc >= std::numeric_limits<std::int32_t>::min());
      REQUIRE(acc <= std::numeric_limits<std::int32_t>::max());
      if (c.f32_out) {
        yf[i * (c.n + 2) + j] = static_cast<float>(static_cast<std::int32_t>(acc)) * (acc >= 0 ? d.deq[j] : d.deq_neg[j]);
        continue;
      }
      const std::int64_t m = acc >= 0 ? d.mult[j] : d.mult_neg[j];
      const int s = acc >= 0 ? d.shift[j] : d.shift_neg[j];
      const std::int64_t prod = acc * m + (std::int64_t{1} << (s - 1));
      // Floor division by 2^s, written without a shift of a negative number.
      const std::int64_t div = std::int64_t{1} << s;
      std::int64_t r = prod / div;
      if (prod % div != 0 && prod < 0) --r;
      std::int64_t q = d.zp + r;
      if (q < d.lo) q = d.lo;
      if (q > 127) q = 127;
      y[i * (c.n + 3) + j] = static_cast<std::int8_t>(q);
    }
}

std::vector<QCase> cases(bool gemv) {
  std::vector<QCase> out;
  const size_t ms_gemv[] = {1};
  const size_t ms_gemm[] = {1, 2, 3, 4, 5, 9};
  const size_t ns[] = {1, 2, 3, 4, 5, 8, 9, 17};
  const size_t ks[] = {1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129, 257, 784};
  const size_t offs[] = {0, 1, 3};
  const std::vector<size_t> ms = gemv ? std::vector<size_t>(std::begin(ms_gemv), std::end(ms_gemv))
                                      : std::vector<size_t>(std::begin(ms_gemm), std::end(ms_gemm));
  int e = 0;
  for (size_t m : ms)
    for (size_t n : ns)
      for (size_t k : ks)
        for (size_t off : offs) {
          ++e;
          out.push_back({m, n, k, off, e % 2 == 0, e % 3, false});
        }
  // Panels of 16 units, blocks of them, and (batched) every batch size around the row tiles.
  const size_t panel_ns[] = {15, 16, 17, 31, 33, 47, 48, 49, 63, 65, 129};
  const size_t panel_ks[] = {1, 2, 3, 4, 5, 6, 11, 13, 26, 64, 67, 131};
  for (size_t n : panel_ns)
    for (size_t k : panel_ks) {
      ++e;
      out.push_back({gemv ? 1u : 1u + static_cast<size_t>(e) % 11, n, k, static_cast<size_t>(e) % 3, e % 2 == 0, e % 3, false});
    }
  if (!gemv)
    for (size_t m = 1; m <= 67; ++m)
      for (size_t k : {size_t{5}, size_t{784}}) {
        ++e;
        out.push_back({m, m % 2 == 0 ? 49u : 10u, k, m % 3, e % 2 == 0, e % 3, false});
      }
  // Strides beyond k.
  const size_t stride_ms[] = {1, 3, 4, 5, 8};
  const size_t stride_ns[] = {3, 4, 7, 8, 9, 10};
  for (size_t m : stride_ms)
    for (size_t n : stride_ns)
      for (size_t k : {size_t{5}, size_t{16}, size_t{33}, size_t{256}}) {
        if (gemv && m != 1) continue;
        ++e;
        out.push_back({m, n, k, static_cast<size_t>(e) % 3, e % 2 == 0, e % 3, false, 1 + static_cast<size_t>(e) % 17,
                       static_cast<size_t>(e) % 5 * 4 + 1});
      }
  // int32 headroom: the largest fan_in whose extreme sum still fits.
  out.push_back({gemv ? 1u : 3u, 5, fennec::kQuantMaxFanIn, 1, false, 0, true});
  out.push_back({gemv ? 1u : 3u, 5, fennec::kQuantMaxFanIn, 0, true, 0, true});
  out.push_back({gemv ? 1u : 9u, 17, fennec::kQuantMaxFanIn - 1, 2, false, 2, true});
  return out;
}

}  // namespace

void check_kernel(const char* id, QGemmFn KernelTable::*fn, const TableUnderTest& t) {
  const bool gemv = std::string(id).rfind("qgemv", 0) == 0;
  std::mt19937 rng(test_seed());
  size_t checked = 0;
  for (const QCase& c : cases(gemv)) {
    const QData d = make_data(rng, c);
    for (bool packed : {true, false}) {
      INFO(id << "/" << t.name << " m=" << c.m << " n=" << c.n << " k=" << c.k << " x_off=" << c.x_off
              << (c.f32_out ? " f32" : " int8") << " epilogue=" << c.epilogue << (packed ? " packed" : " unpacked"));
      const std::int8_t kCanary = 0x5A;
      std::vector<std::int8_t> y(c.m * (c.n + 3) + 8, kCanary), y_oracle = y, y_exact = y;
      std::vector<float> yf(c.m * (c.n + 2) + 8, -7.f), yf_oracle = yf, yf_exact = yf;
      (t.table->*fn)(args_for(c, d, y.data(), yf.data(), packed, t.isa));
      (t.oracle->*fn)(args_for(c, d, y_oracle.data(), yf_oracle.data(), packed, fennec::Isa::kRef));
      exact(c, d, y_exact, yf_exact);
      // Bit-identical, canaries (strides, tail) included: y_exact holds the canaries where no
      // output belongs.
      CHECK(std::memcmp(y.data(), y_exact.data(), y.size()) == 0);
      CHECK(std::memcmp(yf.data(), yf_exact.data(), yf.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(y.data(), y_oracle.data(), y.size()) == 0);
      CHECK(std::memcmp(yf.data(), yf_oracle.data(), yf.size() * sizeof(float)) == 0);
      ++checked;
    }
  }
  CHECK(checked > 100);
}

}  // namespace fennec_ktest
