# SPDX-License-Identifier: Apache-2.0
# io tests: model files, safetensors, checkpoints, malformed-input corpus.
# zlib (Debian zlib1g-dev) is only the CRC-32 oracle; the library never links it.
set(_io ${CMAKE_CURRENT_SOURCE_DIR}/io)
set(_io_sources ${_io}/test_model_file.cpp ${_io}/test_quant_file.cpp ${_io}/test_safetensors.cpp ${_io}/test_malformed.cpp
                ${_io}/test_safetensors_exchange.cpp ${_io}/test_file_kind.cpp ${_io}/test_deprecated_io.cpp)
list(APPEND _io_sources ${_io}/test_json.cpp ${_io}/test_safetensors_deprecated.cpp)
if(NOT FENNEC_INFERENCE_ONLY)
  list(APPEND _io_sources ${_io}/test_checkpoint.cpp ${_io}/test_file_io.cpp
       ${_io}/test_evil_headers.cpp ${_io}/test_crash_consistency.cpp ${_io}/test_umbrella.cpp
       ${_io}/test_in_place.cpp ${_io}/test_layer_files.cpp ${_io}/test_safetensors_batchnorm.cpp)
endif()
fennec_add_test(fennec_io_tests SOURCES ${_io_sources})
target_compile_definitions(fennec_io_tests PRIVATE FENNEC_IO_FIXTURES="${_io}/fixtures")
# Zero heap calls in the io paths: its own binary, since the counter replaces operator new and malloc.
if(NOT FENNEC_INFERENCE_ONLY)
  fennec_add_test(fennec_io_alloc_test ALLOC_COUNTER SOURCES ${_io}/test_io_alloc.cpp)
endif()
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  target_link_libraries(fennec_io_tests PRIVATE ZLIB::ZLIB)
  target_compile_definitions(fennec_io_tests PRIVATE FENNEC_HAVE_ZLIB=1)
endif()
