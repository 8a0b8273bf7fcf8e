# SPDX-License-Identifier: Apache-2.0
# The C API (include/fennec/fennec.h): compiled into the same library, in every build. Training
# and file-system calls report FENNEC_UNSUPPORTED in inference-only builds.
target_sources(fennec PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/c_api_convert.cpp
  ${CMAKE_CURRENT_LIST_DIR}/c_api_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/c_api_training.cpp
  ${CMAKE_CURRENT_LIST_DIR}/c_api_model_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/c_api_model_file_path.cpp)
