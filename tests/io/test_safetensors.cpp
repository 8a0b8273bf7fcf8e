// SPDX-License-Identifier: Apache-2.0
// safetensors: the numpy-written fixture (F32, F16, BF16) against the outputs the script computed,
// export -> import bit-exact (from memory and files), the metadata-driven round trip, and the
// half/bfloat16 conversions over all 65536 bit patterns.
#include <cmath>
#include <fstream>
#include <sstream>

#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/io_file.hpp"
#endif
#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {

const std::string kFixtures = FENNEC_IO_FIXTURES;

struct Expected {
  std::vector<float> x;       // 3 x 4
  std::vector<double> y;      // 3 x 3
};

Expected expected_for(const std::string& tag) {
  std::ifstream in(kFixtures + "/tiny_mlp_expected.txt");
  REQUIRE(in.good());
  Expected e;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string t;
    s >> t;
    if (t != tag) continue;
    for (int i = 0; i < 4; ++i) {
      double v;
      s >> v;
      e.x.push_back(static_cast<float>(v));
    }
    for (int i = 0; i < 3; ++i) {
      double v;
      s >> v;
      e.y.push_back(v);
    }
  }
  REQUIRE(e.x.size() == 12);
  return e;
}

const ActivationSpec kTinyActs[3] = {ActivationSpec::relu(), ActivationSpec::tanh(),
                                     ActivationSpec::identity()};

SafetensorsImport tiny_import() {
  SafetensorsImport imp;
  imp.activations = kTinyActs;
  imp.num_activations = 3;
  imp.loss = Loss::kMse;
  return imp;
}

}  // namespace

TEST_CASE("safetensors: the fixture loads in F32, F16 and BF16 and computes the script's outputs", "[io][safetensors]") {
  for (const char* tag : {"f32", "f16", "bf16"}) {
    INFO(tag);
    const Bytes file = read_file(kFixtures + "/tiny_mlp_" + tag + ".safetensors");
    Result<SafetensorsInfo> n = read_safetensors_info(file.data(), file.size());
    REQUIRE(n.is_ok());
    CHECK(n.value().tensors == 6);
    CHECK(8 + n.value().header_bytes + n.value().data_bytes == file.size());
    Result<ModelSpec> spec = read_safetensors_spec(file.data(), file.size(), tiny_import());
    REQUIRE(spec.is_ok());
    CHECK(spec->input == 4);
    REQUIRE(spec->num_layers == 3);
    CHECK(spec->layers[0].units == 8);
    CHECK(spec->layers[1].units == 6);
    CHECK(spec->layers[2].units == 3);
    fennec_test::OwnedArena arena(plan(spec.value(), inference(3)).total());
    Result<Model> m = load_safetensors(file.data(), file.size(), tiny_import(), inference(3), arena.arena);
    REQUIRE(m.is_ok());
    const Expected e = expected_for(tag);
    Result<ConstMatrixView> y = m->forward(ConstMatrixView(e.x.data(), 3, 4));
    REQUIRE(y.is_ok());
    // The script's float64 pass over the same stored weights: f32 rounding over <= 8-term dot
    // products and tanh keeps the difference near 1e-7 relative; atol 1e-6, rtol 1e-5.
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        CHECK(fennec_test::close(y.value()(i, j), e.y[i * 3 + j], 1e-6, 1e-5));
  }
}

TEST_CASE("safetensors: F16 and BF16 loads equal the F32 weights rounded", "[io][safetensors]") {
  const Bytes f32 = read_file(kFixtures + "/tiny_mlp_f32.safetensors");
  const Bytes f16 = read_file(kFixtures + "/tiny_mlp_f16.safetensors");
  fennec_test::OwnedArena a(1 << 16), b(1 << 16);
  Result<Model> m32 = load_safetensors(f32.data(), f32.size(), tiny_import(), inference(), a.arena);
  Result<Model> m16 = load_safetensors(f16.data(), f16.size(), tiny_import(), inference(), b.arena);
  REQUIRE(m32.is_ok());
  REQUIRE(m16.is_ok());
  for (std::size_t l = 0; l < 3; ++l) {
    MatrixView w32 = m32->weights(l), w16 = m16->weights(l);
    for (std::size_t r = 0; r < w32.rows; ++r)
      for (std::size_t c = 0; c < w32.cols; ++c)
        // |w| < 1: half precision has a 2^-11 relative step.
        CHECK(std::fabs(w32(r, c) - w16(r, c)) <= std::ldexp(1.0, -11));
  }
}

