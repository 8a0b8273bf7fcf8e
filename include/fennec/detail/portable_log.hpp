// SPDX-License-Identifier: Apache-2.0
// The logarithm behind Rng::normal: not part of the API, declared here (installed, but in
// namespace detail) so that the same-seed tests, on the host and on the firmware, can check
// that it gives the same bits on every target.
#pragma once

namespace fennec::detail {

// Natural logarithm computed with basic IEEE operations only (bit-identical everywhere);
// x must be finite and > 0.
double portable_log(double x);

}  // namespace fennec::detail
