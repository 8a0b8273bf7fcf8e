// SPDX-License-Identifier: Apache-2.0
// The nn.Sequential mapping (rules in include/fennec/safetensors.hpp): tensor names to Linear
// layers and BatchNorm1d modules, the ModelSpec they make, where each tensor goes in the bound
// model, the batch-norm values' own rules, and the names an export writes.
#include "io/safetensors_sequential.hpp"

#include <cstdio>
#include <cstring>

#include "io/io_util.hpp"

namespace fennec::io_detail {

namespace {

// Longest tensor name the import maps (prefix and module names included).
constexpr std::size_t kMaxTensorName = 160;

// "<i>" a decimal without leading zeros, < 10^9.
bool parse_index(const char* s, std::size_t n, std::uint32_t* index) {
  if (n == 0 || n > 9 || (s[0] == '0' && n > 1)) return false;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(s[i] - '0');
  }
  *index = v;
  return true;
}

struct Name {
  bool module = false;  // the stem names a module: a Sequential index or a listed layer name
  std::uint32_t index = 0;
  int part = kUnknownPart;
};

// "<prefix><stem>.<part>", where <stem> is the Sequential index "<i>" or, with
// import.layer_names, one of those names (its position in the list is the layer's index).
Name parse_name(JsonSlice s, const SafetensorsImport& import) {
  Name out;
  char buf[kMaxTensorName];
  std::size_t size = 0;
  // Decoded with its length: a NUL inside the name must not end it early ("0.weight\u0000" is
  // another key than "0.weight" to PyTorch).
  if (!json_decode(s, buf, sizeof(buf), &size) || std::memchr(buf, 0, size) != nullptr) return out;
  const char* rest = buf;
  if (import.prefix) {
    const std::size_t p = std::strlen(import.prefix);
    if (std::strncmp(buf, import.prefix, p) != 0) return out;
    rest += p;
  }
  const char* dot = std::strrchr(rest, '.');
  if (!dot) return out;
  for (int k = 0; k < kPartCount; ++k)
    if (std::strcmp(dot + 1, kPartNames[k]) == 0) out.part = k;
  const std::size_t stem = static_cast<std::size_t>(dot - rest);
  if (!import.layer_names) {
    out.module = parse_index(rest, stem, &out.index);
    return out;
  }
  for (std::size_t i = 0; i < import.num_layer_names; ++i) {
    const char* name = import.layer_names[i];
    if (name && std::strlen(name) == stem && std::strncmp(rest, name, stem) == 0) {
      out.index = static_cast<std::uint32_t>(i);
      out.module = true;
      return out;
    }
  }
  return out;
}

// The Mapping::bn slot of BatchNorm1d module `index`, bn_count when it is not one.
std::size_t find_batchnorm(const Mapping& m, std::uint32_t index) {
  std::size_t k = 0;
  while (k < m.bn_count && m.bn[k].index != index) ++k;
  return k;
}

Status unsupported_dtype(const Entry& e) {
  NameBuf b(e.name);
  return Status::error(StatusCode::kUnsupported, "tensor '%s' has dtype %s; only F32, F16, BF16 and F64 load",
                       b.text, kDtypes[e.dtype].name);
}

// The BatchNorm1d modules (a module index holding running statistics) and their tensors.
Status map_batchnorm(const Header& h, const SafetensorsImport& import, const Name* names, Mapping& m) {
  for (std::size_t t = 0; t < h.count; ++t) {
    if (names[t].part < kRunningMean) continue;
    // With layer names the module order is unknown (only the Linear layers are listed).
    if (import.layer_names) {
      NameBuf b(h.entries[t].name);
      return Status::error(StatusCode::kUnsupported,
                           "tensor '%s' is a BatchNorm1d buffer: BatchNorm1d modules map by their "
                           "nn.Sequential index only, not with layer names",
                           b.text);
    }
    if (!names[t].module || find_batchnorm(m, names[t].index) < m.bn_count) continue;
    FENNEC_ENSURE(m.bn_count < kMaxLayers, StatusCode::kUnsupported, "more than %zu BatchNorm1d modules",
                  kMaxLayers);
    m.bn[m.bn_count++].index = names[t].index;
  }
  for (std::size_t t = 0; t < h.count; ++t) {
    if (!names[t].module) continue;
    const std::size_t k = find_batchnorm(m, names[t].index);
    if (k == m.bn_count) continue;
    const Entry& e = h.entries[t];
    NameBuf b(e.name);
    FENNEC_ENSURE(names[t].part != kUnknownPart, StatusCode::kUnsupported,
                  "tensor '%s' of BatchNorm1d module %lu is not its weight, bias, running_mean, "
                  "running_var or num_batches_tracked",
                  b.text, static_cast<unsigned long>(m.bn[k].index));
    const int part = names[t].part;
    if (part == kBatchesTracked) {
      FENNEC_ENSURE(e.dtype == kI64 || e.dtype == kF32 || e.dtype == kF64, StatusCode::kUnsupported,
                    "tensor '%s' has dtype %s; num_batches_tracked loads from I64, F32 or F64", b.text,
                    kDtypes[e.dtype].name);
      FENNEC_ENSURE(e.rank == 0 || (e.rank == 1 && e.dims[0] == 1), StatusCode::kShapeMismatch,
                    "tensor '%s' must have shape [] or [1]", b.text);
    } else {
      if (!float_dtype(e.dtype)) return unsupported_dtype(e);
      FENNEC_ENSURE(e.rank == 1, StatusCode::kShapeMismatch, "tensor '%s' has rank %lu, not 1", b.text,
                    static_cast<unsigned long>(e.rank));
    }
    m.bn[k].part[part] = static_cast<int>(t);
  }
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const BatchNormModule& bn = m.bn[k];
    const unsigned long i = bn.index;
    FENNEC_ENSURE(bn.part[kRunningMean] >= 0 && bn.part[kRunningVar] >= 0, StatusCode::kShapeMismatch,
                  "BatchNorm1d module %lu lacks '%lu.%s'", i, i,
                  bn.part[kRunningMean] < 0 ? "running_mean" : "running_var");
    FENNEC_ENSURE((bn.part[kWeight] >= 0) == (bn.part[kBias] >= 0), StatusCode::kShapeMismatch,
                  "BatchNorm1d module %lu has '%lu.%s' without '%lu.%s' (affine=False has neither)", i,
                  i, bn.part[kWeight] >= 0 ? "weight" : "bias", i, bn.part[kWeight] >= 0 ? "bias" : "weight");
  }
  return Status::ok();
}

