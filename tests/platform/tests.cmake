# SPDX-License-Identifier: Apache-2.0
# Platform tests: same seed -> same bits everywhere, the NEON table is active on ARM,
# and the Cortex-M4 example's classifier checked on this target, also loaded from the Fennec model
# file gen_model.py writes. The check bodies are tests/portable's, which the Cortex-M4 firmware
# runs too; catch_report.hpp adapts them to Catch2. Included by tests/CMakeLists.txt.
fennec_add_test(test_platform
  SOURCES platform/test_same_seed.cpp platform/test_active_isa.cpp platform/test_sensor_model.cpp
          platform/test_model_file.cpp platform/test_sensor_int8.cpp)
target_include_directories(test_platform PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/platform ${CMAKE_CURRENT_SOURCE_DIR}/portable)

# The Cortex-M4 training firmware's run on the host (tests/portable/fashion_train.hpp), on
# the CI subset the firmware streams: make_fashion14.py writes it at build time from Debian's
# dataset-fashion-mnist.
if(NOT CMAKE_CROSSCOMPILING AND NOT FENNEC_INFERENCE_ONLY)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(_fm14 ${CMAKE_CURRENT_BINARY_DIR}/fashion14_ci.bin)
  add_custom_command(OUTPUT ${_fm14}
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/portable/make_fashion14.py
            --train 8192 --test 2048 ${_fm14}
    DEPENDS ${PROJECT_SOURCE_DIR}/tests/portable/make_fashion14.py
    COMMENT "Fashion-MNIST 14x14 subset for the Cortex-M4 training run")
  add_custom_target(fashion14_ci_data DEPENDS ${_fm14})
  fennec_add_test(test_m4_train SOURCES platform/test_m4_train.cpp)
  add_dependencies(test_m4_train fashion14_ci_data)
  target_include_directories(test_m4_train PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/portable)
  target_compile_definitions(test_m4_train PRIVATE FENNEC_FASHION14_FILE="${_fm14}")
endif()
