// SPDX-License-Identifier: Apache-2.0
// Fennec's own __metadata__ values, read on import and written on export: what a state_dict does
// not hold (activations, loss, batch-norm eps and momentum, dropout). Formats in
// include/fennec/safetensors.hpp.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/io_util.hpp"
#include "io/safetensors_sequential.hpp"

namespace fennec::io_detail {

namespace {

// Reads a float item of layer-option metadata: a terminated copy for strtof, no leading
// whitespace, the whole item consumed, finite.
bool parse_metadata_float(const char* text, std::size_t size, float* out) {
  char num[32];
  if (size == 0 || size >= sizeof(num) || text[0] == ' ' || text[0] == '\t') return false;
  std::memcpy(num, text, size);
  num[size] = 0;
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(num, &end);
  if (end != num + size || errno == ERANGE || !finite_f32(v)) return false;
  *out = v;
  return true;
}

// Splits the decoded metadata value `key` (one item per Linear, comma-separated) and calls
// item(layer, text, size) for each.
template <class Item>
Status for_each_metadata_item(JsonSlice s, const char* key, std::size_t count, Item&& item) {
  char buf[kMaxLayers * 40];
  std::size_t size = 0;
  FENNEC_ENSURE(json_decode(s, buf, sizeof(buf), &size), StatusCode::kInvalidArgument,
                "%s metadata too long", key);
  std::size_t items = 0, start = 0;
  for (;;) {
    const void* comma = size > start ? std::memchr(buf + start, ',', size - start) : nullptr;
    const std::size_t end = comma ? static_cast<std::size_t>(static_cast<const char*>(comma) - buf) : size;
    if (items < count) FENNEC_RETURN_IF_ERROR(item(items, buf + start, end - start));
    ++items;
    if (!comma) break;
    start = end + 1;
  }
  FENNEC_ENSURE(items == count, StatusCode::kInvalidArgument,
                "%s metadata has %zu items for %zu Linear layers", key, items, count);
  return Status::ok();
}

// One "EPS:MOMENTUM" or "-" item of fennec.batchnorm for layer i.
Status parse_batchnorm_item(const Mapping& m, std::size_t i, const char* text, std::size_t size,
                            ModelSpec& spec) {
  const bool none = size == 1 && text[0] == '-';
  FENNEC_ENSURE(none == (m.layers[i].bn < 0), StatusCode::kInvalidArgument,
                "fennec.batchnorm metadata: Linear %lu has %s BatchNorm1d module in the file "
                "but item %zu is '%.*s'",
                static_cast<unsigned long>(m.layers[i].index), none ? "a" : "no", i + 1,
                static_cast<int>(size < 32 ? size : 32), text);
  if (none) return Status::ok();
  const void* colon = std::memchr(text, ':', size);
  const std::size_t at = colon ? static_cast<std::size_t>(static_cast<const char*>(colon) - text) : size;
  float eps = 0.f, momentum = 0.f;
  FENNEC_ENSURE(colon && parse_metadata_float(text, at, &eps) &&
                    parse_metadata_float(text + at + 1, size - at - 1, &momentum),
                StatusCode::kInvalidArgument,
                "fennec.batchnorm metadata: item %zu is '%.*s', not '-' or 'EPS:MOMENTUM'", i + 1,
                static_cast<int>(size < 32 ? size : 32), text);
  spec.layers[i].batchnorm.eps = eps;
  spec.layers[i].batchnorm.momentum = momentum;
  return Status::ok();
}

// The shortest "%g" text that reads back (strtof) as exactly v: 1e-05, 0.1, 0.2.
int format_float(char* buf, std::size_t size, float v) {
  // One literal per precision: the library's format strings stay in format_message's subset.
  static const char* const kFormats[] = {"%.1g", "%.2g", "%.3g", "%.4g", "%.5g",
                                         "%.6g", "%.7g", "%.8g", "%.9g"};
  int n = 0;
  for (const char* format : kFormats) {
    n = std::snprintf(buf, size, format, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return n;
}

// A metadata value of one comma-separated item per layer, item(i, buf, size) formatting each.
template <class Item>
Status write_layer_items(const ModelSpec& spec, const char* key, HeaderWriter& out, Item&& item) {
  FENNEC_RETURN_IF_ERROR(out.begin_metadata(key));
  char buf[200];
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    if (i) FENNEC_RETURN_IF_ERROR(out.text(","));
    const int n = item(i, buf, sizeof(buf));
    FENNEC_RETURN_IF_ERROR(out.text(buf, static_cast<std::size_t>(n)));
  }
  return out.end_metadata();
}

}  // namespace

// "relu,relu,identity" (each optionally "leaky_relu:0.2"), decoded with its length so a \u0000
// inside is a byte of an item, and parsed by the same function as the tools' --activation.
Status parse_activation_metadata(JsonSlice s, ActivationSpec* out, std::size_t count) {
  char buf[kMaxLayers * 24];
  std::size_t size = 0;
  FENNEC_ENSURE(json_decode(s, buf, sizeof(buf), &size), StatusCode::kInvalidArgument,
                "fennec.activations metadata too long");
  const Status st = parse_activation_list(buf, size, out, count);
  if (!st.is_ok()) return Status::error(st.code(), "fennec.activations metadata: %s", st.message());
  for (std::size_t i = 0; i < count; ++i) FENNEC_RETURN_IF_ERROR(validate(out[i]));
  return Status::ok();
}

bool parse_loss_metadata(JsonSlice s, Loss* loss) {
  bool found = false;
  for (int k = 0; k <= static_cast<int>(Loss::kSigmoidBce); ++k) {
    if (json_decoded_equal(s, loss_name(static_cast<Loss>(k)))) {
      *loss = static_cast<Loss>(k);
      found = true;
    }
  }
  return found;
}

Status parse_layer_options(const Header& h, const Mapping& m, const SafetensorsImport& import,
                           ModelSpec& spec) {
  for (std::size_t i = 0; i < m.count; ++i) {
    if (m.layers[i].bn >= 0) {
      BatchNormSpec& bn = spec.layers[i].batchnorm;  // by field name: the struct's order is its packing
      bn = BatchNormSpec{};
      bn.enabled = true;
      bn.eps = import.batchnorm_eps;
      bn.momentum = import.batchnorm_momentum;
    }
  }
  if (!import.options_from_metadata) return Status::ok();
  JsonSlice value;
  if (find_metadata(h, "fennec.batchnorm", &value)) {
    FENNEC_RETURN_IF_ERROR(for_each_metadata_item(
        value, "fennec.batchnorm", m.count, [&](std::size_t i, const char* text, std::size_t size) {
          return parse_batchnorm_item(m, i, text, size, spec);
        }));
  }
  if (find_metadata(h, "fennec.dropout", &value)) {
    FENNEC_RETURN_IF_ERROR(for_each_metadata_item(
        value, "fennec.dropout", m.count, [&](std::size_t i, const char* text, std::size_t size) {
          FENNEC_ENSURE(parse_metadata_float(text, size, &spec.layers[i].dropout), StatusCode::kInvalidArgument,
                        "fennec.dropout metadata: item %zu is '%.*s', not a probability", i + 1,
                        static_cast<int>(size < 32 ? size : 32), text);
          return Status::ok();
        }));
  }
  return Status::ok();
}

Status write_metadata(const ModelSpec& spec, HeaderWriter& out) {
  // Each of these writes layer i's item into buf (size bytes) and returns its length.
  const auto activation = [&](std::size_t i, char* buf, std::size_t size) {
    const ActivationSpec& a = spec.layers[i].activation;
    return a.kind == Activation::kLeakyRelu
               ? std::snprintf(buf, size, "%s:%.9g", activation_name(a.kind), static_cast<double>(a.alpha))
               : std::snprintf(buf, size, "%s", activation_name(a.kind));
  };
  const auto batchnorm = [&](std::size_t i, char* buf, std::size_t size) {
    const BatchNormSpec& bn = spec.layers[i].batchnorm;
    if (!bn.enabled) return std::snprintf(buf, size, "-");
    char eps[32], momentum[32];
    format_float(eps, sizeof(eps), bn.eps);
    format_float(momentum, sizeof(momentum), bn.momentum);
    return std::snprintf(buf, size, "%s:%s", eps, momentum);
  };
  const auto dropout = [&](std::size_t i, char* buf, std::size_t size) {
    return format_float(buf, size, spec.layers[i].dropout);
  };
  FENNEC_RETURN_IF_ERROR(out.begin_metadata("format"));
  FENNEC_RETURN_IF_ERROR(out.text("pt"));
  FENNEC_RETURN_IF_ERROR(out.end_metadata());
  FENNEC_RETURN_IF_ERROR(write_layer_items(spec, "fennec.activations", out, activation));
  FENNEC_RETURN_IF_ERROR(out.begin_metadata("fennec.loss"));
  FENNEC_RETURN_IF_ERROR(out.text(loss_name(spec.loss)));
  FENNEC_RETURN_IF_ERROR(out.end_metadata());
  // Layer options only for a network that has them: plain exports stay as they were.
  if (spec.has_batchnorm()) FENNEC_RETURN_IF_ERROR(write_layer_items(spec, "fennec.batchnorm", out, batchnorm));
  if (spec.has_dropout()) FENNEC_RETURN_IF_ERROR(write_layer_items(spec, "fennec.dropout", out, dropout));
  return Status::ok();
}

}  // namespace fennec::io_detail
