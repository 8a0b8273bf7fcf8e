// SPDX-License-Identifier: Apache-2.0
#include "kernels/qpack.hpp"

namespace fennec::kernels {

void qpack_s8(const std::int8_t* w, std::size_t ldw, std::size_t n, std::size_t k, std::uint8_t* out) {
  using detail::kQPackGroup;
  using detail::kQPackUnits;
  const std::size_t groups = (k + kQPackGroup - 1) / kQPackGroup;
  const std::size_t panels = (n + kQPackUnits - 1) / kQPackUnits;
  for (std::size_t p = 0; p < panels; ++p)
    for (std::size_t t = 0; t < groups; ++t)
      for (std::size_t u = 0; u < kQPackUnits; ++u)
        for (std::size_t b = 0; b < kQPackGroup; ++b) {
          const std::size_t j = p * kQPackUnits + u, c = t * kQPackGroup + b;
          *out++ = j < n && c < k ? static_cast<std::uint8_t>(static_cast<std::uint8_t>(w[j * ldw + c]) ^ detail::kQPackByteOffset) : 0;
        }
}

}  // namespace fennec::kernels
