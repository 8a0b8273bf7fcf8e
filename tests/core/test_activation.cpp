// SPDX-License-Identifier: Apache-2.0
// Activations: values, output-based derivatives against finite differences, names, validation.
#include <cmath>
#include <cstring>
#include <string>

#include "test_util.hpp"

using namespace fennec;
using fennec_test::close;
using fennec_test::ref_act;

namespace {

const ActivationSpec kAll[] = {ActivationSpec::identity(), ActivationSpec::sigmoid(),
                               ActivationSpec::tanh(),     ActivationSpec::relu(),
                               ActivationSpec::leaky_relu(0.01f), ActivationSpec::leaky_relu(0.2f),
                               ActivationSpec::leaky_relu(0.f)};

}  // namespace

TEST_CASE("activation: values match the double definition", "[activation]") {
  // Float evaluation: atol 1e-7, rtol 1e-6 (a few float ulps).
  for (const ActivationSpec& a : kAll) {
    for (double x = -12.0; x <= 12.0; x += 0.37) {
      INFO(activation_name(a.kind) << " alpha " << a.alpha << " x " << x);
      const float xf = static_cast<float>(x);
      CHECK(close(activate(a, xf), ref_act(a, xf), 1e-7, 1e-6));
    }
  }
  CHECK(activate(ActivationSpec::relu(), -3.f) == 0.f);
  CHECK(activate(ActivationSpec::leaky_relu(0.25f), -4.f) == -1.f);
  CHECK(activate(ActivationSpec::sigmoid(), 0.f) == 0.5f);
  CHECK(activate(ActivationSpec::tanh(), 0.f) == 0.f);
  // Saturation without NaN/Inf.
  CHECK(activate(ActivationSpec::sigmoid(), -1000.f) == 0.f);
  CHECK(activate(ActivationSpec::sigmoid(), 1000.f) == 1.f);
  CHECK(activate(ActivationSpec::tanh(), 1000.f) == 1.f);
  CHECK(activate(ActivationSpec::tanh(), -1000.f) == -1.f);
}

TEST_CASE("activation: derivative from output matches finite differences", "[activation]") {
  // Central difference in double of the double reference, h = 1e-6 (truncation ~1e-12),
  // compared with the float derivative evaluated at y = activate(x):
  // atol 1e-6, rtol 1e-5 (float rounding of y and of the product). Points closer than 1e-3 to
  // ReLU's kink are skipped (the derivative is one-sided there).
  const double h = 1e-6;
  for (const ActivationSpec& a : kAll) {
    for (double x = -6.0; x <= 6.0; x += 0.173) {
      if (std::fabs(x) < 1e-3) continue;
      const float xf = static_cast<float>(x);
      const double fd = (ref_act(a, double(xf) + h) - ref_act(a, double(xf) - h)) / (2 * h);
      const float y = activate(a, xf);
      INFO(activation_name(a.kind) << " alpha " << a.alpha << " x " << xf << " y " << y);
      CHECK(close(activation_derivative_from_output(a, y), fd, 1e-6, 1e-5));
    }
  }
}

TEST_CASE("activation: finite differences of the library's own float activate()", "[activation]") {
  // Independent of ref_act: central difference of activate() itself in double arithmetic,
  // h = 2^-8 (exact in float near these x), noise ~ 6e-8/h = 2e-5 plus O(h^2) truncation:
  // atol 2e-4, rtol 1e-3.
  const double h = 1.0 / 256;
  for (const ActivationSpec& a : kAll) {
    for (double x = -4.0; x <= 4.0; x += 0.3125) {
      if (std::fabs(x) < 2 * h) continue;
      const float xf = static_cast<float>(x);
      const double fd = (double(activate(a, static_cast<float>(x + h))) -
                         double(activate(a, static_cast<float>(x - h)))) / (2 * h);
      INFO(activation_name(a.kind) << " x " << xf);
      CHECK(close(activation_derivative_from_output(a, activate(a, xf)), fd, 2e-4, 1e-3));
    }
  }
}

TEST_CASE("activation: derivatives at known outputs", "[activation]") {
  CHECK(activation_derivative_from_output(ActivationSpec::sigmoid(), 0.5f) == 0.25f);
  CHECK(activation_derivative_from_output(ActivationSpec::tanh(), 0.f) == 1.f);
  CHECK(activation_derivative_from_output(ActivationSpec::tanh(), 0.5f) == 0.75f);
  CHECK(activation_derivative_from_output(ActivationSpec::relu(), 2.f) == 1.f);
  CHECK(activation_derivative_from_output(ActivationSpec::relu(), 0.f) == 0.f);
  CHECK(activation_derivative_from_output(ActivationSpec::leaky_relu(0.25f), -1.f) == 0.25f);
  CHECK(activation_derivative_from_output(ActivationSpec::leaky_relu(0.25f), 3.f) == 1.f);
  CHECK(activation_derivative_from_output(ActivationSpec::identity(), -9.f) == 1.f);
}

TEST_CASE("activation: names round-trip, and unknown names and bad alpha are rejected",
          "[activation]") {
  const char* expected[] = {"identity", "sigmoid", "tanh", "relu", "leaky_relu"};
  for (int i = 0; i < kActivationCount; ++i) {
    const Activation k = static_cast<Activation>(i);
    CHECK(std::string(activation_name(k)) == expected[i]);
    Result<Activation> r = parse_activation(expected[i]);
    REQUIRE(r.is_ok());
    CHECK(r.value() == k);
  }
  CHECK(parse_activation("gelu").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_activation("").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_activation("RELU ").status().code() == StatusCode::kInvalidArgument);

  CHECK(validate(ActivationSpec::leaky_relu(0.f)).is_ok());
  CHECK(validate(ActivationSpec::leaky_relu(0.99f)).is_ok());
  CHECK(validate(ActivationSpec::leaky_relu(1.f)).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ActivationSpec::leaky_relu(-0.1f)).code() == StatusCode::kInvalidArgument);
  CHECK(validate(ActivationSpec::leaky_relu(std::nanf(""))).code() == StatusCode::kInvalidArgument);
  ActivationSpec bogus;
  bogus.kind = static_cast<Activation>(kActivationCount);
  CHECK(validate(bogus).code() == StatusCode::kInvalidArgument);
}
