// SPDX-License-Identifier: Apache-2.0
// Same seed, same bits: checksums of Rng streams and weight initialisation that must be identical
// on every platform (x86-64, aarch64, armv7, Cortex-M4). Shared by tests/platform (Catch2, Linux
// targets) and the Cortex-M4 example firmware, so every target checks the same committed values.
//
// The values were recorded on x86-64 (SSE2 doubles, no contraction), where every step is a
// correctly rounded IEEE operation; any platform that fuses a multiply-add, uses x87 precision or
// a different libm in this path changes a checksum. tests/core/golden/make_golden.py derives every
// value here (and test_same_seed.cpp's kModelInitHash) again from the documented algorithms,
// without the library; the CTest test golden_checksums_from_algorithms fails if one differs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fennec/init.hpp"
#include "fennec/detail/portable_log.hpp"
#include "fennec/rng.hpp"
#include "fennec/tensor.hpp"

namespace same_seed {

// FNV-1a 64 over the little-endian bytes of each value (independent of host endianness).
struct Fnv1a {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add_u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xFFu;
      h *= 0x100000001b3ULL;
    }
  }
  void add_u64(std::uint64_t v) {
    add_u32(static_cast<std::uint32_t>(v));
    add_u32(static_cast<std::uint32_t>(v >> 32));
  }
  void add_float(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    add_u32(u);
  }
  void add_double(double d) {
    std::uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    add_u64(u);
  }
};

inline constexpr std::uint64_t kSeed = 0x5EEDF00DCAFEULL;

inline std::uint64_t hash_u32_stream() {
  fennec::Rng rng(kSeed);
  Fnv1a f;
  for (int i = 0; i < 4096; ++i) f.add_u32(rng.next_u32());
  return f.h;
}

inline std::uint64_t hash_uniform01() {
  fennec::Rng rng(kSeed + 1);
  Fnv1a f;
  for (int i = 0; i < 1024; ++i) f.add_double(rng.uniform01());
  for (int i = 0; i < 256; ++i) f.add_double(rng.uniform(-2.5, 7.25));
  return f.h;
}

inline std::uint64_t hash_normal() {
  fennec::Rng rng(kSeed + 2);
  Fnv1a f;
  for (int i = 0; i < 1024; ++i) f.add_double(rng.normal());
  for (int i = 0; i < 256; ++i) f.add_double(rng.normal(0.5, 3.0));
  return f.h;
}

inline std::uint64_t hash_below() {
  fennec::Rng rng(kSeed + 3);
  const std::uint32_t ns[] = {1u, 2u, 3u, 7u, 10u, 1000u, 0x80000001u, 0xFFFFFFFFu};
  Fnv1a f;
  for (std::uint32_t n : ns)
    for (int i = 0; i < 64; ++i) f.add_u32(rng.below(n));
  return f.h;
}

inline std::uint64_t hash_portable_log() {
  Fnv1a f;
  const double edges[] = {1.0, 2.0, 0.5, 0.70710678118654752440, 1.4142135623730950488, 1e-300,
                          4.9406564584124654e-324, 1.7976931348623157e308, 3.0, 10.0};
  for (double x : edges) f.add_double(fennec::detail::portable_log(x));
  fennec::Rng rng(kSeed + 4);
  for (int i = 0; i < 512; ++i) {
    double u = rng.uniform01();
    if (u == 0.0) u = 0.5;
    f.add_double(fennec::detail::portable_log(u));
  }
  return f.h;
}

inline constexpr std::size_t kInitRows = 17, kInitCols = 23, kInitStride = 29;
inline constexpr float kPadSentinel = -12345.0f;

// Every initialiser on a 17 x 23 matrix with row stride 29, each from its own seed. The padding
// columns are pre-filled with a sentinel and must come back untouched. `buffer` holds
// kInitRows * kInitStride floats. Returns 0 (an impossible FNV value here) if a call fails or the
// padding was written.
inline std::uint64_t hash_init(float* buffer) {
  const fennec::Init inits[] = {
      fennec::Init::zeros(),          fennec::Init::constant(0.125f),
      fennec::Init::normal(0.5f, 2.f), fennec::Init::uniform(-1.f, 3.f),
      fennec::Init::xavier_normal(),  fennec::Init::xavier_uniform(),
      fennec::Init::glorot_normal(),  fennec::Init::glorot_uniform(),
      fennec::Init::he_normal(),      fennec::Init::he_uniform(),
  };
  Fnv1a f;
  std::uint64_t seed = kSeed + 100;
  for (const fennec::Init& init : inits) {
    for (std::size_t i = 0; i < kInitRows * kInitStride; ++i) buffer[i] = kPadSentinel;
    fennec::Rng rng(seed++);
    const fennec::MatrixView w(buffer, kInitRows, kInitCols, kInitStride);
    if (!fennec::initialize(init, w, rng).is_ok()) return 0;
    for (std::size_t r = 0; r < kInitRows; ++r) {
      for (std::size_t c = 0; c < kInitStride; ++c) {
        const float v = buffer[r * kInitStride + c];
        if (c < kInitCols) {
          f.add_float(v);
        } else if (v != kPadSentinel) {
          return 0;
        }
      }
    }
  }
  return f.h;
}

struct Expected {
  const char* name;
  std::uint64_t (*compute)();
  std::uint64_t value;
};

inline float g_init_buffer[kInitRows * kInitStride];
inline std::uint64_t hash_init_static() { return hash_init(g_init_buffer); }

// Recorded on x86-64 (see the top of this file).
inline constexpr Expected kExpected[] = {
    {"rng.next_u32", hash_u32_stream, 0xbafadeab903e867fULL},
    {"rng.uniform01", hash_uniform01, 0xa496ac62a801d568ULL},
    {"rng.normal", hash_normal, 0xc360f978333a2986ULL},
    {"rng.below", hash_below, 0x79fdc7700d29a41aULL},
    {"portable_log", hash_portable_log, 0xcd150748a067a9b7ULL},
    {"initialize(all kinds)", hash_init_static, 0x6466f7602d5ee716ULL},
};

}  // namespace same_seed
