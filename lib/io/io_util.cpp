// SPDX-License-Identifier: Apache-2.0
#include "io/io_util.hpp"

namespace fennec {

namespace io_detail {

// ---- Output ----
Status Output::write(const void* data, std::size_t size) {
  FENNEC_ENSURE(w_.write != nullptr, StatusCode::kInvalidArgument, "writer has no write function");
  FENNEC_RETURN_IF_ERROR(w_.write(w_.context, data, size));
  crc_ = crc32(data, size, crc_);
  pos_ += size;
  return Status::ok();
}
Status Output::u32(std::uint32_t v) {
  unsigned char b[4];
  store_u32(b, v);
  return write(b, 4);
}
Status Output::u64(std::uint64_t v) {
  unsigned char b[8];
  store_u64(b, v);
  return write(b, 8);
}
Status Output::f32(float v) {
  unsigned char b[4];
  store_f32(b, v);
  return write(b, 4);
}
Status Output::floats(const float* data, std::size_t n) {
  unsigned char buf[1024];
  constexpr std::size_t kChunk = sizeof(buf) / 4;
  while (n) {
    const std::size_t c = n < kChunk ? n : kChunk;
    for (std::size_t i = 0; i < c; ++i) store_f32(buf + 4 * i, data[i]);
    FENNEC_RETURN_IF_ERROR(write(buf, 4 * c));
    data += c;
    n -= c;
  }
  return Status::ok();
}
Status Output::finish_crc() {
  unsigned char b[4];
  store_u32(b, crc_);
  FENNEC_RETURN_IF_ERROR(w_.write(w_.context, b, 4));
  pos_ += 4;
  return Status::ok();
}

// ---- Input ----
Status Input::read(void* data, std::size_t size, const char* what) {
  FENNEC_ENSURE(r_.read != nullptr, StatusCode::kInvalidArgument, "reader has no read function");
  unsigned char* p = static_cast<unsigned char*>(data);
  std::size_t done = 0;
  while (done < size) {
    std::size_t got = 0;
    FENNEC_RETURN_IF_ERROR(r_.read(r_.context, p + done, size - done, &got));
    FENNEC_ENSURE(got <= size - done, StatusCode::kIoError, "reader returned more bytes than asked");
    if (got == 0) {
      return Status::error(StatusCode::kCorruptData,
                           "truncated: %s needs %zu bytes at offset %llu, the input ends after %zu",
                           what, size, static_cast<unsigned long long>(pos_), done);
    }
    done += got;
  }
  crc_ = crc32(data, size, crc_);
  pos_ += size;
  return Status::ok();
}

Status Input::skip(std::uint64_t size, const char* what) {
  unsigned char buf[512];
  while (size) {
    const std::size_t c = size < sizeof(buf) ? static_cast<std::size_t>(size) : sizeof(buf);
    FENNEC_RETURN_IF_ERROR(read(buf, c, what));
    size -= c;
  }
  return Status::ok();
}

Status Input::floats(float* dst, std::uint64_t n, const char* what, std::uint64_t* non_finite) {
  unsigned char buf[1024];
  constexpr std::size_t kChunk = sizeof(buf) / 4;
  while (n) {
    const std::size_t c = n < kChunk ? static_cast<std::size_t>(n) : kChunk;
    FENNEC_RETURN_IF_ERROR(read(buf, 4 * c, what));
    for (std::size_t i = 0; i < c; ++i) {
      const std::uint32_t u = load_u32(buf + 4 * i);
      *non_finite += finite_bits(u) ? 0 : 1;
      if (dst) std::memcpy(dst + i, &u, 4);
    }
    if (dst) dst += c;
    n -= c;
  }
  return Status::ok();
}

Status Input::check_crc() {
  const std::uint32_t expected = crc_;
  unsigned char b[4];
  FENNEC_RETURN_IF_ERROR(read(b, 4, "CRC-32"));
  const std::uint32_t stored = load_u32(b);
  FENNEC_ENSURE(stored == expected, StatusCode::kCorruptData,
                "CRC-32 mismatch: stored 0x%08lx, computed 0x%08lx (corrupted or torn file)",
                static_cast<unsigned long>(stored), static_cast<unsigned long>(expected));
  return Status::ok();
}

Status Input::expect_end() {
  unsigned char b;
  std::size_t got = 0;
  FENNEC_RETURN_IF_ERROR(r_.read(r_.context, &b, 1, &got));
  FENNEC_ENSURE(got == 0, StatusCode::kCorruptData,
                "trailing bytes after the end of the file at offset %llu",
                static_cast<unsigned long long>(pos_));
  return Status::ok();
}

// ---- spec records ----
bool parameter_count(const ModelSpec& spec, std::uint64_t* count) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < spec.num_layers && i < kMaxLayers; ++i) {
    std::uint64_t w;
    if (!mul_u64(spec.layers[i].units, spec.fan_in(i), &w)) return false;
    if (!add_u64(n, w, &n) || !add_u64(n, spec.layers[i].units, &n)) return false;
    if (spec.layers[i].batchnorm.enabled && !add_u64(n, 2 * std::uint64_t{spec.layers[i].units}, &n)) return false;
  }
  *count = n;
  return true;
}

