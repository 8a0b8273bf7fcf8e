# SPDX-License-Identifier: Apache-2.0
# fennec_m4_kernel_count: the kernel-count firmware (kernel_count.cpp). Included from this
# directory's CMakeLists.txt. It needs the training kernels, which the inference-only library of
# the cortex-m4 preset leaves out, so it links its own build of the kernel sources alone: the
# reference table (with the Cortex-M4F GEMMs when FENNEC_CORTEX_M4_KERNELS is on) and the
# activation functions, nothing else of the library.
set(_fennec_src ${PROJECT_SOURCE_DIR}/lib)
add_library(fennec_m4_train_kernels STATIC
  ${_fennec_src}/kernels/ref/ref_kernels.cpp
  ${_fennec_src}/core/activation.cpp
  ${_fennec_src}/core/status.cpp)
if(FENNEC_CORTEX_M4_KERNELS)
  target_sources(fennec_m4_train_kernels PRIVATE ${_fennec_src}/kernels/cortex_m4/gemm_cortex_m4.cpp
                 ${_fennec_src}/kernels/cortex_m4/qgemm_cortex_m4.cpp)
  target_compile_definitions(fennec_m4_train_kernels PUBLIC FENNEC_CORTEX_M4_KERNELS=1)
endif()
# As lib/kernels/cortex_m4/cortex_m4.cmake compiles it for the library: vsqrt inline.
set_source_files_properties(${_fennec_src}/kernels/ref/ref_kernels.cpp PROPERTIES COMPILE_OPTIONS -fno-math-errno)
target_include_directories(fennec_m4_train_kernels PUBLIC ${PROJECT_SOURCE_DIR}/include
                           ${PROJECT_BINARY_DIR}/include ${_fennec_src})
target_compile_options(fennec_m4_train_kernels PRIVATE -fno-exceptions -fno-rtti)
target_link_libraries(fennec_m4_train_kernels PRIVATE fennec_warnings)

add_executable(fennec_m4_kernel_count kernel_count.cpp startup.c)
target_link_libraries(fennec_m4_kernel_count PRIVATE fennec_m4_train_kernels fennec_warnings m)
target_include_directories(fennec_m4_kernel_count PRIVATE ${PROJECT_SOURCE_DIR}/bench/qemu)
target_compile_options(fennec_m4_kernel_count PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
fennec_m4_link_image(fennec_m4_kernel_count mps2.ld)
# The GEMM checks against the plain reference (the counting itself is bench/qemu/count.py's,
# CI step 57): the firmware's exit code is its failure count.
add_test(NAME cortex_m4_kernel_checks COMMAND fennec_m4_kernel_count)
set_tests_properties(cortex_m4_kernel_checks PROPERTIES TIMEOUT 120)

# count.py's configuration: the board, the plugin with the Cortex-M4 cycle estimate, the image.
string(REPLACE ";" "\", \"" _fennec_m4_emulator "${CMAKE_CROSSCOMPILING_EMULATOR}")
file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/count_config.json CONTENT
"{\"target\": \"cortex-m4\", \"emulator\": [\"${_fennec_m4_emulator}\"], \"plugin_args\": [\"cost=cortex-m4\"],
 \"plugin\": \"${FENNEC_INSN_COUNT_PLUGIN}\", \"program\": \"$<TARGET_FILE:fennec_m4_kernel_count>\"}
")
