// SPDX-License-Identifier: Apache-2.0
// safetensors import from a file in memory: the header is parsed once, every value is checked,
// and only then are the tensors decoded into the model, so a refused file changes nothing.
#include "fennec/safetensors.hpp"

#include "io/bind_and_load.hpp"
#include "io/io_util.hpp"
#include "io/safetensors_format.hpp"
#include "io/safetensors_sequential.hpp"

namespace fennec {

using namespace io_detail;

namespace {

Status check_finite(const Header& h, const Entry& e) {
  const std::uint64_t size = dtype_bytes(e.dtype);
  const unsigned char* p = h.data + e.begin;
  for (std::uint64_t i = 0; i < e.nbytes; i += size) {
    if (!finite_f32(load_value(p + i, e.dtype))) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kNonFinite, "tensor '%s' element %llu is NaN or Inf",
                           b.text, static_cast<unsigned long long>(i / size));
    }
  }
  return Status::ok();
}

// F64 values must fit float: a finite double beyond float's range would load as Inf.
Status check_f64_range(const Header& h, const Entry& e) {
  const unsigned char* p = h.data + e.begin;
  for (std::uint64_t i = 0; i < e.nbytes; i += 8) {
    const double d = load_f64(p + i);
    if (d == d && d - d == 0.0 && !finite_f32(static_cast<float>(d))) {
      NameBuf b(e.name);
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' element %llu is %g, outside float's range", b.text,
                           static_cast<unsigned long long>(i / 8), d);
    }
  }
  return Status::ok();
}

// The batch-norm values a load checks before writing anything: running variances and the
// batches-tracked count.
Status check_batchnorm_values(const Header& h, const Mapping& m, const SafetensorsImport& import,
                              std::uint64_t* tracked) {
  const char* prefix = import.prefix ? import.prefix : "";
  bool seen = false;
  *tracked = 0;
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const BatchNormModule& bn = m.bn[k];
    const Entry& v = h.entries[bn.part[kRunningVar]];
    const std::size_t size = dtype_bytes(v.dtype);
    for (std::size_t i = 0; i < v.dims[0]; ++i)
      FENNEC_RETURN_IF_ERROR(check_running_var(load_value(h.data + v.begin + i * size, v.dtype), prefix, bn.index, i));
    if (bn.part[kBatchesTracked] >= 0) {
      const Entry& c = h.entries[bn.part[kBatchesTracked]];
      std::uint64_t value = 0;
      FENNEC_RETURN_IF_ERROR(decode_counter(h.data + c.begin, c.dtype, prefix, bn.index, &value));
      FENNEC_RETURN_IF_ERROR(merge_counter(value, &seen, tracked, prefix, bn.index));
    }
  }
  return Status::ok();
}

// Every check of the file's values against `model` (bound), then the copy: nothing is written
// unless all pass.
Status load_parameters(const Header& h, const Mapping& m, Model& model, const SafetensorsImport& import) {
  FENNEC_RETURN_IF_ERROR(check_model_matches(h, m, model.spec()));
  // Counters are integers, checked by check_batchnorm_values.
  for (std::size_t t = 0; t < h.count; ++t)
    if (h.entries[t].dtype == kF64 && !m.is_counter(t)) FENNEC_RETURN_IF_ERROR(check_f64_range(h, h.entries[t]));
  if (import.check_finite) {
    for (std::size_t t = 0; t < h.count; ++t)
      if (!m.is_counter(t)) FENNEC_RETURN_IF_ERROR(check_finite(h, h.entries[t]));
  }
  std::uint64_t tracked = 0;
  FENNEC_RETURN_IF_ERROR(check_batchnorm_values(h, m, import, &tracked));
  LoadLayout layout;
  make_layout(h, m, 0, &layout);
  // Cannot fail: every value was checked above.
  FENNEC_RETURN_IF_ERROR(fill_parameters(layout, model, [&](const TensorRef& src, const Target& dst) {
    const std::size_t size = dtype_bytes(src.dtype);
    const unsigned char* p = h.data + src.offset;
    for (std::size_t r = 0; r < dst.rows; ++r)
      for (std::size_t c = 0; c < dst.cols; ++c, p += size) dst.data[r * dst.stride + c] = load_value(p, src.dtype);
    return Status::ok();
  }));
  if (m.bn_count) model.set_batches_tracked(tracked);
  return Status::ok();
}

// The one parse of the header, its mapping and the network it holds.
Status describe(const void* data, std::size_t size, const SafetensorsImport& import, Header& h,
                Mapping& m, ModelSpec* spec) {
  FENNEC_RETURN_IF_ERROR(parse_safetensors(data, size, h));
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  return build_spec(h, m, import, spec);
}

}  // namespace

Result<ModelSpec> read_safetensors_spec(const void* data, std::size_t size,
                                        const SafetensorsImport& import) {
  Header h;
  Mapping m;
  ModelSpec spec;
  FENNEC_RETURN_IF_ERROR(describe(data, size, import, h, m, &spec));
  return spec;
}

Status restore_safetensors_parameters(const void* data, std::size_t size, Model& model,
                                      const SafetensorsImport& import) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "model is not bound");
  FENNEC_RETURN_IF_ERROR(check_writable_model(model));
  Header h;
  FENNEC_RETURN_IF_ERROR(parse_safetensors(data, size, h));
  Mapping m;
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  return load_parameters(h, m, model, import);
}

Result<Model> load_safetensors(const void* data, std::size_t size, const SafetensorsImport& import,
                               const ModelOptions& options, Arena& arena) {
  Header h;
  Mapping m;
  ModelSpec spec;
  FENNEC_RETURN_IF_ERROR(describe(data, size, import, h, m, &spec));
  std::uint64_t count = 0;
  FENNEC_ENSURE(parameter_count(spec, &count), StatusCode::kOutOfMemory, "parameter count overflows");
  return bind_and_load(spec, count, options, arena, [&](Model& model) {
    FENNEC_RETURN_IF_ERROR(check_writable_model(model));
    return load_parameters(h, m, model, import);
  });
}

}  // namespace fennec