// Attaches each BatchNorm1d module to the Linear before it (m.layers sorted by index).
Status attach_batchnorm(const Header& h, Mapping& m) {
  for (std::size_t k = 0; k < m.bn_count; ++k) {
    const unsigned long i = m.bn[k].index;
    std::size_t l = m.count;
    for (std::size_t j = 0; j < m.count && m.layers[j].index < m.bn[k].index; ++j) l = j;
    FENNEC_ENSURE(l < m.count, StatusCode::kUnsupported,
                  "BatchNorm1d module %lu comes before any Linear (Fennec normalises a dense layer's output)", i);
    Layer& layer = m.layers[l];
    FENNEC_ENSURE(layer.bn < 0, StatusCode::kUnsupported,
                  "BatchNorm1d modules %lu and %lu both follow Linear %lu (Fennec has one per dense layer)",
                  static_cast<unsigned long>(m.bn[layer.bn].index), i, static_cast<unsigned long>(layer.index));
    layer.bn = static_cast<int>(k);
    const std::uint64_t units = h.entries[layer.weight].dims[0];
    for (int part = kWeight; part <= kRunningVar; ++part) {
      const int t = m.bn[k].part[part];
      FENNEC_ENSURE(t < 0 || h.entries[t].dims[0] == units, StatusCode::kShapeMismatch,
                    "'%lu.%s' must have shape (%llu), the out features of Linear %lu", i, kPartNames[part],
                    static_cast<unsigned long long>(units), static_cast<unsigned long>(layer.index));
    }
  }
  return Status::ok();
}

