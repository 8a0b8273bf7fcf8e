// SPDX-License-Identifier: Apache-2.0
// Fennec model file (format in include/fennec/io.hpp). No heap, no file system.
#include <cstring>

#include "fennec/io.hpp"
#include "io/bind_and_load.hpp"
#include "io/file_preamble.hpp"
#include "io/io_util.hpp"

namespace fennec {

using namespace io_detail;

namespace {

static_assert(kPreambleBytes + kSpecFixedBytes == kModelFileFixedHeader, "layout");

// Version 2 follows each layer record with a layer-options record.
std::size_t layer_record_bytes(std::uint32_t version) {
  return kModelFileLayerRecord + (version >= kModelFileLayersVersion ? kModelFileLayerOptionsRecord : 0);
}

std::uint64_t model_header_bytes(std::uint32_t version, std::uint32_t num_layers) {
  return kModelFileFixedHeader + layer_record_bytes(version) * std::uint64_t{num_layers};
}

constexpr PreambleFormat kModelFilePreamble = {
    kModelFileMagic, "a Fennec model file (FENNECMF)", "model file", "model file header",
    kModelFileFixedHeader, kModelFileLayersVersion, &model_header_bytes};

void zero_parameters(Model& model) {
  const VectorView p = model.parameters();
  if (p.size) std::memset(p.data, 0, p.size * sizeof(float));
}

Status check_model_matches(const ModelFileInfo& info, const Model& model) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "model is not bound");
  FENNEC_RETURN_IF_ERROR(check_writable_model(model));
  FENNEC_ENSURE(same_network(info.spec, model.spec()), StatusCode::kShapeMismatch,
                "the file's network differs from the model's (input %u vs %u, %u vs %u layers)",
                static_cast<unsigned>(info.spec.input), static_cast<unsigned>(model.spec().input),
                static_cast<unsigned>(info.spec.num_layers),
                static_cast<unsigned>(model.num_layers()));
  return Status::ok();
}

}  // namespace

Status save_model(const Model& model, ByteWriter& writer) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "save_model: model is not bound");
  FENNEC_RETURN_IF_ERROR(check_parameters_finite(model));
  unsigned char header[kPreambleBytes + kSpecMaxBytes];
  std::memcpy(header, kModelFileMagic, 8);
  // Version 1 for a plain network (exactly what earlier releases wrote), 2 with batch norm or
  // dropout (the layer-options records and the running statistics).
  const bool layer_options = has_layer_options(model.spec());
  store_u32(header + 8, layer_options ? kModelFileLayersVersion : kModelFileVersion);
  const std::size_t n = kPreambleBytes + encode_spec(model.spec(), header + kPreambleBytes, layer_options);
  store_u32(header + 12, static_cast<std::uint32_t>(n));
  Output out(writer);
  FENNEC_RETURN_IF_ERROR(out.write(header, n));
  FENNEC_RETURN_IF_ERROR(write_parameters(out, model));
  FENNEC_RETURN_IF_ERROR(write_layer_state(out, model));
  return out.finish_crc();
}

Result<ModelFileInfo> read_model_info(ByteReader& reader) {
  Input in(reader);
  unsigned char h[kPreambleBytes + kSpecMaxBytes];
  Preamble pre;
  FENNEC_RETURN_IF_ERROR(read_preamble(in, kModelFilePreamble, h, &pre));
  ModelFileInfo info;
  info.version = pre.version;
  const SpecFixed& f = pre.spec;
  const std::uint32_t header_bytes = pre.header_bytes;
  const bool layer_options = info.version >= kModelFileLayersVersion;
  const std::size_t record = layer_record_bytes(info.version);
  FENNEC_RETURN_IF_ERROR(in.read(h + kModelFileFixedHeader, record * f.num_layers, "layer records"));
  const unsigned char* options =
      layer_options ? h + kModelFileFixedHeader + kModelFileLayerRecord * f.num_layers : nullptr;
  FENNEC_RETURN_IF_ERROR(decode_spec_layers(f, h + kModelFileFixedHeader, options, &info.spec));
  info.parameter_count = f.param_count;
  info.state_count = layer_state_count(info.spec);
  info.header_bytes = header_bytes;
  std::uint64_t bytes = 0;
  // Widths <= 2^20 and <= 32 layers keep this far below 2^64; checked all the same.
  FENNEC_ENSURE(add_u64(f.param_count, info.state_count, &bytes) && mul_u64(bytes, 4, &bytes) &&
                    add_u64(bytes, header_bytes + 4u, &bytes),
                StatusCode::kCorruptData, "file size overflows");
  info.file_bytes = bytes;
  info.header_crc = in.crc();
  return info;
}

