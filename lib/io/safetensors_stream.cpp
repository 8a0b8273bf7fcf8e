// SPDX-License-Identifier: Apache-2.0
// safetensors import through a RandomReader (a file through pread, a flash partition): the JSON
// header is read into scratch memory (the arena's free space, released before binding), then each
// tensor is decoded a chunk at a time into the bound model. Input that ends early is corrupt,
// never a crash; the arena is rewound on any failure.
#include "fennec/file_kind.hpp"
#include "fennec/safetensors.hpp"
#include "io/bind_and_load.hpp"
#include "io/io_util.hpp"
#include "io/safetensors_format.hpp"
#include "io/safetensors_sequential.hpp"

namespace fennec {

using namespace io_detail;

namespace {

// Reads exactly `size` bytes at `offset`; an input that delivers fewer (it shrank after its size
// was taken) is corrupt, never a crash.
Status read_exactly(const RandomReader& in, std::uint64_t offset, void* data, std::size_t size,
                    const char* what) {
  std::size_t got = 0;
  FENNEC_RETURN_IF_ERROR(in.read_at(in.context, offset, data, size, &got));
  FENNEC_ENSURE(got == size, StatusCode::kCorruptData,
                "safetensors: %s: %zu of %zu bytes at offset %llu (the input shrank while it was "
                "read?)",
                what, got, size, static_cast<unsigned long long>(offset));
  return Status::ok();
}

// The length field: the JSON header's size.
Status read_header_length(const RandomReader& in, std::uint64_t* json_size) {
  FENNEC_ENSURE(in.read_at != nullptr, StatusCode::kInvalidArgument, "null reader");
  unsigned char start[kFileKindProbe] = {};
  const std::size_t probe = in.size < kFileKindProbe ? static_cast<std::size_t>(in.size) : kFileKindProbe;
  if (in.size >= 8) FENNEC_RETURN_IF_ERROR(read_exactly(in, 0, start, probe, "header length"));
  return header_length(start, probe, in.size, json_size);
}

// The json_size-byte JSON header into `json` (json_capacity bytes), parsed into h.
Status read_header(const RandomReader& in, std::uint64_t json_size, char* json, std::size_t json_capacity,
                   Header& h) {
  FENNEC_ENSURE(json_size <= json_capacity, StatusCode::kOutOfMemory,
                "safetensors: the %llu-byte header does not fit the %zu bytes available to read it",
                static_cast<unsigned long long>(json_size), json_capacity);
  const std::size_t n = static_cast<std::size_t>(json_size);
  if (n) FENNEC_RETURN_IF_ERROR(read_exactly(in, 8, json, n, "header"));
  return parse_header(json, n, in.size - 8 - json_size, h);
}

// Decodes dst.rows x dst.cols values at src.offset into dst, a chunk at a time.
Status stream_tensor(const RandomReader& in, const TensorRef& src, const Target& dst) {
  const std::size_t esize = dtype_bytes(src.dtype);
  unsigned char chunk[16384];
  const std::size_t per_chunk = sizeof(chunk) / esize;
  std::uint64_t offset = src.offset;
  const std::uint64_t total = std::uint64_t{dst.rows} * dst.cols;
  std::uint64_t done = 0;
  while (done < total) {
    const std::size_t k = total - done < per_chunk ? static_cast<std::size_t>(total - done) : per_chunk;
    FENNEC_RETURN_IF_ERROR(read_exactly(in, offset, chunk, k * esize, dst.what));
    for (std::size_t i = 0; i < k; ++i, ++done) {
      const std::size_t r = static_cast<std::size_t>(done / dst.cols), c = static_cast<std::size_t>(done % dst.cols);
      const float v = load_value(chunk + i * esize, src.dtype);
      if (src.dtype == kF64 && !finite_f32(v)) {
        // As the in-memory load refuses it: a finite double beyond float's range.
        const double d = load_f64(chunk + i * esize);
        FENNEC_ENSURE(!(d == d && d - d == 0.0), StatusCode::kUnsupported,
                      "%s element %llu is %g, outside float's range", dst.what,
                      static_cast<unsigned long long>(done), d);
      }
      dst.data[r * dst.stride + c] = v;
    }
    offset += k * esize;
  }
  return Status::ok();
}

Status check_finite_rows(const float* p, std::size_t rows, std::size_t cols, std::size_t stride,
                         std::size_t layer, const char* what) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      FENNEC_ENSURE(finite_f32(p[r * stride + c]), StatusCode::kNonFinite,
                    "layer %zu %s element %zu is NaN or Inf", layer, what, r * cols + c);
  return Status::ok();
}

Status check_finite_target(const Target& t) {
  return check_finite_rows(t.data, t.rows, t.cols, t.stride, t.layer, t.what);
}

// Checks on the values just decoded into `dst`. A running variance is checked for its own rule
// (finite and >= 0); the rest of a batch-norm layer's values, decoded before it, are checked for
// finiteness after that.
Status check_streamed(const Target& dst, const LayerTensors& t, const SafetensorsImport& import, Model& model) {
  if (!dst.bn) return import.check_finite ? check_finite_target(dst) : Status::ok();
  if (dst.part != kRunningVar) return Status::ok();
  const char* prefix = import.prefix ? import.prefix : "";
  for (std::size_t k = 0; k < dst.cols; ++k)
    FENNEC_RETURN_IF_ERROR(check_running_var(dst.data[k], prefix, t.bn_module, k));
  if (!import.check_finite) return Status::ok();
  const std::size_t i = dst.layer;
  const VectorView g = model.bn_gamma(i), be = model.bn_beta(i), mean = model.bn_running_mean(i);
  FENNEC_RETURN_IF_ERROR(check_finite_rows(g.data, 1, g.size, g.size, i, "batch-norm weight"));
  FENNEC_RETURN_IF_ERROR(check_finite_rows(be.data, 1, be.size, be.size, i, "batch-norm bias"));
  return check_finite_rows(mean.data, 1, mean.size, mean.size, i, "running_mean");
}

// The model's one batches-tracked count: every module's must agree.
Status stream_batches_tracked(const RandomReader& in, const LoadLayout& layout, const SafetensorsImport& import,
                              Model& model) {
  bool seen = false;
  std::uint64_t tracked = 0;
  const char* prefix = import.prefix ? import.prefix : "";
  Status s;
  for (std::size_t i = 0; i < layout.count && s.is_ok(); ++i) {
    const LayerTensors& t = layout.layers[i];
    const TensorRef& c = t.bn[kBatchesTracked];
    if (!model.spec().layers[i].batchnorm.enabled || c.dtype < 0) continue;
    unsigned char raw[8];
    std::uint64_t value = 0;
    s = read_exactly(in, c.offset, raw, dtype_bytes(c.dtype), "num_batches_tracked");
    if (s.is_ok()) s = decode_counter(raw, c.dtype, prefix, t.bn_module, &value);
    if (s.is_ok()) s = merge_counter(value, &seen, &tracked, prefix, t.bn_module);
  }
  model.set_batches_tracked(tracked);
  return s;
}

}  // namespace