std::uint64_t layer_state_count(const ModelSpec& spec) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < spec.num_layers && i < kMaxLayers; ++i)
    if (spec.layers[i].batchnorm.enabled) n += 2 * std::uint64_t{spec.layers[i].units};
  return n;
}

bool has_layer_options(const ModelSpec& spec) { return spec.has_batchnorm() || spec.has_dropout(); }

Status check_parameters_fit(std::uint64_t count, const Arena& arena) {
  std::uint64_t bytes = 0;
  FENNEC_ENSURE(mul_u64(count, 4, &bytes), StatusCode::kOutOfMemory, "parameter bytes overflow");
  FENNEC_ENSURE(bytes <= arena.remaining(), StatusCode::kOutOfMemory,
                "arena too small: the model's %llu parameter bytes alone exceed the %zu free",
                static_cast<unsigned long long>(bytes), arena.remaining());
  return Status::ok();
}

std::size_t encode_spec(const ModelSpec& spec, unsigned char* out, bool layer_options) {
  std::uint64_t count = 0;
  parameter_count(spec, &count);
  store_u32(out + 0, spec.input);
  store_u32(out + 4, spec.num_layers);
  store_u32(out + 8, static_cast<std::uint32_t>(spec.loss));
  store_u32(out + 12, 0);
  store_u64(out + 16, count);
  unsigned char* p = out + kSpecFixedBytes;
  for (std::size_t i = 0; i < spec.num_layers; ++i, p += kModelFileLayerRecord) {
    const LayerSpec& l = spec.layers[i];
    store_u32(p + 0, l.units);
    store_u32(p + 4, static_cast<std::uint32_t>(l.activation.kind));
    store_f32(p + 8, l.activation.alpha);
    store_u32(p + 12, static_cast<std::uint32_t>(l.init.kind));
    store_f32(p + 16, l.init.a);
    store_f32(p + 20, l.init.b);
  }
  if (layer_options) {
    for (std::size_t i = 0; i < spec.num_layers; ++i, p += kModelFileLayerOptionsRecord) {
      const LayerSpec& l = spec.layers[i];
      const std::uint32_t flags = (l.batchnorm.enabled ? kLayerBatchNorm : 0u) |
                                  (l.batchnorm.enabled && !l.batchnorm.decay_gamma_beta ? kLayerNoDecayGammaBeta : 0u);
      store_u32(p + 0, flags);
      store_f32(p + 4, l.batchnorm.enabled ? l.batchnorm.eps : 0.f);
      store_f32(p + 8, l.batchnorm.enabled ? l.batchnorm.momentum : 0.f);
      store_f32(p + 12, l.dropout);
    }
  }
  return static_cast<std::size_t>(p - out);
}

