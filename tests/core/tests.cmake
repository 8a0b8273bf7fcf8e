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
  ${_core}/test_predict.cpp
  ${_core}/test_plan.cpp
  ${_core}/test_model.cpp
  ${_core}/test_optim.cpp
  ${_core}/test_trainer.cpp)
fennec_add_test(fennec_core_alloc_test SOURCES ${_core}/test_alloc.cpp)
# Result<T>::value() on an error traps when checked: the program must die by a signal (the
# shell reports 128 + signal); returning, with any code, fails the test.
if(NOT CMAKE_CROSSCOMPILING)
  add_executable(fennec_result_value_trap ${_core}/result_value_trap.cpp)
  target_link_libraries(fennec_result_value_trap PRIVATE fennec::fennec fennec_warnings)
  add_test(NAME result_value_on_error_traps
           COMMAND sh -c "\"$0\"; rc=$?; echo \"exit status $rc\"; [ $rc -gt 128 ]"
                   $<TARGET_FILE:fennec_result_value_trap>)
endif()
