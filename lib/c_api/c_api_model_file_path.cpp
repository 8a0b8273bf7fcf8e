// SPDX-License-Identifier: Apache-2.0
// The C API's model-file calls on paths. Builds without a file system (bare metal:
// FENNEC_NO_FILE_SYSTEM, inference-only or not) report kUnsupported there.
#include "c_api/handle.hpp"
#if defined(FENNEC_INFERENCE_ONLY) && !defined(FENNEC_NO_FILE_SYSTEM)
#define FENNEC_NO_FILE_SYSTEM 1
#endif
#if !defined(FENNEC_NO_FILE_SYSTEM)
#include "fennec/io_file.hpp"
#endif

using fennec::Status;
using fennec::StatusCode;
using namespace fennec::c_api;

namespace {

#if !defined(FENNEC_NO_FILE_SYSTEM)
// Streams the file (header, parameters, CRC at the end) into the model it binds.
fennec::Result<fennec::Model> load_file(const void* path, const fennec::ModelSpec&,
                                        const fennec::ModelOptions& options, fennec::Arena& arena) {
  return fennec::load_model_file(static_cast<const char*>(path), options, arena);
}
#else
Status no_files() {
  return Status::error(StatusCode::kUnsupported,
                       "this build of Fennec has no file system: use the byte-array calls");
}
#endif

}  // namespace

extern "C" {

fennec_status fennec_model_file_info_path(const char* path, fennec_network* network,
                                          fennec_error* error) {
#if defined(FENNEC_NO_FILE_SYSTEM)
  (void)path;
  (void)network;
  return report(error, no_files());
#else
  if (path == nullptr || network == nullptr)
    return report(error, Status::error(StatusCode::kInvalidArgument, "path or network is NULL"));
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_file_info(path);
  if (!info.is_ok()) return report(error, info.status());
  to_network(info->spec, network);
  return FENNEC_OK;
#endif
}

fennec_status fennec_load_path(const char* path, const fennec_options* options, void* buffer,
                               size_t buffer_bytes, fennec_model** model, fennec_error* error) {
#if defined(FENNEC_NO_FILE_SYSTEM)
  (void)path;
  (void)options;
  (void)buffer;
  (void)buffer_bytes;
  (void)model;
  return report(error, no_files());
#else
  if (path == nullptr) return report(error, Status::error(StatusCode::kInvalidArgument, "path is NULL"));
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_file_info(path);
  if (!info.is_ok()) return report(error, info.status());
  return report(error, bind_handle(info->spec, options, buffer, buffer_bytes, model,
                                   Binder{load_file, path}));
#endif
}

fennec_status fennec_save_path(fennec_model* model, const char* path) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
#if defined(FENNEC_NO_FILE_SYSTEM)
  (void)path;
  return record(model, no_files());
#else
  if (path == nullptr) return record(model, Status::error(StatusCode::kInvalidArgument, "path is NULL"));
  return record(model, fennec::save_model_file(model->model, path));
#endif
}

}  // extern "C"