// Places tensor t (a Linear's weight or bias, by `name`) in its layer.
Status map_linear_tensor(const Header& h, const SafetensorsImport& import, const Name& name, std::size_t t,
                         Mapping& m) {
  const Entry& e = h.entries[t];
  if (!name.module || (name.part != kWeight && name.part != kBias)) {
    NameBuf b(e.name);
    if (import.prefix || import.layer_names)
      return Status::error(StatusCode::kUnsupported, "tensor '%s' is not '%s<%s>.weight' or '.bias'", b.text,
                           import.prefix ? import.prefix : "", import.layer_names ? "listed layer" : "i");
    return Status::error(StatusCode::kUnsupported,
                         "tensor '%s' is not '<i>.weight' or '<i>.bias' of an nn.Sequential of "
                         "nn.Linear (and BatchNorm1d) modules (other names: a prefix or a list of "
                         "layer names)",
                         b.text);
  }
  const std::uint32_t index = name.index;
  const bool is_weight = name.part == kWeight;
  if (!float_dtype(e.dtype)) return unsupported_dtype(e);
  std::size_t k = 0;
  while (k < m.count && m.layers[k].index != index) ++k;
  if (k == m.count) {
    FENNEC_ENSURE(m.count < kMaxLayers, StatusCode::kUnsupported, "more than %zu Linear layers", kMaxLayers);
    m.layers[m.count++].index = index;
  }
  int& slot = is_weight ? m.layers[k].weight : m.layers[k].bias;
  if (slot >= 0) {
    NameBuf a(h.entries[slot].name), b(e.name);
    return Status::error(StatusCode::kCorruptData, "tensors '%s' and '%s' both map to layer %lu's %s", a.text,
                         b.text, static_cast<unsigned long>(index), is_weight ? "weight" : "bias");
  }
  slot = static_cast<int>(t);
  return Status::ok();
}

// The Linear layers in Sequential order form a chain: weight (out, in) within Fennec's widths,
// bias (out), each layer's in the previous one's out.
Status check_chain(const Header& h, const Mapping& m) {
  for (std::size_t i = 0; i < m.count; ++i) {
    const Layer& l = m.layers[i];
    FENNEC_ENSURE(l.weight >= 0, StatusCode::kShapeMismatch, "'%lu.bias' without '%lu.weight'",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long>(l.index));
    const Entry& w = h.entries[l.weight];
    FENNEC_ENSURE(w.rank == 2, StatusCode::kShapeMismatch, "'%lu.weight' has rank %lu, not 2",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long>(w.rank));
    FENNEC_ENSURE(w.dims[0] >= 1 && w.dims[0] <= kMaxWidth && w.dims[1] >= 1 && w.dims[1] <= kMaxWidth,
                  StatusCode::kShapeMismatch, "'%lu.weight' shape (%llu, %llu) outside [1, %zu]",
                  static_cast<unsigned long>(l.index), static_cast<unsigned long long>(w.dims[0]),
                  static_cast<unsigned long long>(w.dims[1]), kMaxWidth);
    if (l.bias >= 0) {
      const Entry& b = h.entries[l.bias];
      FENNEC_ENSURE(b.rank == 1 && b.dims[0] == w.dims[0], StatusCode::kShapeMismatch,
                    "'%lu.bias' must have shape (%llu)", static_cast<unsigned long>(l.index),
                    static_cast<unsigned long long>(w.dims[0]));
    }
    if (i > 0) {
      const Entry& prev = h.entries[m.layers[i - 1].weight];
      FENNEC_ENSURE(w.dims[1] == prev.dims[0], StatusCode::kShapeMismatch,
                    "'%lu.weight' takes %llu inputs but the previous layer gives %llu",
                    static_cast<unsigned long>(l.index), static_cast<unsigned long long>(w.dims[1]),
                    static_cast<unsigned long long>(prev.dims[0]));
    }
  }
  return Status::ok();
}

TensorRef ref_of(const Header& h, int entry, std::uint64_t base) {
  if (entry < 0) return TensorRef{};
  const Entry& e = h.entries[entry];
  return TensorRef{base + e.begin, e.dtype};
}

}  // namespace

