# SPDX-License-Identifier: Apache-2.0
# Tests for tools/: IDX reader, the studies' numbers, SVG well-formedness, and the command-line
# programs end to end (run as child processes on generated data).
# The suites below start the tools as child processes and link zlib (the .gz cases): native
# builds only. A cross build (aarch64, armv7) runs fennec-train itself under its emulator instead
# (tools_train_emulated, at the end).
if(FENNEC_BUILD_TOOLS AND NOT CMAKE_CROSSCOMPILING)
  fennec_add_test(test_tools
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_idx.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_npy.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_csv_samples.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_studies.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_cli.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_train_cli.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_train_inputs.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_batches.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_arena_buffer.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_infer_cli.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_infer_report.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_convert.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_quantize_cli.cpp
    LIBS fennec_initstudy_lib fennec_optstudy_lib fennec_infer_lib fennec_tools_common)
  target_compile_definitions(test_tools PRIVATE
    FENNEC_TRAIN_EXE="$<TARGET_FILE:fennec-train>"
    FENNEC_INITSTUDY_EXE="$<TARGET_FILE:fennec-initstudy>"
    FENNEC_OPTSTUDY_EXE="$<TARGET_FILE:fennec-optstudy>"
    FENNEC_CONVERT_EXE="$<TARGET_FILE:fennec-convert>"
    FENNEC_INFER_EXE="$<TARGET_FILE:fennec-infer>"
    FENNEC_QUANTIZE_EXE="$<TARGET_FILE:fennec-quantize>")
  add_dependencies(test_tools fennec-train fennec-initstudy fennec-optstudy fennec-convert fennec-infer
                   fennec-quantize)

  # The allocation counter replaces global operator new (and malloc on glibc): its own binary.
  fennec_add_test(test_tools_alloc ALLOC_COUNTER
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_alloc_counter.cpp
    LIBS fennec_tools_common)

  # The README's plain-torch safetensors writer and fennec-convert command, run as documented
  # (numpy stand-ins for torch tensors; real torch too where python3-torch is installed).
  find_program(FENNEC_PYTHON3 python3 HINTS /usr/bin)
  if(FENNEC_PYTHON3)
    add_test(NAME readme_pytorch_recipe
             COMMAND ${FENNEC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_readme_recipe.py
                     ${PROJECT_SOURCE_DIR}/README.md $<TARGET_FILE:fennec-convert>
                     ${PROJECT_SOURCE_DIR}/tests/io/fixtures ${CMAKE_CURRENT_BINARY_DIR}/readme_recipe)
    # PyTorch's load_state_dict(strict=True) takes fennec-convert's BatchNorm1d/Dropout files, and
    # the --fold-batchnorm one as a plain MLP; skipped (exit 77) where python3-torch is not installed.
    add_test(NAME pytorch_batchnorm_exchange
             COMMAND ${FENNEC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_torch_batchnorm.py
                     $<TARGET_FILE:fennec-convert> ${PROJECT_SOURCE_DIR}/examples/pytorch
                     ${CMAKE_CURRENT_BINARY_DIR}/torch_batchnorm)
    set_tests_properties(pytorch_batchnorm_exchange PROPERTIES SKIP_RETURN_CODE 77)
    # scripts/plot.py redraws every figure from the tables the tools write; skipped (exit 77,
    # with a message) where python3-matplotlib is not installed.
    add_test(NAME tools_plot_py
             COMMAND ${FENNEC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_plot_py.py
                     ${PROJECT_SOURCE_DIR}/scripts/plot.py $<TARGET_FILE:fennec-initstudy>
                     $<TARGET_FILE:fennec-optstudy> ${CMAKE_CURRENT_BINARY_DIR}/plot_py)
    set_tests_properties(tools_plot_py PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
endif()

# fennec-train for a few steps on a tiny plain IDX set (make_tiny_idx.py): on a cross build it
# runs under CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64 / qemu-arm), which add_test prepends
# for an executable target. Two epochs of 256 images at batch 32 are 16 Adam steps; the output
# must show the second epoch, the test accuracy after it and no heap allocation after setup (the regex
# decides pass/fail here, so it asks for the last lines a completed run prints). Without zlib a
# .gz set is refused with a message.
if(FENNEC_BUILD_TOOLS)
  find_program(FENNEC_PYTHON3_TINY python3 HINTS /usr/bin)
  if(FENNEC_PYTHON3_TINY)
    set(_tiny ${CMAKE_CURRENT_BINARY_DIR}/tiny_idx)
    add_test(NAME tools_tiny_idx_data
             COMMAND ${FENNEC_PYTHON3_TINY} ${CMAKE_CURRENT_LIST_DIR}/make_tiny_idx.py ${_tiny}/plain)
    set_tests_properties(tools_tiny_idx_data PROPERTIES FIXTURES_SETUP tiny_idx)
    add_test(NAME tools_train_emulated
             COMMAND fennec-train --data ${_tiny}/plain --hidden 16 --epochs 2 --batch 32 --lr 0.01
                     --no-progress)
    set_tests_properties(tools_train_emulated PROPERTIES FIXTURES_REQUIRED tiny_idx TIMEOUT 300
                         PASS_REGULAR_EXPRESSION "epoch 2/2 .*\ntest loss [^\n]*test acc.*heap allocations after setup: 0"
                         FAIL_REGULAR_EXPRESSION "error")
    find_package(ZLIB QUIET)  # the same search as tools/CMakeLists.txt (tests are configured first)
    if(NOT ZLIB_FOUND)
      add_test(NAME tools_tiny_idx_gz_data
               COMMAND ${FENNEC_PYTHON3_TINY} ${CMAKE_CURRENT_LIST_DIR}/make_tiny_idx.py ${_tiny}/gz --gzip)
      set_tests_properties(tools_tiny_idx_gz_data PROPERTIES FIXTURES_SETUP tiny_idx_gz)
      add_test(NAME tools_train_gz_refused_without_zlib
               COMMAND fennec-train --data ${_tiny}/gz --hidden 16 --epochs 1 --no-progress)
      set_tests_properties(tools_train_gz_refused_without_zlib PROPERTIES FIXTURES_REQUIRED tiny_idx_gz
                           TIMEOUT 120 PASS_REGULAR_EXPRESSION "built without zlib")
    endif()
  endif()
endif()
