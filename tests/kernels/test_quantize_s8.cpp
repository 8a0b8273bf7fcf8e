// SPDX-License-Identifier: Apache-2.0
// The int8 input quantization (QuantizeFn: quantize_s8). Every table must write the oracle's
// bytes exactly: the exact oracle here is computed in double from the documented formula (the
// product rounded to float once, then round half away from zero, the zero point and the clamp),
// independently of quantize_scalar.hpp, and each table is also compared byte for byte with its
// oracle table. Columns sweep the lane sizes (and the model's 784), x starts at float offsets
// {0, 1, 3} with a row stride past the row, y has a stride past the row and canaries around its
// block. Values: random, exact halves (+-(n + 0.5), where a wrong rounding rule shows), the
// floats either side of them, the +-512 clamp and beyond, zeros of both signs, denormals; zero
// points -128, 0, 127. Finiteness: a NaN or Inf at the first, a middle and the last column of
// the last row makes the kernel return false; NaNs in the stride padding must not.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernel_checkers.hpp"

namespace fennec_ktest {
namespace {

using std::size_t;

struct QuantCase {
  size_t rows, cols, x_off;
  float inv_scale;
  std::int32_t zero_point;
};

constexpr size_t kXPad = 5, kYPad = 3;
constexpr std::int8_t kCanary = 0x5A;

std::int8_t exact(float x, float inv_scale, std::int32_t zero_point) {
  double v = static_cast<double>(x * inv_scale);
  v = v > 512.0 ? 512.0 : (v < -512.0 ? -512.0 : v);
  const double q = zero_point + std::round(v);  // std::round: half away from zero
  return static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

// Values that probe the rounding and the clamps at this inverse scale, then random ones.
std::vector<float> values(std::mt19937& rng, const QuantCase& c) {
  const size_t ld = c.cols + kXPad;
  std::vector<float> x(c.x_off + c.rows * ld, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> probes;
  for (int n : {0, 1, 2, 63, 127, 128, 300, 511}) {
    for (float half : {static_cast<float>(n) + 0.5f, -(static_cast<float>(n) + 0.5f)}) {
      const float at = half / c.inv_scale;
      probes.insert(probes.end(), {at, std::nextafter(at, 0.f), std::nextafter(at, 2.f * at)});
    }
  }
  for (float v : {512.f, -512.f, 513.f, -513.f, 1e30f, -1e30f})
    probes.push_back(v / c.inv_scale);
  probes.insert(probes.end(), {0.f, -0.f, std::numeric_limits<float>::denorm_min(), -1e-40f,
                               std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()});
  std::uniform_real_distribution<float> d(-200.f, 200.f);
  size_t p = 0;
  for (size_t i = 0; i < c.rows; ++i)
    for (size_t k = 0; k < c.cols; ++k, ++p) {
      const bool probe = p % 3 == 0 && p / 3 < probes.size();
      x[c.x_off + i * ld + k] = probe ? probes[p / 3] : d(rng) / c.inv_scale;
    }
  return x;
}

fennec::kernels::QuantizeArgs args_for(const QuantCase& c, const std::vector<float>& x, std::vector<std::int8_t>& y) {
  fennec::kernels::QuantizeArgs a;
  a.rows = c.rows;
  a.cols = c.cols;
  a.x = x.data() + c.x_off;
  a.ldx = c.cols + kXPad;
  a.inv_scale = c.inv_scale;
  a.zero_point = c.zero_point;
  a.y = y.data() + 1;
  a.ldy = c.cols + kYPad;
  return a;
}

}  // namespace

void check_kernel(const char* id, QuantizeFn KernelTable::*fn, const TableUnderTest& t) {
  std::mt19937 rng(test_seed());
  std::vector<size_t> colss = lane_sizes(t.lanes);
  colss.push_back(784);
  size_t checked = 0;
  int e = 0;
  for (size_t rows : {size_t{1}, size_t{2}, size_t{5}})
    for (size_t cols : colss)
      for (size_t x_off : {size_t{0}, size_t{1}, size_t{3}}) {
        ++e;
        // Inverse scales: a power of two (the halves are exact) and two that are not.
        const float inv = e % 3 == 0 ? 4.f : (e % 3 == 1 ? 3.7f : 0.0137f);
        const std::int32_t zp = e % 4 == 0 ? -128 : (e % 4 == 1 ? 0 : (e % 4 == 2 ? 127 : -7));
        const QuantCase c{rows, cols, x_off, inv, zp};
        INFO(id << "/" << t.name << " rows=" << rows << " cols=" << cols << " x_off=" << x_off << " inv=" << inv
                << " zp=" << zp << " seed=" << test_seed());
        std::vector<float> x = values(rng, c);
        const size_t ysize = 1 + rows * (cols + kYPad) + 8;
        std::vector<std::int8_t> y(ysize, kCanary), y_oracle = y, y_exact = y;
        CHECK((t.table->*fn)(args_for(c, x, y)));
        CHECK((t.oracle->*fn)(args_for(c, x, y_oracle)));
        for (size_t i = 0; i < rows; ++i)
          for (size_t k = 0; k < cols; ++k)
            y_exact[1 + i * (cols + kYPad) + k] = exact(x[x_off + i * (cols + kXPad) + k], inv, zp);
        CHECK(std::memcmp(y.data(), y_exact.data(), ysize) == 0);
        CHECK(std::memcmp(y.data(), y_oracle.data(), ysize) == 0);
        ++checked;
        // A non-finite value anywhere in the block is reported; the stride padding (NaN above)
        // was not.
        for (size_t k : {size_t{0}, cols / 2, cols - 1})
          for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
            std::vector<float> xb = x;
            xb[x_off + (rows - 1) * (cols + kXPad) + k] = bad;
            std::vector<std::int8_t> yb(ysize, kCanary);
            INFO("non-finite " << bad << " at row " << rows - 1 << " column " << k);
            CHECK_FALSE((t.table->*fn)(args_for(c, xb, yb)));
          }
      }
  CHECK(checked > 50);
}

}  // namespace fennec_ktest
