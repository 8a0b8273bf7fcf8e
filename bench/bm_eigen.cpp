// SPDX-License-Identifier: Apache-2.0
// Eigen baseline for bm_gemm.cpp. Compiled with -mavx2 -mfma (Eigen picks its kernels at compile
// time) and called only when the CPU has both. Nothing from the STL is used here: inline
// functions shared with baseline TUs could otherwise be merged with this TU's AVX copies.
#include <Eigen/Core>

#include <cstddef>

namespace fennec_bench {

void eigen_gemm(int form, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat>;
  const auto M = static_cast<Eigen::Index>(m), N = static_cast<Eigen::Index>(n), K = static_cast<Eigen::Index>(k);
  Eigen::Map<Mat> C(c, M, N);
  if (form == 0) {
    C.noalias() = CMap(a, M, K) * CMap(b, N, K).transpose();
  } else if (form == 1) {
    C.noalias() = CMap(a, M, K) * CMap(b, K, N);
  } else {
    C.noalias() = CMap(a, K, M).transpose() * CMap(b, K, N);
  }
}

}  // namespace fennec_bench
