// SPDX-License-Identifier: Apache-2.0
// The C API's model-file calls on byte arrays (flash, RAM): description, load and save.
#include "c_api/handle.hpp"
#include "fennec/io.hpp"

using fennec::Status;
using fennec::StatusCode;
using namespace fennec::c_api;

namespace {

struct File {
  const void* data;
  std::size_t size;
};

// load_model checks the whole file, CRC included, before any parameter reaches the model.
fennec::Result<fennec::Model> load_file(const void* context, const fennec::ModelSpec&,
                                        const fennec::ModelOptions& options, fennec::Arena& arena) {
  const File& f = *static_cast<const File*>(context);
  return fennec::load_model(f.data, f.size, options, arena);
}

}  // namespace

extern "C" {

fennec_status fennec_model_file_info(const void* data, size_t size, fennec_network* network,
                                     fennec_error* error) {
  if (network == nullptr)
    return report(error, Status::error(StatusCode::kInvalidArgument, "network is NULL"));
  if (data == nullptr)
    return report(error, Status::error(StatusCode::kInvalidArgument, "data is NULL"));
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(data, size);
  if (!info.is_ok()) return report(error, info.status());
  to_network(info->spec, network);
  return FENNEC_OK;
}

fennec_status fennec_load(const void* data, size_t size, const fennec_options* options,
                          void* buffer, size_t buffer_bytes, fennec_model** model,
                          fennec_error* error) {
  if (data == nullptr)
    return report(error, Status::error(StatusCode::kInvalidArgument, "data is NULL"));
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(data, size);
  if (!info.is_ok()) return report(error, info.status());
  const File file{data, size};
  return report(error, bind_handle(info->spec, options, buffer, buffer_bytes, model,
                                   Binder{load_file, &file}));
}

fennec_status fennec_model_file_bytes(fennec_model* model, size_t* bytes) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  if (bytes == nullptr) return record(model, Status::error(StatusCode::kInvalidArgument, "bytes is NULL"));
  *bytes = static_cast<std::size_t>(fennec::model_file_size(model->model.spec()));
  return FENNEC_OK;
}

fennec_status fennec_save(fennec_model* model, void* out, size_t capacity, size_t* written) {
  if (!is_handle(model)) return FENNEC_INVALID_ARGUMENT;
  if (out == nullptr) return record(model, Status::error(StatusCode::kInvalidArgument, "out is NULL"));
  const std::uint64_t need = fennec::model_file_size(model->model.spec());
  // Checked first: save_model writes piece by piece, and a short buffer must stay untouched.
  if (capacity < need)
    return record(model, Status::error(StatusCode::kOutOfMemory,
                                       "save: the model file needs %lu bytes, the buffer holds %lu",
                                       static_cast<unsigned long>(need), static_cast<unsigned long>(capacity)));
  fennec::MemoryWriter memory(out, capacity);
  fennec::ByteWriter writer = memory.writer();
  const Status s = fennec::save_model(model->model, writer);
  if (!s.is_ok()) return record(model, s);
  if (written != nullptr) *written = memory.size();
  return FENNEC_OK;
}

}  // extern "C"