Status map_layers(const Header& h, const SafetensorsImport& import, Mapping& m) {
  FENNEC_ENSURE(import.layer_names == nullptr || (import.num_layer_names >= 1 &&
                                                  import.num_layer_names <= kMaxLayers),
                StatusCode::kInvalidArgument, "%zu layer names given; 1 to %zu allowed",
                import.num_layer_names, kMaxLayers);
  Name names[kSafetensorsMaxTensors];
  for (std::size_t t = 0; t < h.count; ++t) names[t] = parse_name(h.entries[t].name, import);
  // BatchNorm1d first: its weight/bias would otherwise be read as a rank-1 Linear weight.
  FENNEC_RETURN_IF_ERROR(map_batchnorm(h, import, names, m));
  for (std::size_t t = 0; t < h.count; ++t) {
    if (names[t].module && find_batchnorm(m, names[t].index) < m.bn_count) continue;
    FENNEC_RETURN_IF_ERROR(map_linear_tensor(h, import, names[t], t, m));
  }
  FENNEC_ENSURE(m.count > 0, StatusCode::kShapeMismatch, "no Linear layers in the file");
  // Sequential order.
  for (std::size_t i = 1; i < m.count; ++i) {
    const Layer x = m.layers[i];
    std::size_t k = i;
    while (k > 0 && m.layers[k - 1].index > x.index) {
      m.layers[k] = m.layers[k - 1];
      --k;
    }
    m.layers[k] = x;
  }
  if (import.layer_names) {
    FENNEC_ENSURE(m.count == import.num_layer_names, StatusCode::kShapeMismatch,
                  "%zu layer names given, the file has tensors for %zu of them",
                  import.num_layer_names, m.count);
  }
  FENNEC_RETURN_IF_ERROR(check_chain(h, m));
  return attach_batchnorm(h, m);
}

Status build_spec(const Header& h, const Mapping& m, const SafetensorsImport& import, ModelSpec* out) {
  ActivationSpec acts[kMaxLayers];
  Loss loss = import.loss;
  if (import.activations) {
    FENNEC_ENSURE(import.num_activations == m.count, StatusCode::kInvalidArgument,
                  "%zu activations given for %zu Linear layers", import.num_activations, m.count);
    for (std::size_t i = 0; i < m.count; ++i) acts[i] = import.activations[i];
  } else {
    JsonSlice activations, loss_text;
    FENNEC_ENSURE(find_metadata(h, "fennec.activations", &activations), StatusCode::kInvalidArgument,
                  "no activations given and the file has no fennec.activations metadata");
    FENNEC_RETURN_IF_ERROR(parse_activation_metadata(activations, acts, m.count));
    if (find_metadata(h, "fennec.loss", &loss_text)) {
      FENNEC_ENSURE(parse_loss_metadata(loss_text, &loss), StatusCode::kInvalidArgument,
                    "unknown fennec.loss metadata");
    }
  }
  ModelSpec spec(static_cast<std::uint32_t>(h.entries[m.layers[0].weight].dims[1]));
  spec.loss = loss;
  for (std::size_t i = 0; i < m.count; ++i)
    spec.dense(static_cast<std::uint32_t>(h.entries[m.layers[i].weight].dims[0]), acts[i]);
  FENNEC_RETURN_IF_ERROR(parse_layer_options(h, m, import, spec));
  FENNEC_RETURN_IF_ERROR(validate(spec));
  *out = spec;
  return Status::ok();
}

Status check_model_matches(const Header& h, const Mapping& m, const ModelSpec& spec) {
  FENNEC_ENSURE(m.count == spec.num_layers && h.entries[m.layers[0].weight].dims[1] == spec.input,
                StatusCode::kShapeMismatch, "the file's %zu layers do not match the model's %zu", m.count,
                static_cast<std::size_t>(spec.num_layers));
  for (std::size_t i = 0; i < m.count; ++i) {
    FENNEC_ENSURE(h.entries[m.layers[i].weight].dims[0] == spec.layers[i].units, StatusCode::kShapeMismatch,
                  "layer %zu: %llu units in the file, %lu in the model", i,
                  static_cast<unsigned long long>(h.entries[m.layers[i].weight].dims[0]),
                  static_cast<unsigned long>(spec.layers[i].units));
  }
  for (std::size_t i = 0; i < m.count; ++i) {
    const bool file = m.layers[i].bn >= 0, model = spec.layers[i].batchnorm.enabled;
    FENNEC_ENSURE(file == model, StatusCode::kShapeMismatch, "layer %zu: batch norm in the %s but not in the %s",
                  i, file ? "file" : "model", file ? "model" : "file");
  }
  return Status::ok();
}

