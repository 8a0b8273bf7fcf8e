# SPDX-License-Identifier: Apache-2.0
# Kernel tests: every SIMD table this build compiled and this CPU runs, against the
# scalar reference; dispatch and the active ISA; an end-to-end training run per table.
# FENNEC_TEST_SCALE < 1 drops the largest GEMM shapes (for emulated runs; no other test binary
# reads it); FENNEC_TEST_SEED replays a seed; FENNEC_EXPECT_ISA asserts the automatic choice (CI
# under qemu64: sse2).
set(_kern ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
fennec_add_test(fennec_kernel_tests SOURCES
  ${_kern}/test_gemm.cpp
  ${_kern}/test_gemm_bf16.cpp
  ${_kern}/test_elementwise.cpp
  ${_kern}/test_optim_kernels.cpp
  ${_kern}/test_qgemm.cpp
  ${_kern}/test_quantize_s8.cpp
  ${_kern}/test_norm_kernels.cpp
  ${_kern}/test_kernel_registry.cpp
  ${_kern}/test_dispatch.cpp)
# Whether this build compiled the SIMD tables (FENNEC_SIMD): the dispatch tests assert which
# tables exist, and a FENNEC_SIMD=OFF build has only the reference.
target_compile_definitions(fennec_kernel_tests PRIVATE FENNEC_TEST_SIMD_BUILD=$<BOOL:${FENNEC_SIMD}>)
