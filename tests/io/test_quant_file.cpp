// SPDX-License-Identifier: Apache-2.0
// The int8 model file (fennec/quant_io.hpp): a round trip gives the same logits bit for bit;
// every truncation and every single-byte flip of a valid file is refused (never a crash); each
// field set out of range (with the CRC recomputed, so the field check and not the CRC refuses it)
// gets its typed error; a failed load leaves the arena as it was.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "fennec/all.hpp"
#include "io/io_util.hpp"
#include "kernels/isa_registry.hpp"
#include "kernels/kernel_table.hpp"

using namespace fennec;

namespace {

struct Fixture {
  ModelSpec spec = ModelSpec(12).dense(9, ActivationSpec::relu()).dense(7, ActivationSpec::leaky_relu(0.2f)).dense(
      3, ActivationSpec::identity());
  std::vector<unsigned char> f32_mem, q_mem;
  std::vector<float> x;
  QuantizedModel q;
  std::vector<unsigned char> file;

  Fixture() : f32_mem(plan(spec, ModelOptions::inference(4)).total() + 64) {
    Arena fa(f32_mem.data(), f32_mem.size());
    Result<Model> m = Model::bind(spec, ModelOptions::inference(4), fa);
    REQUIRE(m.is_ok());
    Rng rng(3);
    REQUIRE(m.value().init_parameters(rng).is_ok());
    std::mt19937 g(4);
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    x.resize(40 * 12);
    for (float& v : x) v = d(g);
    QuantOptions o;
    o.max_batch = 4;
    q_mem.resize(quantized_plan(spec, 4).total() + calibration_scratch_bytes(spec, o) + 64);
    Arena qa(q_mem.data(), q_mem.size());
    Result<QuantizedModel> qr = quantize(m.value(), ConstMatrixView(x.data(), 40, 12), o, qa);
    REQUIRE(qr.is_ok());
    q = std::move(qr).value();
    file.resize(quantized_model_file_size(q));
    MemoryWriter w(file.data(), file.size());
    ByteWriter bw = w.writer();
    REQUIRE(save_quantized_model(q, bw).is_ok());
    REQUIRE(w.size() == file.size());
  }
};

void refix_crc(std::vector<unsigned char>& f) {
  io_detail::store_u32(f.data() + f.size() - 4, crc32(f.data(), f.size() - 4));
}

Status load_status(const std::vector<unsigned char>& f, std::size_t size) {
  std::vector<unsigned char> mem(1 << 16);
  Arena a(mem.data(), mem.size());
  Result<QuantizedModel> r = load_quantized_model(f.data(), size, 4, Isa::kRef, a);
  if (!r.is_ok() && a.used() != 0) return Status::error(StatusCode::kFailedPrecondition, "arena not rewound");
  return r.status();
}

}  // namespace

TEST_CASE("int8 file: a model in either weight layout saves the same bytes", "[io][quant]") {
  // The file is row-major; a model bound to a table that reads the packed layout holds only that
  // (x86-64 with AVX-512 VNNI; AArch64 built with the dot-product extension), and saving reads
  // it back row by row.
  Fixture f;
  std::size_t layouts[2] = {0, 0}, packed_tables = 0;
  for (const kernels::IsaInfo& info : kernels::kIsas) {
    if (!isa_supported(info.isa)) continue;
    packed_tables += detail::kQPackPlanned && kernels::qgemm_reads_packed(info.isa) ? 1 : 0;
    std::vector<unsigned char> mem(quantized_plan(f.spec, 4).total() + 64);
    Arena a(mem.data(), mem.size());
    Result<QuantizedModel> m = load_quantized_model(f.file.data(), f.file.size(), 4, info.isa, a);
    REQUIRE(m.is_ok());
    ++layouts[m.value().layer(0).packed != nullptr ? 1 : 0];
    std::vector<unsigned char> again(quantized_model_file_size(m.value()));
    MemoryWriter w(again.data(), again.size());
    ByteWriter bw = w.writer();
    REQUIRE(save_quantized_model(m.value(), bw).is_ok());
    INFO("table " << info.id);
    CHECK(again == f.file);
  }
  CHECK(layouts[0] >= 1);  // the reference holds the row-major layout everywhere
  CHECK(layouts[1] == packed_tables);
}

TEST_CASE("int8 file: round trip gives the same logits, the plan is exact", "[io][quant]") {
  Fixture f;
  CHECK(is_quantized_file(f.file.data(), f.file.size()));
  Result<ModelSpec> spec = read_quantized_spec(f.file.data(), f.file.size());
  REQUIRE(spec.is_ok());
  const std::size_t need = quantized_plan(spec.value(), 4).total();
  std::vector<unsigned char> mem(need + 64);
  Arena a(mem.data() + (64 - reinterpret_cast<std::uintptr_t>(mem.data()) % 64) % 64, need);
  Result<QuantizedModel> loaded = load_quantized_model(f.file.data(), f.file.size(), 4, Isa::kAuto, a);
  REQUIRE(loaded.is_ok());
  CHECK(a.used() == need);
  Result<ConstMatrixView> y0 = f.q.forward(ConstMatrixView(f.x.data(), 4, 12));
  REQUIRE(y0.is_ok());
  const std::vector<float> before(y0.value().data, y0.value().data + 12);
  Result<ConstMatrixView> y1 = loaded.value().forward(ConstMatrixView(f.x.data(), 4, 12));
  REQUIRE(y1.is_ok());
  CHECK(std::memcmp(before.data(), y1.value().data, 12 * sizeof(float)) == 0);
  // One byte short of the plan: kOutOfMemory, arena untouched.
  Arena small(mem.data() + (64 - reinterpret_cast<std::uintptr_t>(mem.data()) % 64) % 64, need - 1);
  Result<QuantizedModel> r = load_quantized_model(f.file.data(), f.file.size(), 4, Isa::kAuto, small);
  CHECK(r.status().code() == StatusCode::kOutOfMemory);
  CHECK(small.used() == 0);
}

