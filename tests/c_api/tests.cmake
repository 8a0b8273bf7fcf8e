# SPDX-License-Identifier: Apache-2.0
# C API tests: a C99 program (-std=c99 -Wall -Wextra -pedantic -Werror, whatever FENNEC_WERROR
# says) that trains XOR and a three-class classifier through include/fennec/fennec.h, walks the
# error paths and counts heap calls after setup (the shared allocation counter, C++, linked in).
# One ctest entry per group.
set(_c_api ${CMAKE_CURRENT_SOURCE_DIR}/c_api)
add_executable(fennec_c_api_tests
  ${_c_api}/main.c ${_c_api}/c_api_test_util.c ${_c_api}/test_train.c ${_c_api}/test_errors.c
  ${_c_api}/test_model_file.c ${_c_api}/test_no_heap.c ${PROJECT_SOURCE_DIR}/tools/common/alloc_counter.cpp)
set_target_properties(fennec_c_api_tests PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(fennec_c_api_tests PRIVATE "$<$<COMPILE_LANGUAGE:C>:-std=c99;-Wall;-Wextra;-pedantic;-Werror>")
target_include_directories(fennec_c_api_tests PRIVATE ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(fennec_c_api_tests PRIVATE fennec::fennec m)
foreach(group train errors model_file no_heap)
  add_test(NAME c_api_${group} COMMAND fennec_c_api_tests ${group}
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(c_api_${group} PROPERTIES TIMEOUT 300)
endforeach()