Status restore_model_parameters(ByteReader& reader, const ModelFileInfo& info, Model& model,
                                const LoadOptions& options) {
  FENNEC_RETURN_IF_ERROR(check_model_matches(info, model));
  Input in(reader, info.header_crc, info.header_bytes);
  std::uint64_t non_finite = 0;
  Status s = read_block(in, &model, info.spec, model.parameters().data, "parameters", &non_finite);
  if (s.is_ok()) s = read_layer_state(in, &model, info.spec, &non_finite);
  if (s.is_ok()) s = in.check_crc();
  if (s.is_ok()) s = in.expect_end();
  if (s.is_ok() && options.check_finite && non_finite) {
    s = Status::error(StatusCode::kNonFinite, "%llu parameters are NaN or Inf",
                      static_cast<unsigned long long>(non_finite));
  }
  if (!s.is_ok()) {
    zero_parameters(model);
    model.reset_batchnorm_state();
  }
  return s;
}

Result<ModelFileInfo> read_model_info(const void* data, std::size_t size) {
  FENNEC_ENSURE(data != nullptr || size == 0, StatusCode::kInvalidArgument, "null data");
  MemoryReader mr(data, size);
  ByteReader r = mr.reader();
  Result<ModelFileInfo> info = read_model_info(r);
  if (!info.is_ok()) return info;
  FENNEC_ENSURE(info->file_bytes == size, StatusCode::kCorruptData,
                "model file is %zu bytes, its header describes %llu", size,
                static_cast<unsigned long long>(info->file_bytes));
  return info;
}

namespace {

// The checks and copy of restore_model_parameters once the header is known to describe exactly
// `size` bytes (shared with load_model so the header is decoded once, which also keeps the
// loader's stack small on microcontrollers).
Status load_checked_parameters(const unsigned char* bytes, std::size_t size, const ModelFileInfo& info,
                               Model& model, const LoadOptions& options) {
  FENNEC_RETURN_IF_ERROR(check_model_matches(info, model));
  // Whole-file CRC and finite check before a single parameter is written.
  const std::uint32_t crc = crc32(bytes, size - 4);
  const std::uint32_t stored = load_u32(bytes + size - 4);
  FENNEC_ENSURE(crc == stored, StatusCode::kCorruptData,
                "CRC-32 mismatch: stored 0x%08lx, computed 0x%08lx (corrupted or torn file)",
                static_cast<unsigned long>(stored), static_cast<unsigned long>(crc));
  if (info.state_count) {
    // The running statistics' own check (a negative variance is corrupt data) before the finite
    // one, in the order the streaming loader meets them, so both loaders give the same status.
    MemoryReader mr(bytes + info.header_bytes, size - static_cast<std::size_t>(info.header_bytes));
    ByteReader r = mr.reader();
    Input in(r);
    std::uint64_t ignored = 0;
    FENNEC_RETURN_IF_ERROR(read_block(in, nullptr, info.spec, nullptr, "parameters", &ignored));
    FENNEC_RETURN_IF_ERROR(read_layer_state(in, nullptr, info.spec, &ignored));
  }
  if (options.check_finite) {
    const unsigned char* p = bytes + info.header_bytes;
    for (std::uint64_t i = 0; i < info.parameter_count + info.state_count; ++i, p += 4) {
      FENNEC_ENSURE(finite_bits(load_u32(p)), StatusCode::kNonFinite,
                    "parameter %llu is NaN or Inf", static_cast<unsigned long long>(i));
    }
  }
  MemoryReader mr(bytes + info.header_bytes, size - static_cast<std::size_t>(info.header_bytes));
  ByteReader r = mr.reader();
  return restore_model_parameters(r, info, model, LoadOptions{});
}

}  // namespace

