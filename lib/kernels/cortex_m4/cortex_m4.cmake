# SPDX-License-Identifier: Apache-2.0
# Cortex-M4F GEMMs (gemm_cortex_m4.cpp), used by the reference table of builds whose compiler
# targets Armv7E-M with an FPU (-mcpu=cortex-m4 -mfpu=fpv4-sp-d16). FENNEC_CORTEX_M4_KERNELS=OFF
# keeps the plain loops: smaller code (the inference example's Fennec code grows by the figure
# platforms/README.md quotes) for about 3x the instructions per multiply-add.
include(CheckCXXSourceCompiles)
check_cxx_source_compiles("
  #if !(defined(__ARM_ARCH_7EM__) && defined(__ARM_FP) && defined(__thumb2__))
  #error not a Cortex-M4F
  #endif
  int main() { return 0; }" FENNEC_CXX_TARGETS_CORTEX_M4F)
if(FENNEC_CXX_TARGETS_CORTEX_M4F)
  option(FENNEC_CORTEX_M4_KERNELS "Cortex-M4F: register-blocked vldm/vfma GEMMs in the reference table" ON)
  if(FENNEC_CORTEX_M4_KERNELS)
    target_sources(fennec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/gemm_cortex_m4.cpp)
    target_compile_definitions(fennec PRIVATE FENNEC_CORTEX_M4_KERNELS=1)
    # The int8 GEMM on SXTB16/SMLAD (every Cortex-M4 has the DSP extension).
    if(FENNEC_INT8)
      target_sources(fennec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/qgemm_cortex_m4.cpp)
    endif()
    message(STATUS "fennec: Cortex-M4F GEMMs in the reference table")
  endif()
  # At -Os GCC calls newlib's sqrtf for every element of the Adam/RMSprop/Adagrad updates (it
  # must set errno for a negative argument); the library never reads errno, so let it use
  # vsqrt.f32 inline. The values are the same (IEEE square root either way).
  set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/kernels/ref/ref_kernels.cpp
                              PROPERTIES COMPILE_OPTIONS -fno-math-errno)
endif()
