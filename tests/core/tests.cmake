# Core tests (issue #2). One binary for the module tests; the allocation test is its own binary
# because it replaces the global operator new/delete and the malloc family for the whole process.
set(_core ${CMAKE_CURRENT_SOURCE_DIR}/core)
fennec_add_test(fennec_core_tests SOURCES
  ${_core}/test_status.cpp
  ${_core}/test_arena.cpp
  ${_core}/test_rng.cpp
  ${_core}/test_init.cpp
  ${_core}/test_activation.cpp
  ${_core}/test_loss.cpp
  ${_core}/test_plan.cpp
  ${_core}/test_model.cpp
  ${_core}/test_optim.cpp
  ${_core}/test_trainer.cpp
  ${_core}/test_version.cpp)
fennec_add_test(fennec_core_alloc_test SOURCES ${_core}/test_alloc.cpp)
