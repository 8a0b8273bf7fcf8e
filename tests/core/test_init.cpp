// SPDX-License-Identifier: Apache-2.0
// Initialisers: target standard deviations, sample mean/variance at fan_in 500, bounds,
// determinism, strided views, validation.
#include <cmath>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;

namespace {

constexpr std::size_t kFanIn = 500;
constexpr std::size_t kFanOut = 200;  // 100,000 samples per scheme

struct Expect {
  Init init;
  double mean;
  double var;
  bool uniform;  // bounded support [mean - sqrt(3 var), mean + sqrt(3 var))
};

std::vector<Expect> schemes() {
  const double fi = kFanIn, fo = kFanOut;
  return {
      {Init::normal(0.5f, 2.0f), 0.5, 4.0, false},
      {Init::uniform(-1.0f, 3.0f), 1.0, 16.0 / 12.0, true},
      {Init::xavier_normal(), 0.0, 1.0 / fi, false},
      {Init::xavier_uniform(), 0.0, 1.0 / fi, true},
      {Init::glorot_normal(), 0.0, 2.0 / (fi + fo), false},
      {Init::glorot_uniform(), 0.0, 2.0 / (fi + fo), true},
      {Init::he_normal(), 0.0, 2.0 / fi, false},
      {Init::he_uniform(), 0.0, 2.0 / fi, true},
  };
}

}  // namespace

TEST_CASE("init: init_stddev follows the documented formulas", "[init]") {
  // Exact formulas; rtol 1e-12 allows only rounding.
  const double fi = 500, fo = 200;
  CHECK(init_stddev(Init::zeros(), 500, 200) == 0.0);
  CHECK(init_stddev(Init::constant(3.f), 500, 200) == 0.0);
  CHECK(close(init_stddev(Init::normal(1.f, 0.25f), 500, 200), 0.25, 0, 1e-12));
  CHECK(close(init_stddev(Init::uniform(-1.f, 3.f), 500, 200), 4 / std::sqrt(12.0), 0, 1e-7));
  CHECK(close(init_stddev(Init::xavier_normal(), 500, 200), std::sqrt(1 / fi), 0, 1e-12));
  CHECK(close(init_stddev(Init::xavier_uniform(), 500, 200), std::sqrt(1 / fi), 0, 1e-12));
  CHECK(close(init_stddev(Init::glorot_normal(), 500, 200), std::sqrt(2 / (fi + fo)), 0, 1e-12));
  CHECK(close(init_stddev(Init::glorot_uniform(), 500, 200), std::sqrt(2 / (fi + fo)), 0, 1e-12));
  CHECK(close(init_stddev(Init::he_normal(), 500, 200), std::sqrt(2 / fi), 0, 1e-12));
  CHECK(close(init_stddev(Init::he_uniform(), 500, 200), std::sqrt(2 / fi), 0, 1e-12));
}

