// SPDX-License-Identifier: Apache-2.0
// Execute in place: load_model_in_place over a model file in memory (flash on a board, a
// read-only mapping on Linux), alone and with frozen layers; every bad input refused with a
// typed status and the arena as it was.
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#include "fennec/trainer.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using io_test::Bytes;
using io_test::OwnedModel;

namespace {

// `bytes` copied to an address with the given offset from a 64-byte boundary.
struct Placed {
  std::vector<unsigned char> storage;
  unsigned char* data;
  Placed(const Bytes& bytes, std::size_t offset) : storage(bytes.size() + 128) {
    auto p = reinterpret_cast<std::uintptr_t>(storage.data());
    p = (p + 63) / 64 * 64 + offset;
    data = reinterpret_cast<unsigned char*>(p);
    std::memcpy(data, bytes.data(), bytes.size());
  }
};

std::vector<float> input(const ModelSpec& s, std::size_t rows) {
  Rng rng(17);
  std::vector<float> x(rows * s.input);
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

Bytes logits(Model& m, const std::vector<float>& x, std::size_t rows) {
  Result<ConstMatrixView> out = m.forward(ConstMatrixView(x.data(), rows, m.spec().input));
  REQUIRE(out.is_ok());
  return fennec_test::bytes_of(ConstVectorView(out->data, rows * m.spec().output()));
}

}  // namespace

TEST_CASE("in place: inference reads the file's parameters, the arena holds activations only", "[io][in_place]") {
  OwnedModel src(io_test::small_spec(), io_test::inference(4));
  const Bytes file = io_test::save(src.model);
  const Placed placed(file, 0);
  const ModelOptions o = ModelOptions::inference(4).with_external_parameters();
  const MemoryPlan p = plan(io_test::small_spec(), o);
  CHECK(p.parameters == 0);
  CHECK(p.total() == p.activations + p.scratch);
  CHECK(p.external_parameters == io_test::small_spec().num_parameters() * sizeof(float));
  Result<std::size_t> need = model_arena_bytes(placed.data, file.size(), o);
  REQUIRE(need.is_ok());
  CHECK(need.value() == p.total() + kArenaAlignment - 1);

  fennec_test::OwnedArena a(p.total());
  Result<Model> m = load_model_in_place(placed.data, file.size(), o, a.arena);
  REQUIRE(m.is_ok());
  CHECK(a.arena.used() == p.total());
  // The parameters are the file's bytes, not a copy.
  CHECK(reinterpret_cast<const unsigned char*>(m->const_weights(0).data) ==
        placed.data + kModelFileFixedHeader + kModelFileLayerRecord * 3);
  const std::vector<float> x = input(io_test::small_spec(), 4);
  CHECK(logits(m.value(), x, 4) == logits(src.model, x, 4));
  // save_model of the in-place model writes the same file again.
  CHECK(io_test::save(m.value()) == file);
  // Nothing can be loaded into it, and nothing was written to the file.
  CHECK(restore_model_parameters(file.data(), file.size(), m.value()).code() == StatusCode::kFailedPrecondition);
  CHECK(std::memcmp(placed.data, file.data(), file.size()) == 0);
}

TEST_CASE("in place: bad inputs are refused with a typed status, the arena untouched", "[io][in_place]") {
  OwnedModel src(io_test::small_spec(), io_test::inference(4));
  const Bytes file = io_test::save(src.model);
  const ModelOptions o = ModelOptions::inference(4).with_external_parameters();
  fennec_test::OwnedArena a(1 << 16);
  // Misaligned by 1, 2 and 3 bytes: a float read there would fault on Cortex-M.
  for (std::size_t off : {1u, 2u, 3u}) {
    const Placed bad(file, off);
    CHECK(load_model_in_place(bad.data, file.size(), o, a.arena).status().code() == StatusCode::kInvalidArgument);
  }
  const Placed ok(file, 4);  // 4-byte alignment is enough
  {
    Result<Model> m = load_model_in_place(ok.data, file.size(), o, a.arena);
    CHECK(m.is_ok());
    a.arena.reset();
  }
  Placed copy(file, 0);
  // Wrong size: one byte short, one byte long.
  CHECK(load_model_in_place(copy.data, file.size() - 1, o, a.arena).status().code() == StatusCode::kCorruptData);
  CHECK(load_model_in_place(copy.data, file.size() + 1, o, a.arena).status().code() == StatusCode::kCorruptData);
  // Bad CRC (a weight byte flipped), bad spec (a layer width changed in the header).
  copy.data[file.size() / 2] ^= 0x40;
  CHECK(load_model_in_place(copy.data, file.size(), o, a.arena).status().code() == StatusCode::kCorruptData);
  copy.data[file.size() / 2] ^= 0x40;
  copy.data[kModelFileFixedHeader] ^= 0x01;
  CHECK(load_model_in_place(copy.data, file.size(), o, a.arena).status().code() == StatusCode::kCorruptData);
  copy.data[kModelFileFixedHeader] ^= 0x01;
  // Options that do not ask for external parameters; an arena one byte short.
  CHECK(load_model_in_place(copy.data, file.size(), ModelOptions::inference(4), a.arena).status().code() ==
        StatusCode::kInvalidArgument);
  fennec_test::OwnedArena small(plan(io_test::small_spec(), o).total() - 1);
  CHECK(load_model_in_place(copy.data, file.size(), o, small.arena).status().code() == StatusCode::kOutOfMemory);
  CHECK(small.arena.used() == 0);
  // The copying loaders refuse options asking for external parameters.
  CHECK(load_model(copy.data, file.size(), o, a.arena).status().code() == StatusCode::kInvalidArgument);
  // A NaN weight, with the CRC recomputed: refused when asked to check.
  {
    Bytes nan_file = file;
    const float nan = NAN;
    std::memcpy(nan_file.data() + kModelFileFixedHeader + kModelFileLayerRecord * 3, &nan, 4);
    const std::uint32_t crc = crc32(nan_file.data(), nan_file.size() - 4);
    for (int i = 0; i < 4; ++i) nan_file[nan_file.size() - 4 + i] = static_cast<unsigned char>(crc >> (8 * i));
    const Placed placed(nan_file, 0);
    LoadOptions checked;
    checked.check_finite = true;
    CHECK(load_model_in_place(placed.data, nan_file.size(), o, a.arena, checked).status().code() ==
          StatusCode::kNonFinite);
  }
  CHECK(a.arena.used() == 0);
  CHECK(std::memcmp(copy.data, file.data(), file.size()) == 0);
}

TEST_CASE("in place: fine-tuning with the frozen layers in the file, the last layer in the arena", "[io][in_place][frozen]") {
  const ModelSpec spec = io_test::small_spec();
  OwnedModel src(spec, io_test::inference(4));
  const Bytes file = io_test::save(src.model);
  const Placed placed(file, 0);
  const ModelOptions o = ModelOptions::training(4, OptimizerConfig::adam(1e-2)).with_frozen_layers(2).with_external_parameters();
  fennec_test::OwnedArena a(plan(spec, o).total());
  Result<Model> m = load_model_in_place(placed.data, file.size(), o, a.arena);
  REQUIRE(m.is_ok());
  CHECK(a.arena.used() == plan(spec, o).total());
  CHECK(m->is_external(0));
  CHECK(m->is_external(1));
  CHECK(!m->is_external(2));
  CHECK(m->parameters().size == parameter_block_floats(spec, 2));
  // The same network as loading a copy with the same frozen layers: trained alike, bit for bit.
  const ModelOptions copied = ModelOptions::training(4, OptimizerConfig::adam(1e-2)).with_frozen_layers(2);
  fennec_test::OwnedArena b(plan(spec, copied).total() + kArenaAlignment);
  Result<Model> c = load_model(file.data(), file.size(), copied, b.arena);
  REQUIRE(c.is_ok());
  Result<Trainer> t1 = Trainer::create(m.value()), t2 = Trainer::create(c.value());
  REQUIRE(t1.is_ok());
  REQUIRE(t2.is_ok());
  Rng rng(99);
  for (int s = 0; s < 10; ++s) {
    std::vector<float> x(4 * spec.input);
    for (float& v : x) v = static_cast<float>(rng.normal());
    std::int32_t y[4] = {0, 1, 2, static_cast<std::int32_t>(s % 3)};
    Result<StepStats> r1 = t1->step(ConstMatrixView(x.data(), 4, spec.input), Targets::classes(y));
    Result<StepStats> r2 = t2->step(ConstMatrixView(x.data(), 4, spec.input), Targets::classes(y));
    REQUIRE(r1.is_ok());
    REQUIRE(r2.is_ok());
    CHECK(r1->loss == r2->loss);
  }
  CHECK(io_test::save(m.value()) == io_test::save(c.value()));
  CHECK(io_test::save(m.value()) != file);  // the last layer trained
  CHECK(std::memcmp(placed.data, file.data(), file.size()) == 0);  // the file did not change

  // Checkpoints hold optimizer state for every layer: a frozen model is refused, clearly.
  io_test::VectorSink sink;
  ByteWriter w = sink.writer();
  CHECK(save_checkpoint(t1.value(), rng, w).code() == StatusCode::kUnsupported);
  CHECK(save_checkpoint(t2.value(), rng, w).code() == StatusCode::kUnsupported);
  CHECK(sink.bytes.empty());
}

TEST_CASE("in place: a read-only mapping of a model file (MappedFile)", "[io][in_place]") {
  OwnedModel src(io_test::small_spec(), io_test::inference(2));
  char path[] = "/tmp/fennec_in_place_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  REQUIRE(save_model_file(src.model, path).is_ok());
  {
    MappedFile map;
    REQUIRE(map.open(path).is_ok());
    const ModelOptions o = ModelOptions::inference(2).with_external_parameters();
    fennec_test::OwnedArena a(plan(io_test::small_spec(), o).total());
    Result<Model> m = load_model_in_place(map.data(), map.size(), o, a.arena);
    REQUIRE(m.is_ok());
    const std::vector<float> x = input(io_test::small_spec(), 2);
    CHECK(logits(m.value(), x, 2) == logits(src.model, x, 2));
    MappedFile missing;
    CHECK(missing.open("/nonexistent/fennec.model").code() == StatusCode::kIoError);
  }
  std::remove(path);
}

TEST_CASE("frozen layers: restoring a checkpoint into a frozen model is refused, nothing written", "[io][frozen]") {
  const ModelSpec spec = io_test::small_spec();
  OwnedModel full(spec, io_test::training(OptimizerKind::kAdam));
  Result<Trainer> t = Trainer::create(full.model, TrainerConfig{OptimizerConfig::adam(), ClipConfig{}});
  REQUIRE(t.is_ok());
  Rng rng(1);
  io_test::VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(t.value(), rng, w).is_ok());

  OwnedModel frozen(spec, io_test::training(OptimizerKind::kAdam).with_frozen_layers(1), 7);
  Result<Trainer> tf = Trainer::create(frozen.model, TrainerConfig{OptimizerConfig::adam(), ClipConfig{}});
  REQUIRE(tf.is_ok());
  const Bytes params = io_test::param_bytes(frozen.model);
  Rng other(2);
  const Rng::State before = other.state();
  CHECK(restore_checkpoint(sink.bytes.data(), sink.bytes.size(), tf.value(), other, nullptr, 0).code() ==
        StatusCode::kUnsupported);
  CHECK(io_test::param_bytes(frozen.model) == params);
  CHECK(tf->step_count() == 0);
  CHECK(std::memcmp(other.state().s, before.s, sizeof before.s) == 0);
}