Status decode_spec_fixed(const unsigned char* p, SpecFixed* f) {
  f->input = load_u32(p + 0);
  f->num_layers = load_u32(p + 4);
  f->loss = load_u32(p + 8);
  f->flags = load_u32(p + 12);
  f->param_count = load_u64(p + 16);
  FENNEC_ENSURE(f->num_layers >= 1 && f->num_layers <= kMaxLayers, StatusCode::kCorruptData,
                "layer count %lu outside [1, %zu]", static_cast<unsigned long>(f->num_layers),
                kMaxLayers);
  FENNEC_ENSURE(f->flags == 0, StatusCode::kCorruptData, "unknown flags 0x%08lx",
                static_cast<unsigned long>(f->flags));
  FENNEC_ENSURE(f->loss <= static_cast<std::uint32_t>(Loss::kSigmoidBce), StatusCode::kCorruptData,
                "loss kind %lu out of range", static_cast<unsigned long>(f->loss));
  return Status::ok();
}

Status decode_spec_layers(const SpecFixed& f, const unsigned char* p, const unsigned char* options,
                          ModelSpec* out) {
  ModelSpec spec(f.input);
  spec.loss = static_cast<Loss>(f.loss);
  for (std::uint32_t i = 0; i < f.num_layers; ++i, p += kModelFileLayerRecord) {
    const std::uint32_t units = load_u32(p + 0), act = load_u32(p + 4), init = load_u32(p + 12);
    const float alpha = load_f32(p + 8), a = load_f32(p + 16), b = load_f32(p + 20);
    FENNEC_ENSURE(act < static_cast<std::uint32_t>(kActivationCount), StatusCode::kCorruptData,
                  "layer %lu: activation kind %lu out of range", static_cast<unsigned long>(i),
                  static_cast<unsigned long>(act));
    FENNEC_ENSURE(init <= static_cast<std::uint32_t>(InitKind::kHeUniform), StatusCode::kCorruptData,
                  "layer %lu: initializer kind %lu out of range", static_cast<unsigned long>(i),
                  static_cast<unsigned long>(init));
    FENNEC_ENSURE(finite_f32(alpha) && finite_f32(a) && finite_f32(b), StatusCode::kCorruptData,
                  "layer %lu: non-finite activation or initializer parameter",
                  static_cast<unsigned long>(i));
    spec.dense(units, ActivationSpec{static_cast<Activation>(act), alpha},
               Init{static_cast<InitKind>(init), a, b});
    if (options) {
      const unsigned char* o = options + i * kModelFileLayerOptionsRecord;
      const std::uint32_t flags = load_u32(o);
      const float eps = load_f32(o + 4), momentum = load_f32(o + 8), dropout = load_f32(o + 12);
      FENNEC_ENSURE((flags & ~(kLayerBatchNorm | kLayerNoDecayGammaBeta)) == 0 &&
                        ((flags & kLayerBatchNorm) || !(flags & kLayerNoDecayGammaBeta)),
                    StatusCode::kCorruptData, "layer %lu: unknown layer option flags 0x%08lx",
                    static_cast<unsigned long>(i), static_cast<unsigned long>(flags));
      FENNEC_ENSURE((flags & kLayerBatchNorm) || (eps == 0.f && momentum == 0.f), StatusCode::kCorruptData,
                    "layer %lu: batch-norm fields set on a layer without batch norm", static_cast<unsigned long>(i));
      if (flags & kLayerBatchNorm) spec.batchnorm(eps, momentum, !(flags & kLayerNoDecayGammaBeta));
      spec.dropout(dropout);
    }
  }
  const Status s = validate(spec);
  FENNEC_ENSURE(s.is_ok(), StatusCode::kCorruptData, "invalid network: %s", s.message());
  std::uint64_t count = 0;
  FENNEC_ENSURE(parameter_count(spec, &count) && count == f.param_count, StatusCode::kCorruptData,
                "parameter count %llu does not match the layers (%llu)",
                static_cast<unsigned long long>(f.param_count),
                static_cast<unsigned long long>(count));
  *out = spec;
  return Status::ok();
}

