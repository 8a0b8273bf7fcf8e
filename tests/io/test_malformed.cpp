// SPDX-License-Identifier: Apache-2.0
// The malformed-input corpus: one generated case per class of bad input a loader can meet
// ("Bad inputs a weights-file loader must survive", numbered 1-26 below), for each loader,
// plus truncation at every byte and byte flips of small valid files. Each case expects a
// specific status; none may crash (run this binary under ASan/UBSan: the asan preset does).
#include <string>

#include "fennec/io.hpp"
#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"

#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/checkpoint.hpp"
#endif

using namespace fennec;
using namespace io_test;

namespace {

// ---- Fennec model file ----

Bytes valid_model_file() {
  OwnedModel m(small_spec(), inference());
  return save(m.model);
}

StatusCode load_code(const Bytes& b, const LoadOptions& lo = {}, std::size_t arena_bytes = 1 << 16) {
  fennec_test::OwnedArena arena(arena_bytes);
  Result<Model> m = load_model(b.data(), b.size(), inference(), arena.arena, lo);
  if (!m.is_ok()) CHECK(arena.arena.used() == 0);
  // The streaming reader must agree with the in-memory one.
  ChunkSource src{&b, 13};
  ByteReader r = src.reader();
  fennec_test::OwnedArena arena2(arena_bytes);
  Result<Model> s = load_model(r, inference(), arena2.arena, lo);
  CHECK(s.status().code() == m.status().code());
  return m.status().code();
}

// Offsets in the model file.
constexpr std::size_t kVersion = 8, kHeaderBytes = 12, kInput = 16, kLayers = 20, kLoss = 24,
                      kFlags = 28, kParamCount = 32, kLayer0 = 40;
// Within a layer record.
constexpr std::size_t kUnits = 0, kAct = 4, kAlpha = 8, kInit = 12, kInitA = 16;

Bytes edited(std::size_t off, std::uint32_t v, bool crc = true) {
  Bytes b = valid_model_file();
  put_u32(b, off, v);
  if (crc) fix_crc(b);
  return b;
}

void put_f32(Bytes& b, std::size_t off, float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  put_u32(b, off, u);
}

}  // namespace

