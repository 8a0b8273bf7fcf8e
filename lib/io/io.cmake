# SPDX-License-Identifier: Apache-2.0
# File formats: model files, checkpoints, safetensors.
# In-memory loaders and savers go into every build, FENNEC_INFERENCE_ONLY (Cortex-M) included:
# they need no heap, no file system and no <cstdio> file I/O. File-system helpers and training
# checkpoints (which need the trainer) are left out of inference-only builds.
target_sources(fennec PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/stream.cpp
  ${CMAKE_CURRENT_LIST_DIR}/io_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_preamble.cpp
  ${CMAKE_CURRENT_LIST_DIR}/file_kind.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quant_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_dtype.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_format.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_sequential.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_metadata.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_load.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_stream.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors_save.cpp)
if(NOT FENNEC_INFERENCE_ONLY)
  target_sources(fennec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/checkpoint.cpp)
endif()
# Bare metal (the cortex-m4 presets, training library included) has no POSIX file system.
if(CMAKE_SYSTEM_NAME STREQUAL "Generic")
  target_compile_definitions(fennec PRIVATE FENNEC_NO_FILE_SYSTEM=1)
elseif(NOT FENNEC_INFERENCE_ONLY)
  target_sources(fennec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/file_io.cpp)
endif()