bool same_network(const ModelSpec& a, const ModelSpec& b) {
  if (a.input != b.input || a.num_layers != b.num_layers || a.loss != b.loss) return false;
  for (std::size_t i = 0; i < a.num_layers && i < kMaxLayers; ++i) {
    const LayerSpec &x = a.layers[i], &y = b.layers[i];
    if (x.units != y.units || x.activation.kind != y.activation.kind) return false;
    if (x.activation.kind == Activation::kLeakyRelu && x.activation.alpha != y.activation.alpha)
      return false;
    if (x.batchnorm.enabled != y.batchnorm.enabled) return false;
  }
  return true;
}

Status write_block(Output& out, const Model& model, const float* block) {
  const float* base = model.parameters().data;
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const MatrixView w = model.weights(i);
    const VectorView b = model.bias(i);
    for (std::size_t r = 0; r < w.rows; ++r)
      FENNEC_RETURN_IF_ERROR(out.floats(block + (w.row(r) - base), w.cols));
    FENNEC_RETURN_IF_ERROR(out.floats(block + (b.data - base), b.size));
    const VectorView g = model.bn_gamma(i), be = model.bn_beta(i);
    if (g.data) {
      FENNEC_RETURN_IF_ERROR(out.floats(block + (g.data - base), g.size));
      FENNEC_RETURN_IF_ERROR(out.floats(block + (be.data - base), be.size));
    }
  }
  return Status::ok();
}

Status check_block_finite(const Model& model, const float* block, const char* what) {
  const float* base = model.parameters().data;
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const MatrixView w = model.weights(i);
    const VectorView b = model.bias(i);
    for (std::size_t r = 0; r < w.rows; ++r) {
      const float* row = block + (w.row(r) - base);
      for (std::size_t c = 0; c < w.cols; ++c)
        FENNEC_ENSURE(finite_f32(row[c]), StatusCode::kNonFinite,
                      "not saved: %s of layer %zu weight (%zu, %zu) is NaN or Inf", what, i, r, c);
    }
    const float* bias = block + (b.data - base);
    for (std::size_t k = 0; k < b.size; ++k)
      FENNEC_ENSURE(finite_f32(bias[k]), StatusCode::kNonFinite,
                    "not saved: %s of layer %zu bias %zu is NaN or Inf", what, i, k);
    // gamma then beta: contiguous, each padded.
    const VectorView g = model.bn_gamma(i);
    for (std::size_t k = 0; g.data && k < 2 * padded_floats(g.size); ++k)
      FENNEC_ENSURE(finite_f32(block[(g.data - base) + k]), StatusCode::kNonFinite,
                    "not saved: %s of layer %zu batch-norm gamma/beta %zu is NaN or Inf", what, i, k);
  }
  return Status::ok();
}

Status write_linear(Output& out, const Model& model, std::size_t i) {
  const ConstMatrixView w = model.const_weights(i);
  const ConstVectorView b = model.const_bias(i);
  for (std::size_t r = 0; r < w.rows; ++r) FENNEC_RETURN_IF_ERROR(out.floats(w.row(r), w.cols));
  return out.floats(b.data, b.size);
}

Status write_parameters(Output& out, const Model& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    FENNEC_RETURN_IF_ERROR(write_linear(out, model, i));
    const VectorView g = model.bn_gamma(i), be = model.bn_beta(i);
    FENNEC_RETURN_IF_ERROR(out.floats(g.data, g.size));
    FENNEC_RETURN_IF_ERROR(out.floats(be.data, be.size));
  }
  return Status::ok();
}

