// SPDX-License-Identifier: Apache-2.0
// Weight initialisers. fan_in is a layer's input width, fan_out its output width.
//
//   zeros, constant(c), normal(mean, sigma), uniform(lo, hi)
//   xavier_normal   N(0, 1/fan_in)               (the chapter's "Xavier")
//   xavier_uniform  U(-sqrt(3/fan_in), +)        (same variance)
//   glorot_normal   N(0, 2/(fan_in+fan_out))     (Glorot & Bengio's fan average)
//   glorot_uniform  U(-sqrt(6/(fan_in+fan_out)), +)
//   he_normal       N(0, 2/fan_in)
//   he_uniform      U(-sqrt(6/fan_in), +)
#pragma once

#include <cstddef>

#include "fennec/rng.hpp"
#include "fennec/status.hpp"
#include "fennec/tensor.hpp"

namespace fennec {

enum class InitKind : int {
  kZeros = 0,
  kConstant,
  kNormal,
  kUniform,
  kXavierNormal,
  kXavierUniform,
  kGlorotNormal,
  kGlorotUniform,
  kHeNormal,
  kHeUniform,
};

struct Init {
  InitKind kind = InitKind::kHeNormal;
  float a = 0.f;  // constant value | mean | lower bound
  float b = 0.f;  // sigma | upper bound

  static constexpr Init zeros() { return {InitKind::kZeros, 0.f, 0.f}; }
  static constexpr Init constant(float c) { return {InitKind::kConstant, c, 0.f}; }
  static constexpr Init normal(float mean, float sigma) { return {InitKind::kNormal, mean, sigma}; }
  static constexpr Init uniform(float lo, float hi) { return {InitKind::kUniform, lo, hi}; }
  static constexpr Init xavier_normal() { return {InitKind::kXavierNormal, 0.f, 0.f}; }
  static constexpr Init xavier_uniform() { return {InitKind::kXavierUniform, 0.f, 0.f}; }
  static constexpr Init glorot_normal() { return {InitKind::kGlorotNormal, 0.f, 0.f}; }
  static constexpr Init glorot_uniform() { return {InitKind::kGlorotUniform, 0.f, 0.f}; }
  static constexpr Init he_normal() { return {InitKind::kHeNormal, 0.f, 0.f}; }
  static constexpr Init he_uniform() { return {InitKind::kHeUniform, 0.f, 0.f}; }
};

const char* init_name(InitKind k);
// sigma >= 0 and finite for normal, lo < hi for uniform, finite constants.
Status validate(const Init& init);

// Standard deviation the scheme targets for a layer with these fans (0 for zeros/constant).
double init_stddev(const Init& init, std::size_t fan_in, std::size_t fan_out);

// Fill `w` (fan_out rows x fan_in cols) from `rng`, row by row. Same seed, same bits everywhere.
Status initialize(const Init& init, MatrixView w, Rng& rng);

}  // namespace fennec