void make_layout(const Header& h, const Mapping& m, std::uint64_t base, LoadLayout* out) {
  out->count = m.count;
  for (std::size_t i = 0; i < m.count; ++i) {
    LayerTensors& t = out->layers[i];
    t = LayerTensors{};
    t.weight = ref_of(h, m.layers[i].weight, base);
    t.bias = ref_of(h, m.layers[i].bias, base);
    if (m.layers[i].bn < 0) continue;
    const BatchNormModule& module = m.bn[m.layers[i].bn];
    t.bn_module = module.index;
    for (int part = 0; part < kPartCount; ++part) t.bn[part] = ref_of(h, module.part[part], base);
  }
}

Status decode_counter(const unsigned char* p, int dtype, const char* prefix, std::uint32_t index,
                      std::uint64_t* out) {
  if (dtype == kI64) {
    const std::uint64_t u = load_u64(p);
    FENNEC_ENSURE(u >> 63 == 0, StatusCode::kCorruptData, "'%s%lu.num_batches_tracked' is negative (%lld)",
                  prefix, static_cast<unsigned long>(index), static_cast<long long>(u));
    *out = u;
    return Status::ok();
  }
  const double d = dtype == kF32 ? static_cast<double>(load_f32(p)) : load_f64(p);
  const bool whole = d >= 0.0 && d < 9223372036854775808.0 &&
                     static_cast<double>(static_cast<std::uint64_t>(d)) == d;
  FENNEC_ENSURE(whole, StatusCode::kCorruptData,
                "'%s%lu.num_batches_tracked' is %g, not a non-negative whole number", prefix,
                static_cast<unsigned long>(index), d);
  *out = static_cast<std::uint64_t>(d);
  return Status::ok();
}

Status merge_counter(std::uint64_t value, bool* seen, std::uint64_t* count, const char* prefix,
                     std::uint32_t index) {
  FENNEC_ENSURE(!*seen || value == *count, StatusCode::kUnsupported,
                "'%s%lu.num_batches_tracked' is %llu, another BatchNorm1d module's is %llu (Fennec "
                "keeps one count per model)",
                prefix, static_cast<unsigned long>(index), static_cast<unsigned long long>(value),
                static_cast<unsigned long long>(*count));
  *seen = true;
  *count = value;
  return Status::ok();
}

Status check_running_var(float v, const char* prefix, std::uint32_t index, std::size_t k) {
  FENNEC_ENSURE(v >= 0.f && finite_f32(v), StatusCode::kCorruptData,
                "'%s%lu.running_var' element %zu is %g: a variance is finite and >= 0", prefix,
                static_cast<unsigned long>(index), k, static_cast<double>(v));
  return Status::ok();
}

Status write_tensor_entries(const ModelSpec& spec, HeaderWriter& out) {
  // Sequential indices in PyTorch's module order: Linear, BatchNorm1d, the activation (unless
  // identity), Dropout (when p > 0).
  std::uint32_t index = 0;
  const auto tensor = [&](const char* part, int dtype, int rank, std::uint64_t rows, std::uint64_t cols) {
    char name[48];
    std::snprintf(name, sizeof(name), "%lu.%s", static_cast<unsigned long>(index), part);
    const std::uint64_t dims[2] = {rows, cols};
    return out.tensor(name, dtype, rank, dims);
  };
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    const std::uint64_t units = l.units;
    FENNEC_RETURN_IF_ERROR(tensor("weight", kF32, 2, units, spec.fan_in(i)));
    FENNEC_RETURN_IF_ERROR(tensor("bias", kF32, 1, units, 0));
    ++index;
    if (l.batchnorm.enabled) {
      for (int part = kWeight; part <= kRunningVar; ++part)
        FENNEC_RETURN_IF_ERROR(tensor(kPartNames[part], kF32, 1, units, 0));
      FENNEC_RETURN_IF_ERROR(tensor(kPartNames[kBatchesTracked], kI64, 0, 0, 0));
      ++index;
    }
    if (l.activation.kind != Activation::kIdentity) ++index;
    if (l.dropout > 0.f) ++index;
  }
  return Status::ok();
}

}  // namespace fennec::io_detail