Status check_parameters_finite(const Model& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const ConstMatrixView w = model.const_weights(i);
    const ConstVectorView b = model.const_bias(i);
    for (std::size_t r = 0; r < w.rows; ++r)
      for (std::size_t c = 0; c < w.cols; ++c)
        FENNEC_ENSURE(finite_f32(w(r, c)), StatusCode::kNonFinite,
                      "not saved: parameters of layer %zu weight (%zu, %zu) is NaN or Inf", i, r, c);
    for (std::size_t k = 0; k < b.size; ++k)
      FENNEC_ENSURE(finite_f32(b[k]), StatusCode::kNonFinite,
                    "not saved: parameters of layer %zu bias %zu is NaN or Inf", i, k);
    const VectorView g = model.bn_gamma(i), be = model.bn_beta(i);
    for (std::size_t k = 0; k < g.size; ++k)
      FENNEC_ENSURE(finite_f32(g[k]) && finite_f32(be[k]), StatusCode::kNonFinite,
                    "not saved: parameters of layer %zu batch-norm gamma/beta %zu is NaN or Inf", i, k);
  }
  // Running statistics are saved with the parameters: the same rule.
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const VectorView m = model.bn_running_mean(i), v = model.bn_running_var(i);
    for (std::size_t k = 0; k < m.size; ++k)
      FENNEC_ENSURE(finite_f32(m[k]) && finite_f32(v[k]), StatusCode::kNonFinite,
                    "not saved: running statistics of layer %zu feature %zu are NaN or Inf", i, k);
  }
  return Status::ok();
}

Status check_writable_model(const Model& model) {
  FENNEC_ENSURE(!model.is_external(0), StatusCode::kFailedPrecondition,
                "the model reads its parameters in place from a const buffer (external "
                "parameters): they cannot be loaded into");
  return Status::ok();
}

Status read_block(Input& in, const Model* model, const ModelSpec& spec, float* block,
                  const char* what, std::uint64_t* non_finite) {
  if (block == nullptr || model == nullptr) {
    std::uint64_t n = 0;
    FENNEC_ENSURE(parameter_count(spec, &n), StatusCode::kCorruptData, "parameter count overflows");
    return in.floats(nullptr, n, what, non_finite);
  }
  const float* base = model->parameters().data;
  for (std::size_t i = 0; i < model->num_layers(); ++i) {
    const MatrixView w = model->weights(i);
    const VectorView b = model->bias(i);
    for (std::size_t r = 0; r < w.rows; ++r)
      FENNEC_RETURN_IF_ERROR(in.floats(block + (w.row(r) - base), w.cols, what, non_finite));
    FENNEC_RETURN_IF_ERROR(in.floats(block + (b.data - base), b.size, what, non_finite));
    const VectorView g = model->bn_gamma(i), be = model->bn_beta(i);
    if (g.data) {
      FENNEC_RETURN_IF_ERROR(in.floats(block + (g.data - base), g.size, what, non_finite));
      FENNEC_RETURN_IF_ERROR(in.floats(block + (be.data - base), be.size, what, non_finite));
    }
  }
  return Status::ok();
}

Status write_layer_state(Output& out, const Model& model) {
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const VectorView m = model.bn_running_mean(i), v = model.bn_running_var(i);
    FENNEC_RETURN_IF_ERROR(out.floats(m.data, m.size));
    FENNEC_RETURN_IF_ERROR(out.floats(v.data, v.size));
  }
  return Status::ok();
}

Status read_layer_state(Input& in, Model* model, const ModelSpec& spec, std::uint64_t* non_finite) {
  // Read into the model (or only validated), each running variance checked to be >= 0: a
  // negative one would make 1/sqrt(var + eps) NaN at inference.
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    if (!spec.layers[i].batchnorm.enabled) continue;
    const std::size_t units = spec.layers[i].units;
    float* mean = model ? model->bn_running_mean(i).data : nullptr;
    float* var = model ? model->bn_running_var(i).data : nullptr;
    FENNEC_RETURN_IF_ERROR(in.floats(mean, units, "running mean", non_finite));
    for (std::size_t k = 0; k < units; ++k) {
      float v = 0.f;
      FENNEC_RETURN_IF_ERROR(in.floats(&v, 1, "running variance", non_finite));
      FENNEC_ENSURE(!(v < 0.f), StatusCode::kCorruptData, "layer %zu: running variance %zu is negative (%g)", i,
                    k, static_cast<double>(v));
      if (var) var[k] = v;
    }
  }
  return Status::ok();
}

}  // namespace io_detail
}  // namespace fennec
