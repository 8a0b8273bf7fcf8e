# Kernel tests (issue #3): every SIMD table this build compiled and this CPU runs, against the
# scalar reference; dispatch and the active ISA; an end-to-end training run per table.
# FENNEC_TEST_SCALE < 1 drops the largest GEMM shapes (for emulated runs); FENNEC_TEST_SEED
# replays a seed; FENNEC_EXPECT_ISA asserts the automatic choice (CI under qemu64: sse2).
set(_kern ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
fennec_add_test(fennec_kernel_tests SOURCES
  ${_kern}/test_gemm.cpp
  ${_kern}/test_elementwise.cpp
  ${_kern}/test_optim_kernels.cpp
  ${_kern}/test_dispatch.cpp)
