// SPDX-License-Identifier: Apache-2.0
// BLIS baseline for bm_gemm.cpp, through BLIS's own typed API (bli_sgemm). libblis also exports
// cblas_sgemm and sgemm_, and blis.h declares them: this TU keeps blis.h away from OpenBLAS's
// cblas.h, and the OpenBLAS rows keep OpenBLAS's symbols only because fennec_bench links OpenBLAS
// ahead of BLIS (bench/CMakeLists.txt), so the dynamic linker finds them there first.
#include <blis.h>

#include <cstddef>

namespace fennec_bench {

// Debian's libblis-serial-dev is built without threading, but libblis.so.4 is resolved at run
// time through update-alternatives and may be the OpenMP or pthreads build: one thread is asked
// for explicitly as well (it overrides BLIS_NUM_THREADS).
void blis_single_thread() { bli_thread_set_num_threads(1); }

// The sub-configuration BLIS chose for this CPU at run time (zen3, skx, haswell, generic...).
const char* blis_arch() { return bli_arch_string(bli_arch_query_id()); }

// Row-major operands: row stride ld, column stride 1. form 0: C = A B^T (B is n x k), 1: C = A B,
// 2: C = A^T B (A is k x m). bli_sgemm's pointers are not const; it does not write A or B.
void blis_gemm(int form, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c) {
  const auto M = static_cast<dim_t>(m), N = static_cast<dim_t>(n), K = static_cast<dim_t>(k);
  float one = 1.f, zero = 0.f;
  const trans_t ta = form == 2 ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
  const trans_t tb = form == 0 ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
  const inc_t lda = form == 2 ? M : K, ldb = form == 0 ? K : N;
  bli_sgemm(ta, tb, M, N, K, &one, const_cast<float*>(a), lda, 1, const_cast<float*>(b), ldb, 1, &zero, c, N, 1);
}

}  // namespace fennec_bench
