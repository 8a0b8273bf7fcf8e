// SPDX-License-Identifier: Apache-2.0
// Rng: xoshiro128** core against an independent reference, seeding determinism, committed
// checksums (same bits on every platform), uniform/below/normal statistics, portable_log.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fennec/detail/portable_log.hpp"
#include "test_util.hpp"

using namespace fennec;
using fennec::detail::portable_log;
using fennec_test::close;

namespace {

// xoshiro128** 1.1 (Blackman & Vigna), written here independently from the library.
struct RefXoshiro {
  std::uint32_t s[4];
  static std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  std::uint32_t next() {
    const std::uint32_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
};

// FNV-1a 64 over explicit little-endian bytes, so the checksum itself is endian-independent.
struct Fnv {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void byte(unsigned b) {
    h ^= b & 0xffu;
    h *= 0x100000001b3ULL;
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) byte(v >> (8 * i));
  }
  void f64(double d) {
    std::uint64_t v;
    std::memcpy(&v, &d, sizeof v);
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned>(v >> (8 * i)));
  }
};

// See "committed checksum" below for how these were obtained.
constexpr std::uint64_t kU32Checksum = 12765059999869614422ULL;
constexpr std::uint64_t kNormalChecksum = 2876711177155914059ULL;
constexpr std::uint64_t kUniformChecksum = 15897235529031921089ULL;

}  // namespace

TEST_CASE("rng: next_u32 is xoshiro128** (checked against a reference from any state)", "[rng]") {
  Rng rng;
  Rng::State st = rng.state();
  const std::uint32_t init[4] = {1u, 2u, 3u, 4u};
  std::memcpy(st.s, init, sizeof init);
  st.has_spare = 0;
  rng.set_state(st);
  RefXoshiro ref{{1u, 2u, 3u, 4u}};
  // First output from {1,2,3,4}: rotl(2*5, 7)*9 = 1280*9.
  std::uint32_t first = rng.next_u32();
  CHECK(first == 11520u);
  CHECK(first == ref.next());
  for (int i = 0; i < 1000; ++i) REQUIRE(rng.next_u32() == ref.next());

  // And from a seeded state.
  Rng seeded(12345);
  RefXoshiro ref2{};
  std::memcpy(ref2.s, seeded.state().s, sizeof ref2.s);
  for (int i = 0; i < 1000; ++i) REQUIRE(seeded.next_u32() == ref2.next());
}

TEST_CASE("rng: same seed same sequence, reseed restarts, different seeds differ", "[rng]") {
  const std::uint64_t seed = 0xC0FFEEULL;
  INFO("seed " << seed);
  Rng a(seed), b(seed), c(seed + 1);
  bool differs = false;
  std::vector<std::uint32_t> first;
  for (int i = 0; i < 100; ++i) {
    const std::uint32_t x = a.next_u32();
    first.push_back(x);
    REQUIRE(x == b.next_u32());
    differs |= (x != c.next_u32());
  }
  CHECK(differs);
  a.reseed(seed);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next_u32() == first[static_cast<std::size_t>(i)]);
  // Seeding must not leave an all-zero xoshiro state (a fixed point), even for seed 0.
  Rng z(0);
  const Rng::State zs = z.state();
  CHECK((zs.s[0] | zs.s[1] | zs.s[2] | zs.s[3]) != 0u);
}

TEST_CASE("rng: state()/set_state() continue the exact sequence, spare normal included", "[rng]") {
  Rng a(77);
  (void)a.normal();  // leaves a spare sample behind
  const Rng::State saved = a.state();
  double x[5];
  for (double& v : x) v = a.normal();
  const std::uint32_t u = a.next_u32();
  Rng b(1);
  b.set_state(saved);
  for (double v : x) CHECK(b.normal() == v);
  CHECK(b.next_u32() == u);
}

// Committed checksums. They were computed once from the implementation after reviewing it
// (lib/core/rng.cpp at 84a5351, reviewed line by line): splitmix64 seeding (standard constants;
// s0,s1 = low,high word of the first output, s2,s3 of the second), xoshiro128** (checked above
// against an independent reference), uniform01 = (27 bits * 2^26 + 26 bits) / 2^53, Lemire's
// unbiased below(), Marsaglia polar normals (u returned first, v kept as the spare) using
// portable_log (frexp range reduction to [sqrt(1/2), sqrt(2)), atanh series to f^25, split ln2;
// checked below against std::log). Obtained on x86-64 (glibc, gcc 12, Debug), and derived again
// without the library, from the algorithms alone, by golden/make_golden.py (the CTest test
// golden_checksums_from_algorithms compares them). The numbers pin the exact bits so every
// platform (x86-64, aarch64, armv7, any libm) must reproduce them; a deliberate change of
// generator must update them here and in the script.
TEST_CASE("rng: committed checksum of the first values for seed 42", "[rng]") {
  Rng rng(42);
  Fnv u, n;
  for (int i = 0; i < 256; ++i) u.u32(rng.next_u32());
  for (int i = 0; i < 256; ++i) n.f64(rng.normal());
  Fnv f;
  for (int i = 0; i < 64; ++i) f.f64(rng.uniform01());
  INFO("u32 checksum " << u.h << ", normal checksum " << n.h << ", uniform checksum " << f.h);
  CHECK(u.h == kU32Checksum);
  CHECK(n.h == kNormalChecksum);
  CHECK(f.h == kUniformChecksum);
}

