// SPDX-License-Identifier: Apache-2.0
// Built with -ffp-contract=off (lib/CMakeLists.txt): every operation here is a single correctly
// rounded IEEE operation, so results are bit-identical on x86, ARM and Cortex-M.
#include "fennec/rng.hpp"

#include <cmath>

#include "fennec/detail/portable_log.hpp"

namespace fennec {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

}  // namespace

void Rng::reseed(std::uint64_t seed) {
  std::uint64_t x = seed;
  const std::uint64_t a = splitmix64(x);
  const std::uint64_t b = splitmix64(x);
  state_.s[0] = static_cast<std::uint32_t>(a);
  state_.s[1] = static_cast<std::uint32_t>(a >> 32);
  state_.s[2] = static_cast<std::uint32_t>(b);
  state_.s[3] = static_cast<std::uint32_t>(b >> 32);
  // xoshiro must not start from the all-zero state (splitmix64 makes it astronomically unlikely).
  if ((state_.s[0] | state_.s[1] | state_.s[2] | state_.s[3]) == 0) state_.s[0] = 1;
  state_.spare = 0.0;
  state_.has_spare = 0;
}

std::uint32_t Rng::next_u32() {  // xoshiro128**
  std::uint32_t* s = state_.s;
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

void Rng::fill_u32(std::uint32_t* out, std::size_t n) {
  // next_u32's steps on a local copy of the state, which then stays in registers.
  std::uint32_t s0 = state_.s[0], s1 = state_.s[1], s2 = state_.s[2], s3 = state_.s[3];
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = rotl(s1 * 5, 7) * 9;
    const std::uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
  }
  state_.s[0] = s0;
  state_.s[1] = s1;
  state_.s[2] = s2;
  state_.s[3] = s3;
}

double Rng::uniform01() {
  const std::uint32_t hi = next_u32() >> 5;  // 27 bits
  const std::uint32_t lo = next_u32() >> 6;  // 26 bits
  return (static_cast<double>(hi) * 67108864.0 + static_cast<double>(lo)) * (1.0 / 9007199254740992.0);
}

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

double Rng::normal(double mean, double sigma) { return mean + sigma * normal(); }

std::uint32_t Rng::below(std::uint32_t n) {
  // Lemire's nearly-divisionless method: unbiased, one multiply in the common case.
  std::uint64_t m = static_cast<std::uint64_t>(next_u32()) * n;
  std::uint32_t low = static_cast<std::uint32_t>(m);
  if (low < n) {
    const std::uint32_t threshold = static_cast<std::uint32_t>(-n) % n;
    while (low < threshold) {
      m = static_cast<std::uint64_t>(next_u32()) * n;
      low = static_cast<std::uint32_t>(m);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

double detail::portable_log(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(f), f = (m-1)/(m+1), |f| < 0.172,
  // summed as an odd series to 25th order (truncation < 1e-19).
  int e = 0;
  double m = std::frexp(x, &e);  // exact
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double f = (m - 1.0) / (m + 1.0);
  const double s = f * f;
  double series = 1.0 / 25.0;
  for (int k = 23; k >= 1; k -= 2) series = 1.0 / k + s * series;
  const double log_m = 2.0 * f * series;
  const double ln2_hi = 6.93147180369123816490e-01;  // exact in 32 bits of mantissa
  const double ln2_lo = 1.90821492927058770002e-10;
  return static_cast<double>(e) * ln2_hi + (static_cast<double>(e) * ln2_lo + log_m);
}

double Rng::normal() {
  if (state_.has_spare) {
    state_.has_spare = 0;
    return state_.spare;
  }
  double u, v, s;
  do {  // Marsaglia polar method
    u = 2.0 * uniform01() - 1.0;
    v = 2.0 * uniform01() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double scale = std::sqrt(-2.0 * detail::portable_log(s) / s);  // sqrt is correctly rounded
  state_.spare = v * scale;
  state_.has_spare = 1;
  return u * scale;
}

}  // namespace fennec
