# Tests for tools/: IDX reader, the studies' numbers, SVG well-formedness, and the command-line
# programs end to end (run as child processes on generated data).
if(FENNEC_BUILD_TOOLS)
  fennec_add_test(test_tools
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_idx.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_studies.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_cli.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_arena_buffer.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_infer_cli.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_convert.cpp
    LIBS fennec_initstudy_lib fennec_optstudy_lib fennec_tools_common)
  target_compile_definitions(test_tools PRIVATE
    FENNEC_TRAIN_EXE="$<TARGET_FILE:fennec-train>"
    FENNEC_INITSTUDY_EXE="$<TARGET_FILE:fennec-initstudy>"
    FENNEC_OPTSTUDY_EXE="$<TARGET_FILE:fennec-optstudy>"
    FENNEC_CONVERT_EXE="$<TARGET_FILE:fennec-convert>"
    FENNEC_INFER_EXE="$<TARGET_FILE:fennec-infer>")
  add_dependencies(test_tools fennec-train fennec-initstudy fennec-optstudy fennec-convert fennec-infer)

  # The allocation counter replaces global operator new (and malloc on glibc): its own binary.
  fennec_add_test(test_tools_alloc
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_alloc_counter.cpp
            ${PROJECT_SOURCE_DIR}/tools/common/alloc_counter.cpp
    LIBS fennec_tools_common)

  # The README's plain-torch safetensors writer and fennec-convert command, run as documented
  # (numpy stand-ins for torch tensors; real torch too where python3-torch is installed).
  find_program(FENNEC_PYTHON3 python3 HINTS /usr/bin)
  if(FENNEC_PYTHON3)
    add_test(NAME readme_pytorch_recipe
             COMMAND ${FENNEC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_readme_recipe.py
                     ${PROJECT_SOURCE_DIR}/README.md $<TARGET_FILE:fennec-convert>
                     ${PROJECT_SOURCE_DIR}/tests/io/fixtures ${CMAKE_CURRENT_BINARY_DIR}/readme_recipe)
  endif()
endif()