TEST_CASE("int8 file: every truncation and every byte flip is refused", "[io][quant][bad-input]") {
  Fixture f;
  for (std::size_t n = 0; n < f.file.size(); ++n) {
    INFO("truncated to " << n);
    const Status s = load_status(f.file, n);
    CHECK(s.code() == StatusCode::kCorruptData);
  }
  std::vector<unsigned char> longer = f.file;
  longer.push_back(0);
  CHECK(load_status(longer, longer.size()).code() == StatusCode::kCorruptData);
  for (std::size_t i = 0; i < f.file.size(); ++i) {
    std::vector<unsigned char> g = f.file;
    g[i] ^= static_cast<unsigned char>(1u << (i % 8));
    INFO("bit flipped in byte " << i);
    const Status s = load_status(g, g.size());
    CHECK_FALSE(s.is_ok());
    CHECK(s.code() != StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("int8 file: every field out of range gets a typed error", "[io][quant][bad-input]") {
  Fixture f;
  const std::size_t rec0 = kQuantFileFixedHeader;
  const auto with = [&](std::size_t off, std::uint32_t v) {
    std::vector<unsigned char> g = f.file;
    io_detail::store_u32(g.data() + off, v);
    refix_crc(g);
    return load_status(g, g.size()).code();
  };
  const auto with_f32 = [&](std::size_t off, float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    return with(off, u);
  };
  CHECK(with(8, 0) == StatusCode::kCorruptData);                 // version 0
  CHECK(with(8, 2) == StatusCode::kUnsupported);                 // a future version
  CHECK(with(12, 41) == StatusCode::kCorruptData);               // header size
  CHECK(with(16, 0) == StatusCode::kCorruptData);                // input width
  CHECK(with(20, 0) == StatusCode::kCorruptData);                // no layers
  CHECK(with(20, 1000) == StatusCode::kCorruptData);             // too many layers
  CHECK(with(24, 7) == StatusCode::kCorruptData);                // loss
  CHECK(with(28, 1) == StatusCode::kCorruptData);                // flags
  CHECK(with(32, 5) == StatusCode::kCorruptData);                // payload size disagrees
  CHECK(with(rec0, 10) == StatusCode::kCorruptData);             // units disagree with the payload
  CHECK(with(rec0, 0) == StatusCode::kCorruptData);              // zero units
  CHECK(with(rec0 + 4, 1) == StatusCode::kCorruptData);          // sigmoid
  CHECK(with(rec0 + 4, 99) == StatusCode::kCorruptData);         // activation out of range
  CHECK(with_f32(rec0 + 32 + 8, 1.5f) == StatusCode::kCorruptData);   // leaky alpha
  CHECK(with_f32(rec0 + 12, 0.f) == StatusCode::kCorruptData);        // zero scale
  CHECK(with_f32(rec0 + 12, -0.5f) == StatusCode::kCorruptData);      // negative scale
  CHECK(with_f32(rec0 + 12, INFINITY) == StatusCode::kCorruptData);   // non-finite scale
  CHECK(with_f32(rec0 + 12, std::nanf("")) == StatusCode::kCorruptData);
  CHECK(with(rec0 + 16, 128) == StatusCode::kCorruptData);            // zero point
  CHECK(with(rec0 + 24, static_cast<std::uint32_t>(-129)) == StatusCode::kCorruptData);
  CHECK(with(rec0 + 28, 5) == StatusCode::kCorruptData);              // ReLU clamp floor
  // Layer 0's per-channel arrays: weights 9 x 12 = 108 bytes (a multiple of 4), then 9 arrays
  // of 9 units: weight_scale, bias, wsum, mult, shift, ...
  const std::size_t payload = kQuantFileFixedHeader + 3 * kQuantFileLayerRecord;
  const std::size_t arrays = payload + 108;
  CHECK(with_f32(arrays + 4 * 2, 0.f) == StatusCode::kCorruptData);           // weight scale
  CHECK(with(arrays + 9 * 4 * 1, 0x7fffffff) == StatusCode::kCorruptData);    // bias headroom
  CHECK(with(arrays + 9 * 4 * 2 + 4, 12345) == StatusCode::kCorruptData);     // wsum disagrees
  CHECK(with(arrays + 9 * 4 * 3, 0x80000000u) == StatusCode::kCorruptData);   // negative multiplier
  CHECK(with(arrays + 9 * 4 * 4, 0) == StatusCode::kCorruptData);             // shift 0
  CHECK(with(arrays + 9 * 4 * 4, 63) == StatusCode::kCorruptData);            // shift 63
  {
    std::vector<unsigned char> g = f.file;
    g[payload + 3] = 0x80;  // weight -128
    refix_crc(g);
    CHECK(load_status(g, g.size()).code() == StatusCode::kCorruptData);
  }
  // Non-zero padding after layer 1's 7 x 9 = 63 weight bytes.
  {
    const std::size_t layer1 = arrays + 9 * 4 * 9;
    std::vector<unsigned char> g = f.file;
    g[layer1 + 63] = 1;
    refix_crc(g);
    CHECK(load_status(g, g.size()).code() == StatusCode::kCorruptData);
  }
}
