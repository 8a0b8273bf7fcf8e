// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the core tests (header-only, test code only).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fennec/fennec.hpp"

namespace fennec_test {

// |x - r| <= atol + rtol*|r| (NaN never passes). Every use states its atol/rtol and why.
inline bool close(double x, double r, double atol, double rtol) {
  return std::fabs(x - r) <= atol + rtol * std::fabs(r);
}

// Byte copy of a vector view, for bit-identity checks.
inline std::vector<unsigned char> bytes_of(fennec::ConstVectorView v) {
  std::vector<unsigned char> b(v.size * sizeof(float));
  if (v.size) std::memcpy(b.data(), v.data, b.size());
  return b;
}

inline std::string str(const fennec::Status& s) {
  return std::string(fennec::status_code_name(s.code())) + ": " + s.message();
}

// An arena over a 64-byte aligned heap buffer (tests may allocate; the library may not).
struct OwnedArena {
  std::vector<unsigned char> storage;
  fennec::Arena arena;
  explicit OwnedArena(std::size_t capacity) : storage(capacity + fennec::kArenaAlignment) {
    arena = fennec::Arena(aligned_base(), capacity);
  }
  unsigned char* aligned_base() {
    auto p = reinterpret_cast<std::uintptr_t>(storage.data());
    p = (p + fennec::kArenaAlignment - 1) / fennec::kArenaAlignment * fennec::kArenaAlignment;
    return reinterpret_cast<unsigned char*>(p);
  }
};

// ---- Double-precision references of the documented maths (for gradient checks) ----

inline double ref_act(const fennec::ActivationSpec& a, double x) {
  using fennec::Activation;
  switch (a.kind) {
    case Activation::kIdentity: return x;
    case Activation::kSigmoid: return 1 / (1 + std::exp(-x));
    case Activation::kTanh: return std::tanh(x);
    case Activation::kRelu: return x > 0 ? x : 0;
    case Activation::kLeakyRelu: return x > 0 ? x : static_cast<double>(a.alpha) * x;
  }
  return NAN;
}

// Mean loss as documented in loss.hpp; `t` dense (one-hot for class labels), row-major.
inline double ref_loss(fennec::Loss loss, const std::vector<double>& z,
                       const std::vector<double>& t, std::size_t rows, std::size_t cols) {
  double total = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const double* zi = &z[i * cols];
    const double* ti = &t[i * cols];
    if (loss == fennec::Loss::kSoftmaxCrossEntropy) {
      double m = zi[0];
      for (std::size_t j = 1; j < cols; ++j) m = std::max(m, zi[j]);
      double s = 0;
      for (std::size_t j = 0; j < cols; ++j) s += std::exp(zi[j] - m);
      const double lse = m + std::log(s);
      for (std::size_t j = 0; j < cols; ++j) total += -ti[j] * (zi[j] - lse);
    } else if (loss == fennec::Loss::kMse) {
      for (std::size_t j = 0; j < cols; ++j) total += (zi[j] - ti[j]) * (zi[j] - ti[j]);
    } else {
      // BCE with logits, stable form: max(z,0) - z t + log(1 + exp(-|z|)).
      for (std::size_t j = 0; j < cols; ++j)
        total += std::max(zi[j], 0.0) - zi[j] * ti[j] + std::log1p(std::exp(-std::fabs(zi[j])));
    }
  }
  return loss == fennec::Loss::kSoftmaxCrossEntropy ? total / double(rows)
                                                    : total / double(rows * cols);
}

}  // namespace fennec_test