Result<ModelSpec> read_safetensors_spec(const RandomReader& in, const SafetensorsImport& import,
                                        void* scratch, std::size_t scratch_bytes) {
  std::uint64_t json_size = 0;
  FENNEC_RETURN_IF_ERROR(read_header_length(in, &json_size));
  Header h;
  FENNEC_RETURN_IF_ERROR(read_header(in, json_size, static_cast<char*>(scratch), scratch ? scratch_bytes : 0, h));
  Mapping m;
  FENNEC_RETURN_IF_ERROR(map_layers(h, import, m));
  ModelSpec spec;
  FENNEC_RETURN_IF_ERROR(build_spec(h, m, import, &spec));
  return spec;
}

Result<Model> load_safetensors(const RandomReader& in, const SafetensorsImport& import,
                               const ModelOptions& options, Arena& arena) {
  std::uint64_t json_size = 0;
  FENNEC_RETURN_IF_ERROR(read_header_length(in, &json_size));
  ModelSpec spec;
  LoadLayout layout;
  {
    // The header lives in the arena's free space until the network is known; the rewind below
    // gives it back before anything is bound, so a failure here leaves the arena as it was.
    const Arena::Mark start = arena.mark();
    Result<void*> buf = arena.allocate(static_cast<std::size_t>(json_size ? json_size : 1),
                                       "safetensors header (read, then released before binding)");
    if (!buf.is_ok()) return buf.status();
    Header h;
    Mapping m;
    Status s = read_header(in, json_size, static_cast<char*>(buf.value()), static_cast<std::size_t>(json_size), h);
    if (s.is_ok()) s = map_layers(h, import, m);
    if (s.is_ok()) s = build_spec(h, m, import, &spec);
    if (s.is_ok()) make_layout(h, m, 8 + json_size, &layout);
    arena.rewind(start);
    if (!s.is_ok()) return s;
  }
  std::uint64_t count = 0;
  FENNEC_ENSURE(parameter_count(spec, &count), StatusCode::kOutOfMemory, "parameter count overflows");
  return bind_and_load(spec, count, options, arena, [&](Model& model) {
    FENNEC_RETURN_IF_ERROR(fill_parameters(layout, model, [&](const TensorRef& src, const Target& dst) {
      FENNEC_RETURN_IF_ERROR(stream_tensor(in, src, dst));
      return check_streamed(dst, layout.layers[dst.layer], import, model);
    }));
    if (!spec.has_batchnorm()) return Status::ok();
    return stream_batches_tracked(in, layout, import, model);
  });
}

}  // namespace fennec