Status restore_model_parameters(const void* data, std::size_t size, Model& model,
                                const LoadOptions& options) {
  Result<ModelFileInfo> info = read_model_info(data, size);
  if (!info.is_ok()) return info.status();
  return load_checked_parameters(static_cast<const unsigned char*>(data), size, info.value(), model,
                                 options);
}

Result<Model> load_model(ByteReader& reader, const ModelOptions& options, Arena& arena,
                         const LoadOptions& load_options) {
  Result<ModelFileInfo> info = read_model_info(reader);
  if (!info.is_ok()) return info.status();
  return bind_and_load(info->spec, info->parameter_count, options, arena, [&](Model& model) {
    return restore_model_parameters(reader, info.value(), model, load_options);
  });
}

Result<std::size_t> model_arena_bytes(const void* data, std::size_t size,
                                      const ModelOptions& options) {
  FENNEC_ENSURE(options.max_batch >= 1, StatusCode::kInvalidArgument,
                "model_arena_bytes: max_batch must be >= 1");
  Result<ModelFileInfo> info = read_model_info(data, size);
  if (!info.is_ok()) return info.status();
  return model_arena_bytes(info.value(), options);
}

Result<Model> load_model_in_place(const void* data, std::size_t size, const ModelOptions& options,
                                  Arena& arena, const LoadOptions& load_options) {
  FENNEC_ENSURE(options.external_parameters, StatusCode::kInvalidArgument,
                "load_model_in_place: options.external_parameters is not set (use load_model to "
                "copy the parameters into the arena)");
  FENNEC_ENSURE(reinterpret_cast<std::uintptr_t>(data) % alignof(float) == 0,
                StatusCode::kInvalidArgument,
                "load_model_in_place: the model file at %p is not %zu-byte aligned, so its floats "
                "cannot be read in place",
                data, alignof(float));
  Result<ModelFileInfo> info = read_model_info(data, size);
  if (!info.is_ok()) return info.status();
  FENNEC_ENSURE(info->state_count == 0, StatusCode::kUnsupported,
                "load_model_in_place: batch-norm models are loaded into the arena (load_model)");
  const unsigned char* bytes = static_cast<const unsigned char*>(data);
  const std::uint32_t crc = crc32(bytes, size - 4);
  const std::uint32_t stored = load_u32(bytes + size - 4);
  FENNEC_ENSURE(crc == stored, StatusCode::kCorruptData,
                "CRC-32 mismatch: stored 0x%08lx, computed 0x%08lx (corrupted or torn file)",
                static_cast<unsigned long>(stored), static_cast<unsigned long>(crc));
  const unsigned char* payload = bytes + info->header_bytes;
  if (load_options.check_finite) {
    for (std::uint64_t i = 0; i < info->parameter_count; ++i)
      FENNEC_ENSURE(finite_bits(load_u32(payload + 4 * i)), StatusCode::kNonFinite,
                    "parameter %llu is NaN or Inf", static_cast<unsigned long long>(i));
  }
  ExternalParameters external;
  external.data = payload;
  external.bytes = static_cast<std::size_t>(info->parameter_count * 4);
  return Model::bind(info->spec, options, arena, external);
}

Result<Model> load_model(const void* data, std::size_t size, const ModelOptions& options,
                         Arena& arena, const LoadOptions& load_options) {
  Result<ModelFileInfo> info = read_model_info(data, size);
  if (!info.is_ok()) return info.status();
  return bind_and_load(info->spec, info->parameter_count, options, arena, [&](Model& model) {
    return load_checked_parameters(static_cast<const unsigned char*>(data), size, info.value(),
                                   model, load_options);
  });
}

}  // namespace fennec