TEST_CASE("rng: uniform01 below 1, uniform(lo hi) and below(n) in range and unbiased", "[rng]") {
  const std::uint64_t seed = 2024;
  INFO("seed " << seed);
  Rng rng(seed);
  const int n = 20000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.uniform01();
    REQUIRE(x >= 0.0);
    REQUIRE(x < 1.0);
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  // Standard errors: mean sqrt(1/12/n) = 0.002, variance ~ sqrt(1/180/n) = 0.00053; 5 sigma.
  CHECK(std::fabs(mean - 0.5) <= 5 * 0.00205);
  CHECK(std::fabs(var - 1.0 / 12) <= 5 * 0.00053);
  for (int i = 0; i < 1000; ++i) {
    const double x = rng.uniform(-3.0, 2.0);
    REQUIRE(x >= -3.0);
    REQUIRE(x < 2.0);
  }
  int counts[7] = {};
  for (int i = 0; i < 7000; ++i) {
    const std::uint32_t k = rng.below(7);
    REQUIRE(k < 7u);
    ++counts[k];
  }
  // Each bucket ~ Binomial(7000, 1/7): mean 1000, sd 29.3; 5 sigma.
  for (int c : counts) CHECK(std::abs(c - 1000) <= 147);
  CHECK(rng.below(1) == 0u);
  // n = 2^32 - 1 exercises the rejection path bound.
  for (int i = 0; i < 100; ++i) REQUIRE(rng.below(0xffffffffu) < 0xffffffffu);
}

TEST_CASE("rng: normal() has mean 0, variance 1, and normal(mean, sigma) scales", "[rng]") {
  const std::uint64_t seed = 99;
  INFO("seed " << seed);
  Rng rng(seed);
  const int n = 40000;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    REQUIRE(std::isfinite(x));
    s1 += x;
    s2 += x * x;
    s4 += x * x * x * x;
  }
  const double mean = s1 / n, var = s2 / n - mean * mean, kurt = s4 / n;
  // SE(mean) = 1/sqrt(n) = 0.005, SE(var) = sqrt(2/n) = 0.0071, SE(E x^4) = sqrt(96/n) = 0.049.
  CHECK(std::fabs(mean) <= 5 * 0.005);
  CHECK(std::fabs(var - 1) <= 5 * 0.0071);
  CHECK(std::fabs(kurt - 3) <= 5 * 0.049);
  double m2 = 0;
  for (int i = 0; i < n; ++i) m2 += rng.normal(10.0, 0.5);
  CHECK(std::fabs(m2 / n - 10.0) <= 5 * 0.5 / std::sqrt(double(n)));
}

TEST_CASE("rng: portable_log matches std::log", "[rng]") {
  // A few ulps: atol 1e-15 covers x near 1 (log ~ 0), rtol 4e-16 ~ 2 ulp elsewhere.
  CHECK(portable_log(1.0) == 0.0);
  const double xs[] = {1e-300, 1e-30, 1e-5, 0.1, 0.5, 0.75, 0.999999, 1.0000001, 1.5,
                       2.0,    2.718281828459045, 10.0, 12345.678, 1e10, 1e300,
                       4.9406564584124654e-324 /* smallest subnormal */, 1.7976931348623157e308};
  for (double x : xs) {
    INFO("x = " << x);
    CHECK(close(portable_log(x), std::log(x), 1e-15, 4e-16));
  }
  Rng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const double x = rng.uniform01() + 1e-12;  // the polar method's domain (0, 1)
    INFO("x = " << x);
    REQUIRE(close(portable_log(x), std::log(x), 1e-15, 4e-16));
  }
}

TEST_CASE("rng: fill_u32 gives next_u32's numbers and leaves the same state", "[rng]") {
  fennec::Rng a(123), b(123);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{300}}) {
    std::vector<std::uint32_t> v(n + 1, 0xDEADBEEFu);
    a.fill_u32(v.data(), n);
    for (std::size_t i = 0; i < n; ++i) CHECK(v[i] == b.next_u32());
    CHECK(v[n] == 0xDEADBEEFu);
    CHECK(a.next_u32() == b.next_u32());
  }
}
