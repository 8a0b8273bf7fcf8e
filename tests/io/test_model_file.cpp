// SPDX-License-Identifier: Apache-2.0
// Fennec model file: CRC, sizes, bit-exact round trips in every read mode (memory, stream in
// small chunks, file), arena sizing, and the planned header->plan->bind->load sequence.
#include <cstdlib>
#include <unistd.h>

#include "fennec/io.hpp"
#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/io_file.hpp"
#endif
#include "io_test_util.hpp"

#if defined(FENNEC_HAVE_ZLIB)
#include <zlib.h>
#endif

using namespace fennec;
using namespace io_test;

TEST_CASE("io: crc32 is the zlib CRC-32", "[io][crc]") {
  const char* check = "123456789";
  CHECK(crc32(check, 9) == 0xCBF43926u);
  CHECK(crc32(nullptr, 0) == 0u);
  // Chaining equals one pass.
  CHECK(crc32(check + 4, 5, crc32(check, 4)) == 0xCBF43926u);
#if defined(FENNEC_HAVE_ZLIB)
  Rng rng(7);
  for (std::size_t n : {1u, 3u, 64u, 1000u, 4099u}) {
    Bytes b(n);
    for (auto& c : b) c = static_cast<unsigned char>(rng.next_u32());
    CHECK(crc32(b.data(), n) == ::crc32(0L, b.data(), static_cast<uInt>(n)));
  }
#else
  WARN("zlib not found: CRC checked against the published check value only");
#endif
}

TEST_CASE("io: model file size for 784-512-256-10", "[io][model-file]") {
  constexpr std::uint64_t kExpected = 40 + 3 * 24 + 4 * 535818ull + 4;
  static_assert(model_file_size(ModelSpec(784)
                                    .dense(512, ActivationSpec::relu())
                                    .dense(256, ActivationSpec::relu())
                                    .dense(10, ActivationSpec::identity())) == kExpected,
                "constexpr size");
  OwnedModel m(mnist_spec(), inference(1));
  const Bytes b = save(m.model);
  CHECK(b.size() == kExpected);
  CHECK(mnist_spec().num_parameters() == 535818u);
}

TEST_CASE("io: model round trip from memory is bit-exact", "[io][model-file]") {
  OwnedModel src(small_spec(), training(OptimizerKind::kAdam));
  const Bytes b = save(src.model);
  REQUIRE(b.size() == model_file_size(small_spec()));

  Result<ModelFileInfo> info = read_model_info(b.data(), b.size());
  REQUIRE(info.is_ok());
  CHECK(info->version == kModelFileVersion);
  CHECK(info->parameter_count == small_spec().num_parameters());
  CHECK(info->file_bytes == b.size());
  const ModelSpec& s = info->spec;
  REQUIRE(s.num_layers == 3);
  CHECK(s.input == 5);
  CHECK(s.layers[1].activation.kind == Activation::kLeakyRelu);
  CHECK(s.layers[1].activation.alpha == 0.125f);
  CHECK(s.layers[1].init.kind == InitKind::kGlorotUniform);
  CHECK(s.layers[2].init.b == 0.5f);
  CHECK(s.loss == Loss::kSoftmaxCrossEntropy);

  for (Mode mode : {Mode::kInference, Mode::kTraining}) {
    ModelOptions o = mode == Mode::kInference ? inference(4) : training(OptimizerKind::kAdam);
    fennec_test::OwnedArena arena(plan(s, o).total());
    Result<Model> m = load_model(b.data(), b.size(), o, arena.arena);
    REQUIRE(m.is_ok());
    CHECK(arena.arena.used() == plan(s, o).total());
    CHECK(param_bytes(m.value()) == param_bytes(src.model));
    // Same outputs, bit for bit.
    std::vector<float> x(4 * 5);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i) - 0.7f;
    Result<ConstMatrixView> ya = src.model.forward(ConstMatrixView(x.data(), 4, 5));
    REQUIRE(ya.is_ok());
    std::vector<float> a(ya->data, ya->data + 12);
    Result<ConstMatrixView> yb = m->forward(ConstMatrixView(x.data(), 4, 5));
    REQUIRE(yb.is_ok());
    CHECK(std::memcmp(a.data(), yb->data, 12 * sizeof(float)) == 0);
    // Saving again gives the same bytes.
    CHECK(save(m.value()) == b);
  }
}

TEST_CASE("io: model round trip through a stream in small chunks", "[io][model-file]") {
  OwnedModel src(small_spec(), inference());
  const Bytes b = save(src.model);
  for (std::size_t chunk : {1u, 3u, 7u, 4096u}) {
    ChunkSource source{&b, chunk};
    ByteReader r = source.reader();
    fennec_test::OwnedArena arena(1 << 16);
    Result<Model> m = load_model(r, inference(), arena.arena);
    REQUIRE(m.is_ok());
    CHECK(param_bytes(m.value()) == param_bytes(src.model));
  }
  // Two-step form: header, plan and bind by hand, then parameters.
  ChunkSource source{&b, 5};
  ByteReader r = source.reader();
  Result<ModelFileInfo> info = read_model_info(r);
  REQUIRE(info.is_ok());
  const MemoryPlan p = plan(info->spec, inference());
  fennec_test::OwnedArena arena(p.total());
  Result<Model> m = Model::bind(info->spec, inference(), arena.arena);
  REQUIRE(m.is_ok());
  REQUIRE(restore_model_parameters(r, info.value(), m.value()).is_ok());
  CHECK(param_bytes(m.value()) == param_bytes(src.model));
}