TEST_CASE("malformed model file: each bad-input class returns its status", "[io][malformed][model-file]") {
  const Bytes good = valid_model_file();
  REQUIRE(load_code(good) == StatusCode::kOk);
  const StatusCode kCorrupt = StatusCode::kCorruptData;

  SECTION("1 empty or shorter than the fixed header") {
    for (std::size_t n = 0; n < 40; ++n) CHECK(load_code(Bytes(good.begin(), good.begin() + n)) == kCorrupt);
  }
  SECTION("2 wrong magic") {
    Bytes b = good;
    b[0] = 'G';
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("3 version 0, future") {
    CHECK(load_code(edited(kVersion, 0)) == kCorrupt);
    CHECK(load_code(edited(kVersion, kModelFileLayersVersion + 1)) == StatusCode::kUnsupported);
    CHECK(load_code(edited(kVersion, 0xFFFFFFFFu)) == StatusCode::kUnsupported);
  }
  SECTION("4 header length field huge or wrong") {
    CHECK(load_code(edited(kHeaderBytes, 0xFFFFFFFFu)) == kCorrupt);
    CHECK(load_code(edited(kHeaderBytes, 39)) == kCorrupt);
    CHECK(load_code(edited(kHeaderBytes, 40 + 24 * 3 + 4)) == kCorrupt);
  }
  SECTION("5 layer count -1, 0, huge, above kMaxLayers") {
    for (std::uint32_t n : {0xFFFFFFFFu, 0u, 33u, 1000000u, 2u, 4u}) {
      Bytes b = edited(kLayers, n);
      put_u32(b, kHeaderBytes, 40 + 24 * (n > 32 ? 0 : n));  // a consistent header length too
      fix_crc(b);
      CHECK(load_code(b) == kCorrupt);
    }
  }
  SECTION("6 no strings in this format: names cannot be over-long") {
    // Every field has a fixed size: the file is exactly the 40-byte header, 24 bytes per layer,
    // 4 per parameter and the CRC, so there is no length-prefixed field to overrun.
    CHECK(good.size() == 40 + 24 * small_spec().num_layers + 4 * small_spec().num_parameters() + 4);
  }
  SECTION("7 enum fields out of range or negative") {
    CHECK(load_code(edited(kLayer0 + kAct, 5)) == kCorrupt);
    CHECK(load_code(edited(kLayer0 + kAct, 0xFFFFFFFFu)) == kCorrupt);
    CHECK(load_code(edited(kLayer0 + kInit, 10)) == kCorrupt);
    CHECK(load_code(edited(kLayer0 + kInit, 0x80000000u)) == kCorrupt);
    CHECK(load_code(edited(kLoss, 3)) == kCorrupt);
    CHECK(load_code(edited(kLoss, 0xFFFFFFFFu)) == kCorrupt);
    CHECK(load_code(edited(kFlags, 1)) == kCorrupt);
  }
  SECTION("7b activation/initialiser parameters invalid or non-finite") {
    Bytes b = good;
    put_f32(b, kLayer0 + 24 + kAlpha, 1.5f);  // leaky alpha outside [0, 1)
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
    b = good;
    put_u32(b, kLayer0 + kAlpha, 0x7FC00000u);  // NaN alpha
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
    b = good;
    put_u32(b, kLayer0 + 48 + kInitA + 4, 0xFF800000u);  // -inf sigma of the normal init
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
  }
  // 8 duplicate names: none in this format (layers are positional).
  // 9 rank: fixed (each layer is one matrix and one vector, shaped by the spec).
  SECTION("10 zero or 'negative' widths") {
    CHECK(load_code(edited(kLayer0 + kUnits, 0)) == kCorrupt);
    CHECK(load_code(edited(kLayer0 + kUnits, 0xFFFFFFFFu)) == kCorrupt);
    CHECK(load_code(edited(kInput, 0)) == kCorrupt);
    CHECK(load_code(edited(kInput, 0x80000000u)) == kCorrupt);
  }
  SECTION("11/12/13 element, byte and total size overflow") {
    // Stored parameter count that overflows when multiplied by 4 / added to the header.
    for (std::uint64_t n : {std::uint64_t{~0ull}, std::uint64_t{~0ull / 4}, std::uint64_t{~0ull / 4 - 20}, std::uint64_t{1} << 62}) {
      Bytes b = good;
      put_u64(b, kParamCount, n);
      fix_crc(b);
      CHECK(load_code(b) == kCorrupt);
    }
    // Widths at the limit: the counts are representable, the file is not that long.
    Bytes b = good;
    put_u32(b, kInput, 1u << 20);
    put_u32(b, kLayer0 + kUnits, 1u << 20);
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("14 alignment: none stored (parameters are copied into aligned arena blocks)") {
    // So a file at an odd address loads, to the same parameters.
    Bytes shifted(good.size() + 1);
    std::memcpy(shifted.data() + 1, good.data(), good.size());
    fennec_test::OwnedArena a(1 << 16), b(1 << 16);
    Result<Model> odd = load_model(shifted.data() + 1, good.size(), inference(), a.arena);
    Result<Model> even = load_model(good.data(), good.size(), inference(), b.arena);
    REQUIRE(odd.is_ok());
    REQUIRE(even.is_ok());
    CHECK(param_bytes(odd.value()) == param_bytes(even.value()));
  }
  // 15/20 offsets and indices: none stored (the payload is positional).
  SECTION("16 declared count differs from the layers") {
    Bytes b = good;
    put_u64(b, kParamCount, small_spec().num_parameters() + 1);
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
    put_u64(b, kParamCount, small_spec().num_parameters() - 1);
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("17 truncated data") {
    Bytes b(good.begin(), good.end() - 8);
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("18 trailing bytes") {
    Bytes b = good;
    b.push_back(0);
    CHECK(load_code(b) == kCorrupt);
    b = good;
    b.insert(b.end(), {'P', 'K', 3, 4});
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("19 type confusion: the payload is f32 by definition; a width change breaks the count") {
    CHECK(load_code(edited(kLayer0 + kUnits, 14)) == kCorrupt);
  }
  SECTION("21 cross-layer mismatch: fan-in is implied, so a width edit breaks the parameter count") {
    CHECK(load_code(edited(kLayer0 + 24 + kUnits, 5)) == kCorrupt);
    // Softmax over one output is an invalid network even with a consistent count.
    ModelSpec one = ModelSpec(5).dense(1, ActivationSpec::identity()).with_loss(Loss::kMse);
    OwnedModel m(one, inference());
    Bytes b = save(m.model);
    put_u32(b, kLoss, static_cast<std::uint32_t>(Loss::kSoftmaxCrossEntropy));
    fix_crc(b);
    CHECK(load_code(b) == kCorrupt);
  }
  SECTION("22 valid but huge: refused by the arena check before planning") {
    // A consistent header for 1 layer of 2^20 x 2^20 (4 TiB of parameters) and no payload:
    // the streaming loader must stop at the arena check, not at the truncation.
    Bytes b(good.begin(), good.begin() + 40 + 24);
    put_u32(b, kHeaderBytes, 64);
    put_u32(b, kInput, 1u << 20);
    put_u32(b, kLayers, 1);
    put_u32(b, kLoss, static_cast<std::uint32_t>(Loss::kMse));
    put_u64(b, kParamCount, (1ull << 40) + (1ull << 20));
    put_u32(b, kLayer0 + kUnits, 1u << 20);
    put_u32(b, kLayer0 + kAct, 0);
    ChunkSource src{&b, 64};
    ByteReader r = src.reader();
    fennec_test::OwnedArena arena(1 << 16);
    CHECK(load_model(r, inference(), arena.arena).status().code() == StatusCode::kOutOfMemory);
    CHECK(arena.arena.used() == 0);
  }
  SECTION("23 misaligned data: loads from every offset of a buffer") {
    for (std::size_t shift = 0; shift < 8; ++shift) {
      Bytes buf(shift, 0);
      buf.insert(buf.end(), good.begin(), good.end());
      fennec_test::OwnedArena arena(1 << 16);
      Result<Model> m = load_model(buf.data() + shift, good.size(), inference(), arena.arena);
      CHECK(m.is_ok());
    }
  }
  SECTION("24 NaN/Inf weights: error only when the caller asks") {
    for (std::uint32_t bits : {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F800001u}) {
      Bytes b = good;
      put_u32(b, 40 + 72 + 4 * 10, bits);
      fix_crc(b);
      LoadOptions check;
      check.check_finite = true;
      CHECK(load_code(b) == StatusCode::kOk);
      CHECK(load_code(b, check) == StatusCode::kNonFinite);
    }
  }
  // 25 paths: the format holds none.
  SECTION("26 endianness: little-endian by definition (a byte-swapped version reads as unsupported)") {
    CHECK(load_code(edited(kVersion, 0x01000000u)) == StatusCode::kUnsupported);
  }
  SECTION("bad checksum") {
    Bytes b = good;
    b[b.size() - 1] ^= 0x80;
    CHECK(load_code(b) == kCorrupt);
  }
}

TEST_CASE("malformed model file: truncation at every byte and every single-byte flip fail", "[io][malformed][model-file]") {
  const Bytes good = valid_model_file();
  for (std::size_t n = 0; n < good.size(); ++n) {
    const Bytes b(good.begin(), good.begin() + n);
    INFO("truncated to " << n);
    REQUIRE(load_code(b) == StatusCode::kCorruptData);
  }
  // CRC-32 detects every error burst up to 32 bits, so no single-byte change can pass.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xFF}) {
      Bytes b = good;
      b[i] ^= x;
      INFO("byte " << i << " ^ " << int(x));
      const StatusCode c = load_code(b);
      REQUIRE(c != StatusCode::kOk);
      REQUIRE((c == StatusCode::kCorruptData || c == StatusCode::kUnsupported ||
               c == StatusCode::kOutOfMemory));
    }
  }
}

// ---- safetensors ----
namespace {

struct St {
  std::string json;
  Bytes data;
  // Whole file: u64 header length, json, data.
  Bytes bytes() const {
    Bytes b(8);
    put_u64(b, 0, json.size());
    // Element-wise: GCC 12 -O3 (aarch64) reports a false -Warray-bounds on a char-range insert.
    for (char c : json) b.push_back(static_cast<unsigned char>(c));
    b.insert(b.end(), data.begin(), data.end());
    return b;
  }
};

// A 2-layer Sequential (3 -> 2 -> 2), F32.
St valid_st() {
  St s;
  s.json =
      "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
      "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
      "\"2.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[32,48]},"
      "\"2.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]}}";
  for (int i = 0; i < 14; ++i) {
    const float f = 0.25f * static_cast<float>(i) - 1.f;
    unsigned char b[4];
    std::memcpy(b, &f, 4);
    s.data.insert(s.data.end(), b, b + 4);
  }
  return s;
}

const ActivationSpec kActs[2] = {ActivationSpec::relu(), ActivationSpec::identity()};

StatusCode st_code(const Bytes& b, bool check_finite = false) {
  SafetensorsImport imp;
  imp.activations = kActs;
  imp.num_activations = 2;
  imp.check_finite = check_finite;
  fennec_test::OwnedArena arena(1 << 16);
  Result<Model> m = load_safetensors(b.data(), b.size(), imp, inference(), arena.arena);
  if (!m.is_ok()) CHECK(arena.arena.used() == 0);
  return m.status().code();
}
StatusCode st_code(const St& s, bool check_finite = false) { return st_code(s.bytes(), check_finite); }
StatusCode st_validate(const St& s) {
  const Bytes b = s.bytes();
  return read_safetensors_info(b.data(), b.size()).status().code();
}

St with_json(const std::string& json, std::size_t data_bytes = 56) {
  St s = valid_st();
  s.json = json;
  s.data.resize(data_bytes);
  return s;
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  const std::size_t p = s.find(from);
  REQUIRE(p != std::string::npos);
  s.replace(p, from.size(), to);
}

St edited_st(const std::string& from, const std::string& to) {
  St s = valid_st();
  replace(s.json, from, to);
  return s;
}

// Linear(3, 2) -> BatchNorm1d(2) -> ReLU -> Linear(2, 2), every float 0.5 (the counter's bytes
// too: a positive I64).
St valid_bn_st() {
  St s;
  s.json =
      "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
      "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
      "\"1.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]},"
      "\"1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[40,48]},"
      "\"1.running_mean\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]},"
      "\"1.running_var\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[56,64]},"
      "\"1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[64,72]},"
      "\"3.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[72,88]},"
      "\"3.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[88,96]}}";
  for (int i = 0; i < 24; ++i) {
    const float f = 0.5f;
    unsigned char b[4];
    std::memcpy(b, &f, 4);
    s.data.insert(s.data.end(), b, b + 4);
  }
  return s;
}

St edited_bn_st(const std::string& from, const std::string& to) {
  St s = valid_bn_st();
  replace(s.json, from, to);
  return s;
}

}  // namespace

TEST_CASE("malformed safetensors: each bad-input class returns its status", "[io][malformed][safetensors]") {
  const StatusCode kCorrupt = StatusCode::kCorruptData;
  REQUIRE(st_code(valid_st()) == StatusCode::kOk);
  REQUIRE(st_validate(valid_st()) == StatusCode::kOk);

  SECTION("1 empty, shorter than the length field") {
    const Bytes good = valid_st().bytes();
    for (std::size_t n = 0; n < 8; ++n) CHECK(st_code(Bytes(good.begin(), good.begin() + n)) == kCorrupt);
  }
  SECTION("2 not a header: does not start with '{'") {
    St s = valid_st();
    s.json[0] = '[';
    CHECK(st_code(s) == kCorrupt);
    s = valid_st();
    s.json = " " + s.json.substr(0, s.json.size() - 1) + "}";
    CHECK(st_code(s) == kCorrupt);
  }
  // 3 versions: the format has none.
  SECTION("4 header length huge or past EOF") {
    for (std::uint64_t n : {std::uint64_t{100000001}, std::uint64_t{~0ull}, std::uint64_t{~0ull - 7}, std::uint64_t{1} << 63,
                            std::uint64_t{100000000}}) {
      Bytes b = valid_st().bytes();
      put_u64(b, 0, n);
      CHECK(st_code(b) == kCorrupt);
    }
    Bytes b = valid_st().bytes();
    put_u64(b, 0, b.size() - 7);  // one byte past the end
    CHECK(st_code(b) == kCorrupt);
    put_u64(b, 0, 0);
    CHECK(st_code(b) == kCorrupt);
  }
  SECTION("5 tensor count above the fixed table") {
    std::string j = "{";
    for (int i = 0; i < 65; ++i)
      j += (i ? "," : "") + std::string("\"") + std::to_string(i) +
           ".bias\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
    j += "}";
    CHECK(st_code(with_json(j, 0)) == StatusCode::kUnsupported);
  }
  SECTION("6 invalid UTF-8, invalid JSON, bad strings and escapes") {
    St s = edited_st("0.bias", std::string("0.b\xC3\x28s"));
    CHECK(st_code(s) == kCorrupt);
    s = edited_st("0.bias", std::string("0.b\xED\xA0\x80s"));  // UTF-8 encoded surrogate
    CHECK(st_code(s) == kCorrupt);
    s = edited_st("0.bias", std::string("0.b\xC0\xAFs"));  // overlong
    CHECK(st_code(s) == kCorrupt);
    CHECK(st_code(edited_st("0.bias", "0.b\\qs")) == kCorrupt);
    CHECK(st_code(edited_st("0.bias", "0.b\\ud800s")) == kCorrupt);  // lone surrogate
    CHECK(st_code(edited_st("0.bias", "0.b\\udc00s")) == kCorrupt);
    CHECK(st_code(edited_st("0.bias", "0.b\\u12")) == kCorrupt);
    CHECK(st_code(edited_st("0.bias", std::string("0.b\x01s"))) == kCorrupt);  // raw control char
    CHECK(st_code(edited_st("\"data_offsets\":[0,24]}", "\"data_offsets\":[0,24]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2,3,]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2 3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2.0,3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2e0,3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[02,3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "\"2,3\"")) == kCorrupt);
    CHECK(st_code(edited_st("[0,24]", "[0,24,24]")) == kCorrupt);
    CHECK(st_code(edited_st("[0,24]", "[0]")) == kCorrupt);
    St t = valid_st();
    t.json += "x";
    CHECK(st_code(t) == kCorrupt);
    t = valid_st();
    t.json += "    ";  // safetensors' own padding is whitespace: fine
    CHECK(st_code(t) == StatusCode::kOk);
    // Over-long but valid names are only an import problem.
    CHECK(st_code(edited_st("0.bias", "0." + std::string(5000, 'b'))) == StatusCode::kUnsupported);
    // An escaped but otherwise valid name decodes and loads.
    CHECK(st_code(edited_st("0.bias", "0.b\\u0069as")) == StatusCode::kOk);
  }
  SECTION("6b metadata: strings only, no duplicates, nesting bounded") {
    St s = valid_st();
    s.json.insert(1, "\"__metadata__\":{\"format\":\"pt\"},");
    CHECK(st_code(s) == StatusCode::kOk);
    s = valid_st();
    s.json.insert(1, "\"__metadata__\":{\"format\":1},");
    CHECK(st_code(s) == kCorrupt);
    s = valid_st();
    s.json.insert(1, "\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"},");
    CHECK(st_code(s) == kCorrupt);
    s = valid_st();
    s.json.insert(1, "\"__metadata__\":{},\"__metadata__\":{},");
    CHECK(st_code(s) == kCorrupt);
    // Unknown tensor-info fields are skipped (as serde does) but must be valid and shallow.
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]",
                            "\"x\":{\"y\":[1,-2.5e3,true,null,\"z\"]},\"dtype\":\"F32\",\"shape\":[2,3]")) ==
          StatusCode::kOk);
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]",
                            std::string("\"x\":") + std::string(64, '[') + std::string(64, ']') +
                                ",\"dtype\":\"F32\",\"shape\":[2,3]")) == StatusCode::kOk);
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]",
                            std::string("\"x\":") + std::string(65, '[') + std::string(65, ']') +
                                ",\"dtype\":\"F32\",\"shape\":[2,3]")) == kCorrupt);
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]",
                            std::string("\"x\":") + std::string(100000, '[') +
                                ",\"dtype\":\"F32\",\"shape\":[2,3]")) == kCorrupt);
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]", "\"x\":[1},\"dtype\":\"F32\",\"shape\":[2,3]")) ==
          kCorrupt);
  }
  SECTION("7 dtype unknown, or known but not importable") {
    CHECK(st_code(edited_st("\"F32\",\"shape\":[2,3]", "\"F33\",\"shape\":[2,3]")) == kCorrupt);
    CHECK(st_code(edited_st("\"F32\",\"shape\":[2,3]", "\"f32\",\"shape\":[2,3]")) == kCorrupt);
    St s = edited_st("\"F32\",\"shape\":[2,3]", "\"I32\",\"shape\":[2,3]");
    CHECK(st_validate(s) == StatusCode::kOk);
    CHECK(st_code(s) == StatusCode::kUnsupported);
  }
  SECTION("8 duplicate tensor names (also through escapes) and duplicate fields") {
    CHECK(st_code(edited_st("\"2.bias\"", "\"0.bias\"")) == kCorrupt);
    CHECK(st_code(edited_st("\"2.bias\"", "\"0.bi\\u0061s\"")) == kCorrupt);
    CHECK(st_code(edited_st("\"dtype\":\"F32\",\"shape\":[2,3]", "\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2,3]")) == kCorrupt);
    CHECK(st_code(edited_st("\"shape\":[2,3]", "\"shape\":[2,3],\"shape\":[2,3]")) == kCorrupt);
  }
  SECTION("9 rank above the maximum, and wrong rank for a Linear") {
    CHECK(st_code(edited_st("[2,3]", "[2,3,1,1,1,1,1,1,1]")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_st("[2,3]", "[2,3,1]")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_st("[2,3]", "[6]")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_st("\"shape\":[2],\"data_offsets\":[24,32]", "\"shape\":[2,1],\"data_offsets\":[24,32]")) ==
          StatusCode::kShapeMismatch);
  }
  SECTION("10 zero or negative dims (zero validates as in safetensors, cannot be a layer)") {
    St s = with_json(
        "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,0],\"data_offsets\":[0,0]},"
        "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        8);
    CHECK(st_validate(s) == StatusCode::kOk);
    CHECK(st_code(s) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_st("[2,3]", "[-2,3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2,-3]")) == kCorrupt);
  }
  SECTION("11 element-count overflow") {
    CHECK(st_code(edited_st("[2,3]", "[2,18446744073709551614]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[4294967296,4294967296]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[18446744073709551616]")) == kCorrupt);  // > u64 literal
  }
  SECTION("12 byte-size overflow") {
    CHECK(st_code(edited_st("[2,3]", "[2,9223372036854775807]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[1,4611686018427387904]")) == kCorrupt);
  }
  SECTION("13 sum of sizes overflows / beyond the file") {
    St s = with_json(
        "{\"0.weight\":{\"dtype\":\"U8\",\"shape\":[9223372036854775744],\"data_offsets\":[0,9223372036854775744]},"
        "\"0.bias\":{\"dtype\":\"U8\",\"shape\":[9223372036854775744],\"data_offsets\":[9223372036854775744,18446744073709551488]}}",
        0);
    CHECK(st_validate(s) == kCorrupt);
  }
  SECTION("14 alignment: the format has no alignment field; data is copied byte-wise") {
    // So a file at an odd address loads, to the same parameters.
    const Bytes good = valid_st().bytes();
    Bytes shifted(good.size() + 1);
    std::memcpy(shifted.data() + 1, good.data(), good.size());
    SafetensorsImport imp;
    imp.activations = kActs;
    imp.num_activations = 2;
    fennec_test::OwnedArena a(1 << 16), b(1 << 16);
    Result<Model> odd = load_safetensors(shifted.data() + 1, good.size(), imp, inference(), a.arena);
    Result<Model> even = load_safetensors(good.data(), good.size(), imp, inference(), b.arena);
    REQUIRE(odd.is_ok());
    REQUIRE(even.is_ok());
    CHECK(param_bytes(odd.value()) == param_bytes(even.value()));
  }
  SECTION("15 offsets: overlap, hole, reversed, out of buffer, ten tensors at [0,16]") {
    CHECK(st_code(edited_st("[24,32]", "[16,24]")) == kCorrupt);   // overlap
    CHECK(st_code(edited_st("[32,48]", "[33,49]")) == kCorrupt);   // hole
    CHECK(st_code(edited_st("[48,56]", "[56,48]")) == kCorrupt);   // reversed
    CHECK(st_code(edited_st("[48,56]", "[48,64]")) == kCorrupt);   // out of buffer
    std::string j = "{";
    for (int i = 0; i < 10; ++i)
      j += (i ? "," : "") + std::string("\"") + std::to_string(i) +
           ".bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";
    j += "}";
    CHECK(st_code(with_json(j, 16)) == kCorrupt);
    // Unsorted but contiguous is valid.
    St s = valid_st();
    CHECK(st_code(s) == StatusCode::kOk);
  }
  SECTION("16 declared bytes differ from shape x dtype") {
    CHECK(st_code(edited_st("[2,3]", "[3,3]")) == kCorrupt);
    CHECK(st_code(edited_st("[2,3]", "[2,2]")) == kCorrupt);
  }
  SECTION("17 truncated data") {
    St s = valid_st();
    s.data.resize(54);
    CHECK(st_code(s) == kCorrupt);
  }
  SECTION("18 trailing bytes / polyglot") {
    St s = valid_st();
    s.data.push_back(0);
    CHECK(st_code(s) == kCorrupt);
  }
  SECTION("19 type confusion: F16 declared over F32-sized data") {
    CHECK(st_code(edited_st("\"F32\",\"shape\":[2,3]", "\"F16\",\"shape\":[2,3]")) == kCorrupt);
    // Consistent F16 declaration of the same bytes (12 halves) is read as halves, not floats.
    St s = edited_st("\"F32\",\"shape\":[2,3]", "\"F16\",\"shape\":[4,3]");
    CHECK(st_validate(s) == StatusCode::kOk);
    CHECK(st_code(s) == StatusCode::kShapeMismatch);  // 4 rows, bias of 2
  }
  SECTION("20 indices: '<i>.weight' names only; anything else is refused") {
    // A running_mean makes module 2 a BatchNorm1d, whose buffers are rank 1 (and it has no running_var).
    CHECK(st_code(edited_st("\"2.weight\"", "\"2.running_mean\"")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_st("\"2.weight\"", "\"2.running_std\"")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_st("\"2.weight\"", "\"02.weight\"")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_st("\"2.weight\"", "\"-2.weight\"")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_st("\"2.weight\"", "\"9999999999.weight\"")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_st("\"2.weight\"", "\"3.weight\"")) == StatusCode::kShapeMismatch);  // bias alone
  }
  SECTION("20b BatchNorm1d modules: edited shapes, dtypes, names and counters are refused") {
    REQUIRE(st_code(valid_bn_st()) == StatusCode::kOk);
    // Same bytes read as 4 halves: a running_var of the wrong length.
    CHECK(st_code(edited_bn_st("\"F32\",\"shape\":[2],\"data_offsets\":[56,64]",
                               "\"F16\",\"shape\":[4],\"data_offsets\":[56,64]")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_bn_st("\"I64\",\"shape\":[]", "\"I32\",\"shape\":[2]")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_bn_st("\"I64\",\"shape\":[]", "\"I64\",\"shape\":[1,1]")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_bn_st("\"I64\",\"shape\":[]", "\"F64\",\"shape\":[]")) == kCorrupt);  // 0.5-ish bits: not whole
    CHECK(st_code(edited_bn_st("\"1.running_mean\"", "\"1.running_meann\"")) == StatusCode::kUnsupported);
    CHECK(st_code(edited_bn_st("\"1.running_var\"", "\"5.running_var\"")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_bn_st("\"1.running_mean\"", "\"0.running_mean\"")) == StatusCode::kShapeMismatch);
    CHECK(st_code(edited_bn_st("\"0.weight\"", "\"2.weight\"")) == StatusCode::kShapeMismatch);  // 0.bias alone
    St negative = valid_bn_st();
    negative.data[71] = 0x80;  // the counter's sign bit
    CHECK(st_code(negative) == kCorrupt);
    St bad_var = valid_bn_st();
    bad_var.data[59] = 0xBF;  // running_var[0] = -0.5
    CHECK(st_code(bad_var) == kCorrupt);
    // Every truncation and byte flip is refused or loads, never crashes (the arena check is in st_code).
    const Bytes good = valid_bn_st().bytes();
    for (std::size_t i = 0; i < good.size(); ++i) {
      (void)st_code(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(i)));
      Bytes flipped = good;
      flipped[i] ^= 0x5A;
      (void)st_code(flipped);
    }
  }
  SECTION("21 cross-tensor shape mismatch") {
    // Layer 2 takes 3 inputs, layer 0 gives 2.
    CHECK(st_code(edited_st("\"shape\":[2,2],\"data_offsets\":[32,48]",
                            "\"shape\":[1,4],\"data_offsets\":[32,48]")) == StatusCode::kShapeMismatch);
    // Bias length differs from rows.
    CHECK(st_code(edited_st("\"shape\":[2],\"data_offsets\":[48,56]",
                            "\"shape\":[1],\"data_offsets\":[48,52]")) == kCorrupt);  // and a hole
    St s = with_json(
        "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}}",
        36);
    CHECK(st_code(s) == StatusCode::kShapeMismatch);
    // Wrong number of activations for the layers found.
    SafetensorsImport imp;
    imp.activations = kActs;
    imp.num_activations = 1;
    const Bytes b = valid_st().bytes();
    CHECK(read_safetensors_spec(b.data(), b.size(), imp).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("22 valid but huge: refused by the arena check") {
    // 2^20 x 2^20 F32 declared consistently; the data is absent so validation stops first; the
    // arena check is exercised with a real but too-large model instead.
    const Bytes b = valid_st().bytes();
    SafetensorsImport imp;
    imp.activations = kActs;
    imp.num_activations = 2;
    fennec_test::OwnedArena arena(32);
    CHECK(load_safetensors(b.data(), b.size(), imp, inference(), arena.arena).status().code() ==
          StatusCode::kOutOfMemory);
    CHECK(arena.arena.used() == 0);
  }
  SECTION("23 misaligned data: header lengths that are not multiples of 8 load fine") {
    for (int pad = 0; pad < 8; ++pad) {
      St s = valid_st();
      s.json += std::string(pad, ' ');
      CHECK(st_code(s) == StatusCode::kOk);
    }
  }
  SECTION("24 NaN/Inf weights: error only when asked") {
    St s = valid_st();
    put_u32(s.data, 8, 0x7F800000u);
    CHECK(st_code(s) == StatusCode::kOk);
    CHECK(st_code(s, true) == StatusCode::kNonFinite);
  }
  // 25 paths: none in the format.
  SECTION("26 endianness: little-endian length (a big-endian length is far too large)") {
    Bytes b = valid_st().bytes();
    const std::uint64_t n = valid_st().json.size();
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * (7 - i)));
    CHECK(st_code(b) == kCorrupt);
  }
}

