// SPDX-License-Identifier: Apache-2.0
// The int8 model file (fennec/quant_io.hpp): writer and validating loader.
#include <cstring>

#include "fennec/quant_io.hpp"
#include "io/io_util.hpp"
#include "kernels/qpack.hpp"

namespace fennec {
namespace {

using io_detail::load_f32;
using io_detail::load_u32;
using io_detail::load_u64;
using io_detail::store_f32;
using io_detail::store_u32;
using io_detail::store_u64;

std::uint64_t padded4(std::uint64_t n) { return (n + 3) / 4 * 4; }

// Payload bytes of layer (units, fan_in); false on overflow.
bool layer_payload(std::uint64_t units, std::uint64_t fan_in, std::uint64_t* bytes) {
  std::uint64_t w = 0, c = 0;
  if (!io_detail::mul_u64(units, fan_in, &w) || !io_detail::mul_u64(units, 4 * kQuantChannelArrays, &c)) return false;
  return io_detail::add_u64(padded4(w), c, bytes);
}

// The per-channel arrays in file order.
struct Channels {
  void* p[kQuantChannelArrays];
};
Channels channels_of(const QuantizedLayer& q) {
  return {{q.weight_scale, q.bias, q.wsum, q.mult, q.shift, q.mult_neg, q.shift_neg, q.deq, q.deq_neg}};
}

// Writes through `out` and continues the CRC.
struct CrcWriter {
  ByteWriter& out;
  std::uint32_t crc = 0;
  Status put(const void* data, std::size_t size) {
    crc = crc32(data, size, crc);
    return out.write(out.context, data, size);
  }
};

}  // namespace

std::uint64_t quantized_model_file_size(const QuantizedModel& model) {
  std::uint64_t n = kQuantFileFixedHeader + kQuantFileLayerRecord * model.num_layers() + 4;
  for (std::size_t l = 0; l < model.num_layers(); ++l) {
    std::uint64_t b = 0;
    layer_payload(model.layer(l).units, model.layer(l).fan_in, &b);
    n += b;
  }
  return n;
}

Status save_quantized_model(const QuantizedModel& model, ByteWriter& out) {
  FENNEC_ENSURE(model.is_bound(), StatusCode::kFailedPrecondition, "save int8 model: model is not bound");
  const ModelSpec& spec = model.spec();
  const std::size_t layers = spec.num_layers;
  CrcWriter w{out};
  unsigned char h[kQuantFileFixedHeader];
  std::memcpy(h, kQuantFileMagic, 8);
  store_u32(h + 8, kQuantFileVersion);
  store_u32(h + 12, static_cast<std::uint32_t>(kQuantFileFixedHeader + kQuantFileLayerRecord * layers));
  store_u32(h + 16, spec.input);
  store_u32(h + 20, static_cast<std::uint32_t>(layers));
  store_u32(h + 24, static_cast<std::uint32_t>(spec.loss));
  store_u32(h + 28, 0);
  store_u64(h + 32, quantized_model_file_size(model) - kQuantFileFixedHeader - kQuantFileLayerRecord * layers - 4);
  FENNEC_RETURN_IF_ERROR(w.put(h, sizeof(h)));
  for (std::size_t l = 0; l < layers; ++l) {
    const QuantizedLayer& q = model.layer(l);
    unsigned char r[kQuantFileLayerRecord];
    store_u32(r, q.units);
    store_u32(r + 4, static_cast<std::uint32_t>(q.activation.kind));
    store_f32(r + 8, q.activation.alpha);
    store_f32(r + 12, q.in_scale);
    store_u32(r + 16, static_cast<std::uint32_t>(q.in_zero_point));
    store_f32(r + 20, q.out_scale);
    store_u32(r + 24, static_cast<std::uint32_t>(q.out_zero_point));
    store_u32(r + 28, static_cast<std::uint32_t>(q.out_lo));
    FENNEC_RETURN_IF_ERROR(w.put(r, sizeof(r)));
  }
  for (std::size_t l = 0; l < layers; ++l) {
    const QuantizedLayer& q = model.layer(l);
    const std::size_t wbytes = std::size_t{q.units} * q.fan_in;
    if (q.weights) {
      FENNEC_RETURN_IF_ERROR(w.put(q.weights, wbytes));
    } else {
      // The file is row-major: the packed layout is read back row by row, in chunks so nothing
      // large sits on the stack.
      std::int8_t row[256];
      for (std::size_t j = 0; j < q.units; ++j)
        for (std::size_t k0 = 0; k0 < q.fan_in; k0 += sizeof(row)) {
          const std::size_t n = q.fan_in - k0 < sizeof(row) ? q.fan_in - k0 : sizeof(row);
          for (std::size_t k = 0; k < n; ++k) row[k] = q.weight(j, k0 + k);
          FENNEC_RETURN_IF_ERROR(w.put(row, n));
        }
    }
    const unsigned char zeros[4] = {};
    FENNEC_RETURN_IF_ERROR(w.put(zeros, padded4(wbytes) - wbytes));
    const Channels c = channels_of(q);
    for (void* p : c.p) {
      // 4-byte values little-endian, in chunks so nothing large sits on the stack.
      const unsigned char* src = static_cast<const unsigned char*>(p);
      unsigned char buf[256];
      for (std::size_t j = 0; j < q.units;) {
        const std::size_t n = q.units - j < 64 ? q.units - j : 64;
        for (std::size_t i = 0; i < n; ++i) {
          std::uint32_t u;
          std::memcpy(&u, src + 4 * (j + i), 4);
          store_u32(buf + 4 * i, u);
        }
        FENNEC_RETURN_IF_ERROR(w.put(buf, 4 * n));
        j += n;
      }
    }
  }
  unsigned char crc[4];
  store_u32(crc, w.crc);
  return out.write(out.context, crc, 4);
}

bool is_quantized_file(const void* data, std::size_t size) {
  return data && size >= 8 && std::memcmp(data, kQuantFileMagic, 8) == 0;
}

Result<ModelSpec> read_quantized_spec(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  FENNEC_ENSURE(data && size >= kQuantFileFixedHeader + 4, StatusCode::kCorruptData,
                "int8 model file: %zu bytes, shorter than its fixed header", size);
  FENNEC_ENSURE(is_quantized_file(data, size), StatusCode::kCorruptData, "int8 model file: bad magic");
  const std::uint32_t version = load_u32(p + 8);
  FENNEC_ENSURE(version != 0, StatusCode::kCorruptData, "int8 model file: version 0");
  FENNEC_ENSURE(version <= kQuantFileVersion, StatusCode::kUnsupported,
                "int8 model file: version %u is newer than this library reads (%u)", static_cast<unsigned>(version),
                static_cast<unsigned>(kQuantFileVersion));
  const std::uint32_t layers = load_u32(p + 20);
  FENNEC_ENSURE(layers >= 1 && layers <= kMaxLayers, StatusCode::kCorruptData, "int8 model file: %u layers",
                static_cast<unsigned>(layers));
  const std::size_t header = kQuantFileFixedHeader + kQuantFileLayerRecord * layers;
  FENNEC_ENSURE(load_u32(p + 12) == header, StatusCode::kCorruptData, "int8 model file: header size %u, expected %zu",
                static_cast<unsigned>(load_u32(p + 12)), header);
  FENNEC_ENSURE(size >= header + 4, StatusCode::kCorruptData, "int8 model file: %zu bytes, header needs %zu", size, header + 4);
  FENNEC_ENSURE(load_u32(p + 28) == 0, StatusCode::kCorruptData, "int8 model file: unknown flags");
  const std::uint32_t loss = load_u32(p + 24);
  FENNEC_ENSURE(loss < 3, StatusCode::kCorruptData, "int8 model file: loss %u out of range", static_cast<unsigned>(loss));
  ModelSpec spec(load_u32(p + 16));
  spec.with_loss(static_cast<Loss>(loss));
  FENNEC_ENSURE(spec.input >= 1 && spec.input <= kMaxWidth, StatusCode::kCorruptData, "int8 model file: input width %u",
                static_cast<unsigned>(spec.input));
  std::uint64_t payload = 0;
  for (std::uint32_t l = 0; l < layers; ++l) {
    const unsigned char* r = p + kQuantFileFixedHeader + kQuantFileLayerRecord * l;
    const std::uint32_t units = load_u32(r), kind = load_u32(r + 4);
    const float alpha = load_f32(r + 8);
    FENNEC_ENSURE(units >= 1 && units <= kMaxWidth, StatusCode::kCorruptData, "int8 model file: layer %u has %u units",
                  static_cast<unsigned>(l), static_cast<unsigned>(units));
    const Activation a = static_cast<Activation>(kind);
    FENNEC_ENSURE(a == Activation::kIdentity || a == Activation::kRelu || a == Activation::kLeakyRelu, StatusCode::kCorruptData,
                  "int8 model file: layer %u activation %u has no int8 form", static_cast<unsigned>(l), static_cast<unsigned>(kind));
    FENNEC_ENSURE(io_detail::finite_f32(alpha) && alpha >= 0.f && alpha < 1.f, StatusCode::kCorruptData,
                  "int8 model file: layer %u alpha out of [0, 1)", static_cast<unsigned>(l));
    spec.dense(units, ActivationSpec{a, alpha});
    std::uint64_t b = 0;
    FENNEC_ENSURE(layer_payload(units, spec.fan_in(l), &b) && io_detail::add_u64(payload, b, &payload), StatusCode::kCorruptData,
                  "int8 model file: layer %u size overflows", static_cast<unsigned>(l));
  }
  FENNEC_ENSURE(load_u64(p + 32) == payload, StatusCode::kCorruptData, "int8 model file: payload %llu bytes, the layers need %llu",
                static_cast<unsigned long long>(load_u64(p + 32)), static_cast<unsigned long long>(payload));
  const Status v = validate(spec);
  FENNEC_ENSURE(v.is_ok(), StatusCode::kCorruptData, "int8 model file: %s", v.message());
  return spec;
}

Result<QuantizedModel> load_quantized_model(const void* data, std::size_t size, std::size_t max_batch, Isa isa, Arena& arena) {
  Result<ModelSpec> sr = read_quantized_spec(data, size);
  if (!sr) return sr.status();
  const ModelSpec& spec = sr.value();
  const auto* p = static_cast<const unsigned char*>(data);
  const std::size_t header = kQuantFileFixedHeader + kQuantFileLayerRecord * spec.num_layers;
  const std::uint64_t payload = load_u64(p + 32);
  FENNEC_ENSURE(payload <= size && size - 4 - header == payload, StatusCode::kCorruptData,
                "int8 model file: %zu bytes, header and payload need %llu", size,
                static_cast<unsigned long long>(header + payload + 4));
  FENNEC_ENSURE(crc32(p, size - 4) == load_u32(p + size - 4), StatusCode::kCorruptData, "int8 model file: CRC mismatch");
  const Arena::Mark start = arena.mark();
  Result<QuantizedModel> qr = QuantizedModel::allocate(spec, max_batch, isa, arena);
  if (!qr) return qr.status();
  QuantizedModel& m = qr.value();
  const unsigned char* at = p + header;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    QuantizedLayer& q = m.mutable_layer(l);
    const unsigned char* r = p + kQuantFileFixedHeader + kQuantFileLayerRecord * l;
    q.in_scale = load_f32(r + 12);
    q.in_zero_point = static_cast<std::int32_t>(load_u32(r + 16));
    q.out_scale = load_f32(r + 20);
    q.out_zero_point = static_cast<std::int32_t>(load_u32(r + 24));
    q.out_lo = static_cast<std::int32_t>(load_u32(r + 28));
    const std::size_t wbytes = std::size_t{q.units} * q.fan_in;
    const auto* file_weights = reinterpret_cast<const std::int8_t*>(at);
    if (q.weights) {
      std::memcpy(q.weights, file_weights, wbytes);
    } else {
      kernels::qpack_s8(file_weights, q.fan_in, q.units, q.fan_in, q.packed);
    }
    for (std::size_t i = wbytes; i < padded4(wbytes); ++i)
      if (at[i] != 0) {
        arena.rewind(start);
        return Status::error(StatusCode::kCorruptData, "int8 model file: layer %zu: non-zero padding", l);
      }
    at += padded4(wbytes);
    const Channels c = channels_of(q);
    for (void* dst : c.p) {
      auto* d = static_cast<unsigned char*>(dst);
      for (std::size_t j = 0; j < q.units; ++j) {
        const std::uint32_t u = load_u32(at + 4 * j);
        std::memcpy(d + 4 * j, &u, 4);
      }
      at += 4 * std::size_t{q.units};
    }
  }
  const Status checked = m.check_parameters();
  if (!checked.is_ok()) {
    arena.rewind(start);
    return Status::error(StatusCode::kCorruptData, "int8 model file: %s", checked.message());
  }
  return qr;
}

}  // namespace fennec