#if !defined(FENNEC_INFERENCE_ONLY)
TEST_CASE("io: model round trip through files, atomically written", "[io][model-file][file]") {
  OwnedModel src(small_spec(), inference());
  const std::string path = temp_dir() + "/small.fennec";
  REQUIRE(save_model_file(src.model, path.c_str()).is_ok());
  CHECK(access((path + ".tmp").c_str(), F_OK) != 0);  // the temporary is gone
  CHECK(read_file(path) == save(src.model));
  Result<ModelFileInfo> info = read_model_file_info(path.c_str());
  REQUIRE(info.is_ok());
  fennec_test::OwnedArena arena(plan(info->spec, inference()).total());
  Result<Model> m = load_model_file(path.c_str(), inference(), arena.arena);
  REQUIRE(m.is_ok());
  CHECK(param_bytes(m.value()) == param_bytes(src.model));

  // Overwriting keeps a complete file at every moment: the new one replaces the old.
  OwnedModel other(small_spec(), inference(), 99);
  REQUIRE(save_model_file(other.model, path.c_str()).is_ok());
  CHECK(read_file(path) == save(other.model));

  Result<Model> missing = load_model_file((temp_dir() + "/nope.fennec").c_str(), inference(), arena.arena);
  CHECK(missing.status().code() == StatusCode::kIoError);
}
#endif

TEST_CASE("io: memory writer refuses what does not fit", "[io][model-file]") {
  OwnedModel src(small_spec(), inference());
  const std::size_t n = static_cast<std::size_t>(model_file_size(small_spec()));
  std::vector<unsigned char> buf(n);
  MemoryWriter exact(buf.data(), n);
  ByteWriter w = exact.writer();
  REQUIRE(save_model(src.model, w).is_ok());
  CHECK(exact.size() == n);
  CHECK(Bytes(buf.begin(), buf.end()) == save(src.model));
  MemoryWriter small(buf.data(), n - 1);
  ByteWriter w2 = small.writer();
  CHECK(save_model(src.model, w2).code() == StatusCode::kOutOfMemory);
  CountingWriter count;
  ByteWriter w3 = count.writer();
  REQUIRE(save_model(src.model, w3).is_ok());
  CHECK(count.size() == n);
}

TEST_CASE("io: load_model uses exactly the planned arena and rewinds on failure", "[io][model-file]") {
  OwnedModel src(small_spec(), inference());
  const Bytes b = save(src.model);
  const std::size_t need = plan(small_spec(), inference()).total();
  {
    fennec_test::OwnedArena arena(need);
    CHECK(load_model(b.data(), b.size(), inference(), arena.arena).is_ok());
  }
  {
    fennec_test::OwnedArena arena(need - 1);
    Result<Model> m = load_model(b.data(), b.size(), inference(), arena.arena);
    CHECK(m.status().code() == StatusCode::kOutOfMemory);
    CHECK(arena.arena.used() == 0);
  }
  {
    // A failure after bind (bad CRC) also leaves the arena as it was.
    Bytes bad = b;
    bad[bad.size() - 10] ^= 0x40;
    fennec_test::OwnedArena arena(need);
    Result<Model> m = load_model(bad.data(), bad.size(), inference(), arena.arena);
    CHECK(m.status().code() == StatusCode::kCorruptData);
    CHECK(arena.arena.used() == 0);
    ChunkSource source{&bad, 64};
    ByteReader r = source.reader();
    Result<Model> s = load_model(r, inference(), arena.arena);
    CHECK(s.status().code() == StatusCode::kCorruptData);
    CHECK(arena.arena.used() == 0);
  }
}

TEST_CASE("io: streamed parameters are zeroed when the CRC fails at the end", "[io][model-file]") {
  OwnedModel src(small_spec(), inference());
  Bytes bad = save(src.model);
  bad[200] ^= 1;
  OwnedModel dst(small_spec(), inference(), 5);
  ChunkSource source{&bad, 16};
  ByteReader r = source.reader();
  Result<ModelFileInfo> info = read_model_info(r);
  REQUIRE(info.is_ok());
  CHECK(restore_model_parameters(r, info.value(), dst.model).code() == StatusCode::kCorruptData);
  for (std::size_t i = 0; i < dst.model.parameters().size; ++i)
    REQUIRE(dst.model.parameters()[i] == 0.f);
  // The in-memory path checks before writing: the destination keeps its values.
  OwnedModel keep(small_spec(), inference(), 5);
  const Bytes before = param_bytes(keep.model);
  CHECK(restore_model_parameters(bad.data(), bad.size(), keep.model).code() == StatusCode::kCorruptData);
  CHECK(param_bytes(keep.model) == before);
}

TEST_CASE("io: loading into a model with a different network is refused", "[io][model-file]") {
  OwnedModel src(small_spec(), inference());
  const Bytes b = save(src.model);
  OwnedModel other(ModelSpec(5).dense(7, ActivationSpec::relu()).dense(3, ActivationSpec::identity()),
                   inference());
  CHECK(restore_model_parameters(b.data(), b.size(), other.model).code() == StatusCode::kShapeMismatch);
}