TEST_CASE("malformed safetensors: truncation at every byte fails, byte flips never crash", "[io][malformed][safetensors]") {
  const Bytes good = valid_st().bytes();
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("truncated to " << n);
    REQUIRE(st_code(Bytes(good.begin(), good.begin() + n)) != StatusCode::kOk);
  }
  // safetensors has no checksum: flips inside the data section load (GIGO); flips in the header
  // either fail or describe another valid file. None may crash or read out of bounds.
  std::size_t ok = 0, failed = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (unsigned char x : {0x01, 0x20, 0x80, 0xFF}) {
      Bytes b = good;
      b[i] ^= x;
      (st_code(b) == StatusCode::kOk ? ok : failed)++;
    }
  }
  CHECK(failed > 0);
  CHECK(ok >= 4 * 56);  // at least every data-byte flip
}

// Names and metadata are compared with their lengths: a NUL inside a JSON string is a byte of the
// name, as PyTorch and the reference tools see it, never the end of a C string.
TEST_CASE("malformed safetensors: a NUL inside a tensor name is refused, not cut", "[io][malformed][safetensors]") {
  // Both "0.weight" and "0.weight\u0000": two keys to every other reader; they must not collapse
  // into one layer slot (the later one silently winning).
  St both = valid_st();
  both.json.insert(both.json.size() - 1,
                   ",\"0.weight\\u0000\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[56,80]}");
  both.data.resize(80, 0);
  CHECK(st_code(both) == StatusCode::kCorruptData);
  CHECK(st_validate(both) == StatusCode::kCorruptData);
  // Alone, the NUL name is not '0.weight' either.
  St alone = edited_st("\"0.weight\"", "\"0.weight\\u0000\"");
  CHECK(st_code(alone) == StatusCode::kCorruptData);
  St tail = edited_st("\"2.bias\"", "\"2.bias\\u0000x\"");
  CHECK(st_code(tail) == StatusCode::kCorruptData);
}

