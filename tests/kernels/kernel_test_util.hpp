// Helpers for the kernel tests: the SIMD tables to test, seeded data, tolerance checks.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fennec/isa.hpp"
#include "kernels/kernel_table.hpp"

namespace fennec_ktest {

using fennec::Isa;
using fennec::kernels::KernelTable;

struct SimdTable {
  Isa isa;
  const KernelTable* table;
  std::size_t lanes;  // floats per batch: drives the tail sizes swept
  const char* name;
};

inline std::size_t lanes_of(Isa isa) {
  switch (isa) {
    case Isa::kAvx2Fma: return 8;
    case Isa::kAvx512: return 16;
    default: return 4;  // sse2, neon, neon64
  }
}

// Every SIMD table this build compiled and this CPU can run. A compiled table the CPU lacks is
// reported with WARN (never silently passed); one not compiled into this build is not a table.
inline std::vector<SimdTable> simd_tables() {
  std::vector<SimdTable> out;
  for (Isa isa : {Isa::kSse2, Isa::kAvx2Fma, Isa::kAvx512, Isa::kNeon, Isa::kNeon64}) {
    if (!fennec::isa_compiled(isa)) continue;
    if (!fennec::isa_supported(isa)) {
      WARN("kernel table " << fennec::isa_name(isa) << " is compiled but this CPU cannot run it: NOT TESTED");
      continue;
    }
    out.push_back({isa, fennec::kernels::kernel_table_for(isa), lanes_of(isa), fennec::isa_name(isa)});
  }
  if (out.empty()) WARN("no SIMD kernel table in this build: only the reference runs");
  return out;
}

inline const KernelTable& ref() { return fennec::kernels::ref_kernel_table(); }

// FENNEC_TEST_SEED overrides the fixed default so a failure can be replayed; every test INFOs it.
inline std::uint32_t test_seed() {
  const char* s = std::getenv("FENNEC_TEST_SEED");
  return s ? static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10)) : 20261129u;
}

// FENNEC_TEST_SCALE < 1 (e.g. under qemu) drops the largest shapes.
inline double test_scale() {
  const char* s = std::getenv("FENNEC_TEST_SCALE");
  if (!s) return 1.0;
  const double v = std::atof(s);
  return v > 0 ? v : 1.0;
}

inline void fill_uniform(std::mt19937& rng, float* p, std::size_t n, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (std::size_t i = 0; i < n; ++i) p[i] = d(rng);
}

inline std::vector<float> uniform(std::mt19937& rng, std::size_t n, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  fill_uniform(rng, v.data(), n, lo, hi);
  return v;
}

// |x - r| <= atol + rtol*|r|. A NaN on either side is never close: every kernel output compared
// this way must be a number (C pre-filled with NaN for beta == 0 must not leak into any table's
// result, the reference's included). A test that expects a NaN checks std::isnan itself.
inline bool close(double x, double r, double atol, double rtol) {
  if (std::isnan(x) || std::isnan(r)) return false;
  if (std::isinf(x) || std::isinf(r)) return x == r;
  return std::fabs(x - r) <= atol + rtol * std::fabs(r);
}

// Whether buf[i] lies in the (m x n) block that starts at `off` with row stride ld.
inline bool in_block(std::size_t i, std::size_t off, std::size_t m, std::size_t n, std::size_t ld) {
  return i >= off && (i - off) / ld < m && (i - off) % ld < n;
}

// Entries of `out` outside that block that differ from the sentinel `before` held there (a
// kernel may write only its block). Compared with the sentinel itself, never with another
// table's output, so a write past the end that the reference makes too is still caught.
inline std::size_t canaries_overwritten(const std::vector<float>& out, const std::vector<float>& before,
                                        std::size_t off, std::size_t m, std::size_t n, std::size_t ld) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!in_block(i, off, m, n, ld) && std::memcmp(&out[i], &before[i], sizeof(float)) != 0) {
      if (bad < 3) FAIL_CHECK("wrote outside its block at [" << i << "]: " << out[i] << ", was " << before[i]);
      ++bad;
    }
  return bad;
}

// Sizes around the lane count L (STYLE.md): {1, L-1, L, L+1, 2L+3, 3L, 64, 257}.
inline std::vector<std::size_t> lane_sizes(std::size_t L) {
  return {1, L - 1 ? L - 1 : 1, L, L + 1, 2 * L + 3, 3 * L, 64, 257};
}

}  // namespace fennec_ktest
