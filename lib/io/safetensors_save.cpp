// SPDX-License-Identifier: Apache-2.0
// safetensors export: F32 tensors with nn.Sequential names (safetensors_sequential.cpp), Fennec's
// metadata, the header padded with spaces to a multiple of 8 so the data is aligned for readers
// that map it.
#include <cstring>
#include <initializer_list>

#include "fennec/safetensors.hpp"
#include "io/io_util.hpp"
#include "io/safetensors_format.hpp"
#include "io/safetensors_sequential.hpp"

namespace fennec {

using namespace io_detail;

namespace {

// The header text, through `sink`: written once to count its bytes and once to save it.
Status write_header(const ModelSpec& spec, TextSink sink) {
  HeaderWriter out(sink);
  FENNEC_RETURN_IF_ERROR(write_metadata(spec, out));
  FENNEC_RETURN_IF_ERROR(write_tensor_entries(spec, out));
  return out.finish();
}

std::size_t piece_size(const char* text, std::size_t size) { return size ? size : std::strlen(text); }

std::uint64_t header_json_bytes(const ModelSpec& spec) {
  std::uint64_t total = 0;
  TextSink count;
  count.context = &total;
  count.write = [](void* context, const char* text, std::size_t size) {
    *static_cast<std::uint64_t*>(context) += piece_size(text, size);
    return Status::ok();
  };
  write_header(spec, count).ignore();
  return total;
}

// The tensors in header order: W, b, then for a batch-norm layer gamma, beta, running mean,
// running variance and batches tracked (I64).
Status write_tensors(Output& out, const Model& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    FENNEC_RETURN_IF_ERROR(write_linear(out, model, i));
    if (!model.spec().layers[i].batchnorm.enabled) continue;
    for (const VectorView v : {model.bn_gamma(i), model.bn_beta(i), model.bn_running_mean(i), model.bn_running_var(i)})
      FENNEC_RETURN_IF_ERROR(out.floats(v.data, v.size));
    FENNEC_RETURN_IF_ERROR(out.u64(model.batches_tracked()));
  }
  return Status::ok();
}

}  // namespace

std::uint64_t safetensors_file_size(const Model& model) {
  const std::uint64_t json = header_json_bytes(model.spec());
  const std::uint64_t padded = (json + 7) / 8 * 8;
  std::uint64_t params = 0;  // gamma and beta included
  parameter_count(model.spec(), &params);
  std::uint64_t state = 0;  // running statistics (4 bytes each), batches tracked (8)
  for (std::size_t i = 0; i < model.num_layers(); ++i)
    if (model.spec().layers[i].batchnorm.enabled) state += 8 * std::uint64_t{model.spec().layers[i].units} + 8;
  return 8 + padded + 4 * params + state;
}

Status save_safetensors(const Model& model, ByteWriter& writer) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "save_safetensors: model is not bound");
  FENNEC_RETURN_IF_ERROR(check_parameters_finite(model));
  const std::uint64_t json = header_json_bytes(model.spec());
  const std::uint64_t padded = (json + 7) / 8 * 8;
  Output out(writer);
  FENNEC_RETURN_IF_ERROR(out.u64(padded));
  TextSink sink;
  sink.context = &out;
  sink.write = [](void* context, const char* text, std::size_t size) {
    return static_cast<Output*>(context)->write(text, piece_size(text, size));
  };
  FENNEC_RETURN_IF_ERROR(write_header(model.spec(), sink));
  const char spaces[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  FENNEC_RETURN_IF_ERROR(out.write(spaces, static_cast<std::size_t>(padded - json)));
  return write_tensors(out, model);
}

}  // namespace fennec