TEST_CASE("init: sample mean and variance at fan_in 500 match each scheme", "[init]") {
  const std::uint64_t seed = 31337;
  std::vector<float> buf(kFanIn * kFanOut);
  for (const Expect& e : schemes()) {
    INFO("scheme " << init_name(e.init.kind) << ", seed " << seed);
    Rng rng(seed);
    MatrixView w(buf.data(), kFanOut, kFanIn);
    REQUIRE(initialize(e.init, w, rng).is_ok());
    const double n = static_cast<double>(buf.size());
    double s1 = 0;
    for (float v : buf) s1 += v;
    const double mean = s1 / n;
    double s2 = 0;
    float lo = buf[0], hi = buf[0];
    for (float v : buf) {
      s2 += (v - mean) * (v - mean);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double var = s2 / (n - 1);
    const double sd = std::sqrt(e.var);
    // Sampling tolerance, 5 standard errors: SE(mean) = sd/sqrt(n);
    // SE(var) = var*sqrt(2/(n-1)) for a normal (larger than a uniform's var*sqrt(0.8/n)).
    CHECK(std::fabs(mean - e.mean) <= 5 * sd / std::sqrt(n));
    CHECK(std::fabs(var - e.var) <= 5 * e.var * std::sqrt(2 / (n - 1)));
    if (e.uniform) {
      // Bounds a +- sqrt(3 var) (float rounding of the bound: rtol 1e-6).
      const double half = std::sqrt(3 * e.var);
      CHECK(lo >= e.mean - half * (1 + 1e-6));
      CHECK(hi <= e.mean + half * (1 + 1e-6));
      // ...and the samples reach close to both ends (100k samples: gap ~ width/1e5).
      CHECK(lo <= e.mean - half * 0.999);
      CHECK(hi >= e.mean + half * 0.999);
    }
  }
}

TEST_CASE("init: zeros and constant", "[init]") {
  std::vector<float> buf(6 * 7, 123.f);
  MatrixView w(buf.data(), 6, 7);
  Rng rng(1);
  REQUIRE(initialize(Init::constant(-2.5f), w, rng).is_ok());
  for (float v : buf) REQUIRE(v == -2.5f);
  REQUIRE(initialize(Init::zeros(), w, rng).is_ok());
  for (float v : buf) REQUIRE(v == 0.f);
}

TEST_CASE("init: same seed same bits, different seeds differ", "[init]") {
  for (const Expect& e : schemes()) {
    INFO("scheme " << init_name(e.init.kind));
    std::vector<float> a(37 * 11), b(37 * 11), c(37 * 11);
    Rng ra(7), rb(7), rc(8);
    REQUIRE(initialize(e.init, MatrixView(a.data(), 37, 11), ra).is_ok());
    REQUIRE(initialize(e.init, MatrixView(b.data(), 37, 11), rb).is_ok());
    REQUIRE(initialize(e.init, MatrixView(c.data(), 37, 11), rc).is_ok());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) != 0);
  }
}

TEST_CASE("init: strided views fill row by row and leave the gap alone", "[init]") {
  // Filling a (5 x 3) view with stride 8 must produce the same values, row by row, as a dense
  // (5 x 3) fill with the same seed, and never touch the 5 floats of padding per row.
  const float sentinel = -777.f;
  std::vector<float> strided(5 * 8, sentinel), dense(5 * 3);
  Rng r1(11), r2(11);
  REQUIRE(initialize(Init::he_uniform(), MatrixView(strided.data(), 5, 3, 8), r1).is_ok());
  REQUIRE(initialize(Init::he_uniform(), MatrixView(dense.data(), 5, 3), r2).is_ok());
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t j = 0; j < 3; ++j) CHECK(strided[i * 8 + j] == dense[i * 3 + j]);
    for (std::size_t j = 3; j < 8; ++j) CHECK(strided[i * 8 + j] == sentinel);
  }
}

TEST_CASE("init: validate rejects bad parameters and initialize refuses them", "[init]") {
  const float nan = std::nanf("");
  const float inf = INFINITY;
  CHECK(validate(Init::he_normal()).is_ok());
  CHECK(validate(Init::normal(0.f, 0.f)).is_ok());  // sigma >= 0
  CHECK(validate(Init::uniform(-1.f, 1.f)).is_ok());
  const Init bad[] = {Init::normal(0.f, -1.f), Init::normal(nan, 1.f),  Init::normal(0.f, inf),
                      Init::uniform(1.f, 1.f), Init::uniform(2.f, 1.f), Init::uniform(nan, 1.f),
                      Init::uniform(0.f, inf), Init::constant(nan),     Init::constant(inf)};
  std::vector<float> buf(4, 5.f);
  for (const Init& i : bad) {
    INFO("kind " << init_name(i.kind) << " a=" << i.a << " b=" << i.b);
    CHECK(validate(i).code() == StatusCode::kInvalidArgument);
    Rng rng(3);
    CHECK(initialize(i, MatrixView(buf.data(), 2, 2), rng).code() == StatusCode::kInvalidArgument);
    for (float v : buf) CHECK(v == 5.f);
  }
  Init out_of_range;
  out_of_range.kind = static_cast<InitKind>(99);
  CHECK(validate(out_of_range).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("init: every kind has a distinct name", "[init]") {
  for (int i = 0; i <= static_cast<int>(InitKind::kHeUniform); ++i) {
    const char* a = init_name(static_cast<InitKind>(i));
    REQUIRE(a != nullptr);
    CHECK(std::strlen(a) > 0);
    for (int j = 0; j < i; ++j) CHECK(std::string(a) != init_name(static_cast<InitKind>(j)));
  }
}
