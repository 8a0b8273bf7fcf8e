// SPDX-License-Identifier: Apache-2.0
// Non-owning views of float data. Row-major; `stride` is the distance in floats between the
// starts of consecutive rows (>= cols). Views never allocate or free.
#pragma once

#include <cstddef>

namespace fennec {

struct MatrixView {
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  constexpr MatrixView() = default;
  constexpr MatrixView(float* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c), stride(c) {}
  constexpr MatrixView(float* d, std::size_t r, std::size_t c, std::size_t s)
      : data(d), rows(r), cols(c), stride(s) {}

  float* row(std::size_t i) const { return data + i * stride; }
  float& operator()(std::size_t i, std::size_t j) const { return data[i * stride + j]; }
  std::size_t size() const { return rows * cols; }
};

struct ConstMatrixView {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  constexpr ConstMatrixView() = default;
  constexpr ConstMatrixView(const float* d, std::size_t r, std::size_t c)
      : data(d), rows(r), cols(c), stride(c) {}
  constexpr ConstMatrixView(const float* d, std::size_t r, std::size_t c, std::size_t s)
      : data(d), rows(r), cols(c), stride(s) {}
  constexpr ConstMatrixView(const MatrixView& m)  // NOLINT: implicit mutable -> const
      : data(m.data), rows(m.rows), cols(m.cols), stride(m.stride) {}

  const float* row(std::size_t i) const { return data + i * stride; }
  const float& operator()(std::size_t i, std::size_t j) const { return data[i * stride + j]; }
  std::size_t size() const { return rows * cols; }
};

struct VectorView {
  float* data = nullptr;
  std::size_t size = 0;

  float& operator[](std::size_t i) const { return data[i]; }
};

struct ConstVectorView {
  const float* data = nullptr;
  std::size_t size = 0;

  constexpr ConstVectorView() = default;
  constexpr ConstVectorView(const float* d, std::size_t n) : data(d), size(n) {}
  constexpr ConstVectorView(const VectorView& v) : data(v.data), size(v.size) {}  // NOLINT
  const float& operator[](std::size_t i) const { return data[i]; }
};

}  // namespace fennec