TEST_CASE("safetensors: export then import is bit-exact (memory and files)", "[io][safetensors]") {
  const ModelSpec spec = ModelSpec(6)
                             .dense(9, ActivationSpec::relu())
                             .dense(5, ActivationSpec::identity())
                             .dense(4, ActivationSpec::leaky_relu(0.2f))
                             .dense(2, ActivationSpec::sigmoid())
                             .with_loss(Loss::kSigmoidBce);
  OwnedModel src(spec, inference());
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_safetensors(src.model, w).is_ok());
  const Bytes& b = sink.bytes;
  CHECK(b.size() == safetensors_file_size(src.model));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t{b[i]} << (8 * i);
  CHECK(n % 8 == 0);
  const std::string header(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  // Sequential indices: relu after 0, none after 2 (identity), leaky after 3, sigmoid after 5.
  for (const char* name : {"\"0.weight\"", "\"0.bias\"", "\"2.weight\"", "\"3.weight\"", "\"5.weight\"", "\"5.bias\""})
    CHECK(header.find(name) != std::string::npos);
  CHECK(header.find("\"fennec.activations\":\"relu,identity,leaky_relu:0.200000003,sigmoid\"") != std::string::npos);

  // No activations given: the metadata supplies them and the loss.
  SafetensorsImport imp;
  Result<ModelSpec> back = read_safetensors_spec(b.data(), b.size(), imp);
  REQUIRE(back.is_ok());
  CHECK(back->loss == Loss::kSigmoidBce);
  for (std::size_t i = 0; i < spec.num_layers; ++i) {
    CHECK(back->layers[i].units == spec.layers[i].units);
    CHECK(back->layers[i].activation.kind == spec.layers[i].activation.kind);
    CHECK(back->layers[i].activation.alpha == (spec.layers[i].activation.kind == Activation::kLeakyRelu ? 0.2f : 0.f));
  }
  fennec_test::OwnedArena arena(plan(back.value(), inference()).total());
  Result<Model> m = load_safetensors(b.data(), b.size(), imp, inference(), arena.arena);
  REQUIRE(m.is_ok());
  CHECK(param_bytes(m.value()) == param_bytes(src.model));

#if !defined(FENNEC_INFERENCE_ONLY)
  const std::string path = temp_dir() + "/model.safetensors";
  REQUIRE(save_safetensors_file(src.model, path.c_str()).is_ok());
  CHECK(read_file(path) == b);
  fennec_test::OwnedArena arena2(1 << 16);
  Result<Model> mf = load_safetensors_file(path.c_str(), imp, inference(), arena2.arena);
  REQUIRE(mf.is_ok());
  CHECK(param_bytes(mf.value()) == param_bytes(src.model));
#endif

  // Fixture -> Fennec -> safetensors -> Fennec keeps every value.
  const Bytes fx = read_file(kFixtures + "/tiny_mlp_f32.safetensors");
  fennec_test::OwnedArena a3(1 << 16);
  Result<Model> t = load_safetensors(fx.data(), fx.size(), tiny_import(), inference(), a3.arena);
  REQUIRE(t.is_ok());
  VectorSink s2;
  ByteWriter w2 = s2.writer();
  REQUIRE(save_safetensors(t.value(), w2).is_ok());
  fennec_test::OwnedArena a4(1 << 16);
  Result<Model> t2 = load_safetensors(s2.bytes.data(), s2.bytes.size(), SafetensorsImport{}, inference(), a4.arena);
  REQUIRE(t2.is_ok());
  CHECK(param_bytes(t2.value()) == param_bytes(t.value()));
}

TEST_CASE("safetensors: a missing bias (nn.Linear(bias=False)) loads as zeros", "[io][safetensors]") {
  std::string json = "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
  Bytes b(8);
  put_u64(b, 0, json.size());
  for (char c : json) b.push_back(static_cast<unsigned char>(c));
  const float w[4] = {1.f, 2.f, 3.f, 4.f};
  const unsigned char* p = reinterpret_cast<const unsigned char*>(w);
  b.insert(b.end(), p, p + 16);
  const ActivationSpec acts[1] = {ActivationSpec::identity()};
  SafetensorsImport imp;
  imp.activations = acts;
  imp.num_activations = 1;
  imp.loss = Loss::kMse;
  fennec_test::OwnedArena arena(1 << 14);
  Result<Model> m = load_safetensors(b.data(), b.size(), imp, inference(), arena.arena);
  REQUIRE(m.is_ok());
  CHECK(m->bias(0)[0] == 0.f);
  CHECK(m->bias(0)[1] == 0.f);
  CHECK(m->weights(0)(1, 0) == 3.f);
}

TEST_CASE("safetensors: f16 and bf16 conversions are exact for all 65536 patterns", "[io][safetensors]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const std::uint16_t v = static_cast<std::uint16_t>(h);
    // Reference half: sign * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
    const int e = (h >> 10) & 31, mant = h & 1023;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    const float f = f16_to_f32(v);
    if (e == 31) {
      if (mant == 0) {
        REQUIRE(std::isinf(f));
        REQUIRE(std::signbit(f) == (sign < 0));
      } else {
        REQUIRE(std::isnan(f));
      }
    } else {
      const double ref = e == 0 ? sign * std::ldexp(mant / 1024.0, -14)
                                : sign * std::ldexp(1.0 + mant / 1024.0, e - 15);
      REQUIRE(static_cast<double>(f) == ref);
      REQUIRE(std::signbit(f) == (sign < 0));
    }
    const float g = bf16_to_f32(v);
    std::uint32_t bits;
    std::memcpy(&bits, &g, 4);
    if (((h >> 7) & 0xFF) == 0xFF && (h & 0x7F)) {
      REQUIRE(std::isnan(g));
    } else {
      REQUIRE(bits == h << 16);
    }
  }
}

TEST_CASE("safetensors: file size of the 784-512-256-10 export", "[io][safetensors]") {
  OwnedModel m(mnist_spec(), inference(1));
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_safetensors(m.model, w).is_ok());
  CHECK(sink.bytes.size() == safetensors_file_size(m.model));
  CHECK(sink.bytes.size() - 4 * 535818u < 1024u);  // header is small
  std::printf("sizes for 784-512-256-10: fennec %llu bytes, safetensors %zu bytes\n",
              static_cast<unsigned long long>(model_file_size(mnist_spec())), sink.bytes.size());
}
