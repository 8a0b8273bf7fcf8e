# Platform tests (issue #4): same seed -> same bits everywhere, the NEON table is active on ARM,
# and the Cortex-M4 example's classifier checked on this target, also loaded from the Fennec model
# file gen_model.py writes (issue #6). Included by tests/CMakeLists.txt.
fennec_add_test(test_platform
  SOURCES platform/test_same_seed.cpp platform/test_active_isa.cpp platform/test_sensor_model.cpp
          platform/test_model_file.cpp)
target_include_directories(test_platform PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/platform ${PROJECT_SOURCE_DIR}/platforms/cortex-m4)
