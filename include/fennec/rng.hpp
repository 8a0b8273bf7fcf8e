// SPDX-License-Identifier: Apache-2.0
// Portable random numbers: the same seed gives the same bits on every platform.
//
// Generator: xoshiro128** (32-bit state words, cheap on Cortex-M), seeded through splitmix64.
// Normal samples use Marsaglia's polar method with Fennec's own IEEE-exact logarithm (only
// +, -, *, / and sqrt, all correctly rounded, with floating-point contraction disabled), so no
// libm difference between glibc, newlib or compilers can change a sample.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fennec {

class Rng {
 public:
  struct State {
    std::uint32_t s[4];
    // Second polar-method sample kept for the next normal() call.
    double spare;
    std::uint32_t has_spare;
  };

  explicit Rng(std::uint64_t seed = 0x5EEDF00DULL) { reseed(seed); }
  // A generator continuing from a saved state (no seeding code runs: constexpr).
  constexpr explicit Rng(const State& s) : state_(s) {}
  void reseed(std::uint64_t seed);

  std::uint32_t next_u32();
  // The next n next_u32() values (the same numbers, without a call each).
  void fill_u32(std::uint32_t* out, std::size_t n);
  // Uniform in [0, 1) with 53 random bits.
  double uniform01();
  // Uniform in [lo, hi). Out of line (like normal(mean, sigma)) so the arithmetic is compiled
  // once, without FMA contraction, and gives the same bits on every platform.
  double uniform(double lo, double hi);
  // Uniform integer in [0, n), unbiased (rejection). n must be > 0.
  std::uint32_t below(std::uint32_t n);
  // Standard normal N(0, 1).
  double normal();
  double normal(double mean, double sigma);

  // Full state, for checkpoints: restoring it continues the exact same sequence.
  State state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  State state_{};
};

}  // namespace fennec