TEST_CASE("malformed safetensors: fennec.activations is decoded with its length and parsed as the CLI does", "[io][malformed][safetensors]") {
  auto with_meta = [](const std::string& acts) {
    St s = valid_st();
    s.json.insert(1, "\"__metadata__\":{\"fennec.activations\":\"" + acts + "\"},");
    return s;
  };
  auto load = [](const St& s, ModelSpec* spec) {
    const Bytes b = s.bytes();
    SafetensorsImport imp;  // activations from the metadata
    Result<ModelSpec> r = read_safetensors_spec(b.data(), b.size(), imp);
    if (r.is_ok() && spec) *spec = r.value();
    return r.status();
  };
  ModelSpec spec;
  REQUIRE(load(with_meta("relu,identity"), &spec).is_ok());
  CHECK(spec.layers[0].activation.kind == Activation::kRelu);
  REQUIRE(load(with_meta("leaky_relu:0.25,identity"), &spec).is_ok());
  CHECK(spec.layers[0].activation.alpha == 0.25f);
  // A NUL ends nothing: "identity\0,tanh" is not "identity", and there are three entries.
  CHECK(load(with_meta("relu,identity\\u0000,tanh"), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK(load(with_meta("relu\\u0000,identity"), nullptr).code() == StatusCode::kInvalidArgument);
  // Only leaky_relu takes a parameter (the CLI refuses "relu:0.5" the same way).
  const Status p = load(with_meta("relu:0.5,identity"), nullptr);
  CHECK(p.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(p.message()).find("only leaky_relu takes a parameter") != std::string::npos);
  CHECK(load(with_meta("leaky_relu:,identity"), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK(load(with_meta("leaky_relu:1,identity"), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK(load(with_meta("leaky_relu: 0.5,identity"), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK(load(with_meta("leaky_relu:nan,identity"), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK(load(with_meta("relu,,identity"), nullptr).code() != StatusCode::kOk);
  CHECK(load(with_meta("relu,identity,"), nullptr).code() != StatusCode::kOk);
}

// ---- checkpoints ----
#if !defined(FENNEC_INFERENCE_ONLY)
namespace {

struct CkptFixture {
  OwnedModel m{small_spec(), training(OptimizerKind::kAdam, 2)};
  Trainer trainer;
  Rng rng{3};
  CkptFixture() {
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(0.01f);
    Result<Trainer> t = Trainer::create(m.model, c);
    REQUIRE(t.is_ok());
    trainer = t.value();
    float x[10] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f, 1.0f};
    std::int32_t y[2] = {1, 2};
    REQUIRE(trainer.step(ConstMatrixView(x, 2, 5), Targets::classes(y)).is_ok());
  }
  Bytes save(const void* user = "pos", std::size_t n = 3) {
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(trainer, rng, w, user, n).is_ok());
    return sink.bytes;
  }
};

StatusCode ckpt_code(const Bytes& b) {
  const StatusCode mem = read_checkpoint_info(b.data(), b.size()).status().code();
  ChunkSource src{&b, 11};
  ByteReader r = src.reader();
  CHECK(read_checkpoint_info(r).status().code() == mem);
  return mem;
}

}  // namespace

TEST_CASE("malformed checkpoint: header fields, truncation at every byte, every byte flip", "[io][malformed][checkpoint]") {
  CkptFixture f;
  const Bytes good = f.save();
  REQUIRE(ckpt_code(good) == StatusCode::kOk);
  const StatusCode kCorrupt = StatusCode::kCorruptData;
  auto edit = [&](std::size_t off, std::uint32_t v) {
    Bytes b = good;
    put_u32(b, off, v);
    fix_crc(b);
    return ckpt_code(b);
  };
  CHECK(edit(0, 0x47474747u) == kCorrupt);                            // magic
  CHECK(edit(8, 0) == kCorrupt);                                      // version 0
  CHECK(edit(8, 7) == StatusCode::kUnsupported);                      // future version
  CHECK(edit(12, 0xFFFFFFFFu) == kCorrupt);                           // header length
  CHECK(edit(20, 0xFFFFFFFFu) == kCorrupt);                           // layer count
  CHECK(edit(40, 7) == kCorrupt);                                     // optimizer kind
  CHECK(edit(40, static_cast<std::uint32_t>(OptimizerKind::kSgd)) == kCorrupt);  // slots disagree
  CHECK(edit(44, 1) == kCorrupt);                                     // slots disagree
  CHECK(edit(48, 0) == kCorrupt);                                     // lr = 0
  CHECK(edit(48, 0x7FC00000u) == kCorrupt);                           // lr = NaN
  CHECK(edit(84, 1) == kCorrupt);                                     // reserved
  CHECK(edit(120, 2) == kCorrupt);                                    // has_spare
  {
    Bytes b = good;
    for (int i = 0; i < 16; ++i) b[96 + i] = 0;  // all-zero xoshiro state
    fix_crc(b);
    CHECK(ckpt_code(b) == kCorrupt);
  }
  {
    Bytes b = good;
    put_u64(b, 128, ~0ull);  // user blob length
    fix_crc(b);
    CHECK(ckpt_code(b) == kCorrupt);
    put_u64(b, 128, 4);  // consistent-looking but one byte more than there is
    fix_crc(b);
    CHECK(ckpt_code(b) == kCorrupt);
  }
  {
    Bytes b = good;
    b.push_back(0);
    CHECK(ckpt_code(b) == kCorrupt);
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("truncated to " << n);
    REQUIRE(ckpt_code(Bytes(good.begin(), good.begin() + n)) == kCorrupt);
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes b = good;
    b[i] ^= 0xA5;
    INFO("byte " << i);
    const StatusCode c = ckpt_code(b);
    REQUIRE((c == kCorrupt || c == StatusCode::kUnsupported));
  }
}
#endif
