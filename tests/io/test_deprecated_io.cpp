// SPDX-License-Identifier: Apache-2.0
// The io names and argument orders replaced in 0.2.0 still work for one release: each deprecated
// forwarder gives what the function it forwards to gives. Compiled with the deprecation warning
// silenced here only, so nothing else in the tree can call an old name without -Werror noticing.
#include <random>
#include <string>

#include "fennec/io.hpp"
#include "fennec/quant_io.hpp"
#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#endif
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

TEST_CASE("io: the model file names before 0.2.0 still work", "[io][model-file][deprecated]") {
  OwnedModel src(small_spec(), inference());
  const Bytes b = save(src.model);

  ChunkSource source{&b, 5};
  ByteReader r = source.reader();
  Result<ModelFileInfo> info = read_model_header(r);
  REQUIRE(info.is_ok());
  CHECK(info->file_bytes == b.size());
  OwnedModel streamed(small_spec(), inference(), 5);
  REQUIRE(read_model_parameters(r, info.value(), streamed.model).is_ok());
  CHECK(param_bytes(streamed.model) == param_bytes(src.model));

  OwnedModel in_memory(small_spec(), inference(), 6);
  REQUIRE(load_model_parameters(b.data(), b.size(), in_memory.model).is_ok());
  CHECK(param_bytes(in_memory.model) == param_bytes(src.model));
}

TEST_CASE("io: the int8 model file size under its name before 0.2.0", "[io][quant-file][deprecated]") {
  const ModelSpec spec = small_spec();
  OwnedModel src(spec, inference());
  std::mt19937 g(4);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> x(16 * spec.input);
  for (float& v : x) v = d(g);
  QuantOptions o;
  o.max_batch = 4;
  fennec_test::OwnedArena arena(quantized_plan(spec, 4).total() + calibration_scratch_bytes(spec, o) + 64);
  Result<QuantizedModel> q = quantize(src.model, ConstMatrixView(x.data(), 16, spec.input), o, arena.arena);
  REQUIRE(q.is_ok());
  CHECK(quantized_file_bytes(q.value()) == quantized_model_file_size(q.value()));
}

#if !defined(FENNEC_INFERENCE_ONLY)
TEST_CASE("io: the checkpoint names and argument orders before 0.2.0 still work",
          "[io][checkpoint][deprecated]") {
  OwnedModel m(small_spec(), training(OptimizerKind::kAdam, 2));
  TrainerConfig c;
  c.optimizer = OptimizerConfig::adam(0.01f);
  Trainer trainer = Trainer::create(m.model, c).value();
  Rng rng(5);
  const unsigned char user[3] = {'p', 'o', 's'};

  VectorSink old_order, new_order;
  ByteWriter wo = old_order.writer(), wn = new_order.writer();
  REQUIRE(save_checkpoint(trainer, rng, user, sizeof user, wo).is_ok());
  REQUIRE(save_checkpoint(trainer, rng, wn, user, sizeof user).is_ok());
  CHECK(old_order.bytes == new_order.bytes);
  CHECK(checkpoint_size(trainer, sizeof user) == new_order.bytes.size());

  ChunkSource source{&old_order.bytes, 7};
  ByteReader r = source.reader();
  Result<CheckpointInfo> info = validate_checkpoint(r);
  REQUIRE(info.is_ok());
  CHECK(info->user_bytes == sizeof user);

  const std::string path = temp_dir() + "/deprecated.ckpt";
  REQUIRE(save_checkpoint_file(path.c_str(), trainer, rng, user, sizeof user).is_ok());
  CHECK(read_file(path) == new_order.bytes);
}
#endif

#pragma GCC diagnostic pop
