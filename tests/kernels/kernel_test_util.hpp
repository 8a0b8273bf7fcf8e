// SPDX-License-Identifier: Apache-2.0
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
#include "kernels/isa_registry.hpp"
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

inline std::size_t lanes_of(Isa isa) { return fennec::kernels::isa_info(isa)->lanes; }

// The tables a CI step declared this machine can run (FENNEC_RUNNABLE_TABLES, a comma list of
// ISA names derived from /proc/cpuinfo by .ci/runnable-tables.sh), and whether it declared any.
struct RunnableDeclaration {
  bool given = false;
  bool runnable[fennec::kernels::kIsaCount] = {};  // indexed by Isa
};

inline RunnableDeclaration runnable_declaration() {
  RunnableDeclaration d;
  const char* s = std::getenv("FENNEC_RUNNABLE_TABLES");
  if (!s) return d;
  d.given = true;
  std::string list(s);
  for (std::size_t begin = 0; begin <= list.size();) {
    std::size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    const std::string name = list.substr(begin, end - begin);
    begin = end + 1;
    if (name.empty()) continue;
    fennec::Result<Isa> isa = fennec::parse_isa(name.c_str());
    if (isa.is_ok() && isa.value() != Isa::kAuto) {
      d.runnable[static_cast<int>(isa.value())] = true;
    } else {
      FAIL_CHECK("FENNEC_RUNNABLE_TABLES names an unknown table '" << name << "'");
    }
  }
  return d;
}

// Prints, once per test case, which SIMD tables it ran and which it could not, so the CI log
// shows the coverage (CTest keeps a passing test's output in its log, never shows a WARN).
inline void report_tables(const std::string& ran, const std::string& not_run) {
  static std::string reported;
  const std::string test = Catch::getResultCapture().getCurrentTestName();
  if (test == reported) return;
  reported = test;
  Catch::cout() << "kernel tables run by \"" << test << "\": " << (ran.empty() ? "none" : ran)
                << "; not run: " << (not_run.empty() ? "none" : not_run) << std::endl;
}

// Every SIMD table this build compiled and this CPU can run; one not compiled into this build is
// not a table. A compiled table the CPU lacks is skipped with a WARN on a developer's machine. In
// CI (FENNEC_CI set by .ci/run, or a declaration given) "compiled but not run" is a failure
// unless the step declared the table not runnable here, and the library's CPU detection must
// agree with the declaration both ways (a table declared runnable that the library refuses is a
// failure too): on a CI machine without AVX-512 the avx512 table is then skipped by declaration,
// visibly, never by accident.
inline std::vector<SimdTable> simd_tables() {
  const RunnableDeclaration declared = runnable_declaration();
  const bool in_ci = std::getenv("FENNEC_CI") != nullptr;
  std::vector<SimdTable> out;
  std::string ran, not_run;
  for (const fennec::kernels::IsaInfo& info : fennec::kernels::kIsas) {
    const Isa isa = info.isa;
    if (isa == Isa::kRef || !fennec::isa_compiled(isa)) continue;
    const char* name = fennec::isa_name(isa);
    const bool supported = fennec::isa_supported(isa);
    if (declared.given && declared.runnable[static_cast<int>(isa)] != supported) {
      FAIL_CHECK("kernel table " << name << (supported ? " runs on this CPU but the CI step declared it not runnable"
                                                       : " is declared runnable but the library says this CPU "
                                                         "cannot run it")
                                 << " (FENNEC_RUNNABLE_TABLES=" << std::getenv("FENNEC_RUNNABLE_TABLES") << ")");
    }
    if (!supported) {
      not_run += (not_run.empty() ? "" : " ") + std::string(name);
      if (declared.given) {
        // Declared not runnable here (a mismatch already failed above): skipped, and reported.
      } else if (in_ci) {
        FAIL_CHECK("kernel table " << name << " is compiled but this CPU cannot run it, and no CI step declared "
                                           "which tables this machine runs (FENNEC_RUNNABLE_TABLES)");
      } else {
        WARN("kernel table " << name << " is compiled but this CPU cannot run it: NOT TESTED");
      }
      continue;
    }
    ran += (ran.empty() ? "" : " ") + std::string(name);
    out.push_back({isa, fennec::kernels::kernel_table_for(isa), lanes_of(isa), name});
  }
  if (out.empty()) WARN("no SIMD kernel table in this build: only the reference runs");
  report_tables(ran, not_run);
  return out;
}

inline const KernelTable& ref() { return fennec::kernels::ref_kernel_table(); }

// A table a registry checker runs, and the table it is checked against: every SIMD table
// against the reference, the reference against the plain reference loops.
struct TableUnderTest {
  Isa isa;
  const KernelTable* table;
  const KernelTable* oracle;
  std::size_t lanes;  // drives the tail sizes swept
  const char* name;
};

inline TableUnderTest simd_under_test(const SimdTable& st) { return {st.isa, st.table, &ref(), st.lanes, st.name}; }

inline TableUnderTest reference_under_test() {
  return {Isa::kRef, &ref(), &fennec::kernels::plain_ref_kernel_table(), lanes_of(Isa::kRef), "ref"};
}

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
