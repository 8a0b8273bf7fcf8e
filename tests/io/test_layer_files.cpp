// SPDX-License-Identifier: Apache-2.0
// Batch norm and dropout in files: model file version 2 and checkpoint version 3 round trips
// (every read mode, bit-exact, resume bit-exact with the dropout masks), the committed version-1
// model file still loading and writing back byte for byte, and each malformed field of the new
// records refused with nothing changed.
#include <cstring>
#include <string>

#include "fennec/checkpoint.hpp"
#include "fennec/io.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {

ModelSpec layers_spec() {
  return ModelSpec(5)
      .dense(7, ActivationSpec::relu())
      .batchnorm(1e-3f, 0.2f)
      .dropout(0.25f)
      .dense(6, ActivationSpec::tanh())
      .batchnorm(1e-5f, 0.1f, false)
      .dense(4, ActivationSpec::sigmoid())
      .dropout(0.5f)
      .dense(3, ActivationSpec::identity())
      .with_loss(Loss::kSoftmaxCrossEntropy);
}

constexpr std::size_t kBatch = 8;

struct Batch {
  float x[kBatch * 5];
  std::int32_t y[kBatch];
  void draw(Rng& r) {
    for (float& v : x) v = static_cast<float>(r.normal());
    for (std::int32_t& v : y) v = static_cast<std::int32_t>(r.below(3));
  }
};

// A trained BN + dropout model: gamma, beta and the running statistics all moved.
struct TrainedRun {
  OwnedModel m;
  Trainer trainer;
  Rng data{99};
  explicit TrainedRun(const ScheduleConfig& schedule = {})
      : m(layers_spec(), ModelOptions::training(kBatch, OptimizerConfig::adam(1e-2))) {
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(1e-2);
    c.schedule = schedule;
    Result<Trainer> t = Trainer::create(m.model, c);
    REQUIRE(t.is_ok());
    trainer = t.value();
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      Batch b;
      b.draw(data);
      REQUIRE(trainer.step(ConstMatrixView(b.x, kBatch, 5), Targets::classes(b.y)).is_ok());
    }
  }
};

Bytes eval_output(Model& m, const float* x) {
  REQUIRE(m.set_phase(Model::Phase::kEval).is_ok());
  Result<ConstMatrixView> y = m.forward(ConstMatrixView(x, kBatch, 5));
  REQUIRE(y.is_ok());
  Bytes b(kBatch * 3 * sizeof(float));
  std::memcpy(b.data(), y.value().data, b.size());
  return b;
}

void put_f32(Bytes& b, std::size_t off, float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  put_u32(b, off, u);
}

}  // namespace

TEST_CASE("layer files: model file version 2 round trip is bit-exact in memory and streamed",
          "[io][model-file][layers]") {
  TrainedRun run;
  run.steps(6);
  const Model& src = run.m.model;
  REQUIRE(src.bn_running_mean(0)[0] != 0.f);
  const Bytes b = save(src);
  CHECK(b.size() == model_file_size(layers_spec()));
  Result<ModelFileInfo> info = read_model_info(b.data(), b.size());
  REQUIRE(info.is_ok());
  CHECK(info->version == kModelFileLayersVersion);
  CHECK(info->parameter_count == layers_spec().num_parameters());
  CHECK(info->state_count == 2 * (7 + 6));
  CHECK(info->header_bytes == 40 + 40 * 4);
  for (std::size_t l = 0; l < 4; ++l) {
    CHECK(info->spec.layers[l].batchnorm.enabled == layers_spec().layers[l].batchnorm.enabled);
    CHECK(info->spec.layers[l].batchnorm.eps == layers_spec().layers[l].batchnorm.eps);
    CHECK(info->spec.layers[l].batchnorm.momentum == layers_spec().layers[l].batchnorm.momentum);
    CHECK(info->spec.layers[l].batchnorm.decay_gamma_beta == layers_spec().layers[l].batchnorm.decay_gamma_beta);
    CHECK(info->spec.layers[l].dropout == layers_spec().layers[l].dropout);
  }
  Batch probe;
  Rng r(5);
  probe.draw(r);
  Model& trained = run.m.model;
  const Bytes want = eval_output(trained, probe.x);
  for (int mode = 0; mode < 2; ++mode) {
    INFO((mode == 0 ? "memory" : "stream in 7-byte chunks"));
    fennec_test::OwnedArena arena(1 << 20);
    Result<Model> m = [&]() -> Result<Model> {
      if (mode == 0) return load_model(b.data(), b.size(), ModelOptions::inference(kBatch), arena.arena);
      ChunkSource src_bytes(&b, 7);
      ByteReader rd = src_bytes.reader();
      return load_model(rd, ModelOptions::inference(kBatch), arena.arena);
    }();
    REQUIRE(m.is_ok());
    CHECK(param_bytes(m.value()) == param_bytes(src));
    CHECK(fennec_test::bytes_of(m.value().layer_state()) == fennec_test::bytes_of(src.layer_state()));
    CHECK(eval_output(m.value(), probe.x) == want);
    CHECK(save(m.value()) == b);
  }
}

TEST_CASE("layer files: the committed version-1 model file loads and is written back byte for byte",
          "[io][model-file][layers]") {
  const Bytes b = read_file(std::string(FENNEC_IO_FIXTURES) + "/model_v1_tiny.fnm");
  Result<ModelFileInfo> info = read_model_info(b.data(), b.size());
  REQUIRE(info.is_ok());
  CHECK(info->version == 1);
  CHECK(info->state_count == 0);
  CHECK(!info->spec.has_batchnorm());
  fennec_test::OwnedArena arena(1 << 16);
  Result<Model> m = load_model(b.data(), b.size(), ModelOptions::inference(1), arena.arena);
  REQUIRE(m.is_ok());
  // Parameters k/16 - 1 in file order (the script beside the fixture).
  CHECK(m.value().weights(0)(0, 0) == -1.f);
  CHECK(m.value().weights(0)(1, 2) == 5.f / 16 - 1);
  CHECK(m.value().bias(1)[1] == 25.f / 16 - 1);
  CHECK(save(m.value()) == b);
}

TEST_CASE("layer files: every malformed field of a version-2 model file is refused, nothing loaded",
          "[io][model-file][layers][malformed]") {
  OwnedModel src(layers_spec(), ModelOptions::inference(kBatch));
  const Bytes good = save(src.model);
  const std::size_t options = 40 + 24 * 4;  // layer-options records
  const std::size_t state = good.size() - 4 - 4 * 2 * (7 + 6);
  auto refused = [&](Bytes b, StatusCode code, bool crc = true) {
    if (crc) fix_crc(b);
    fennec_test::OwnedArena arena(1 << 20);
    Result<Model> m = load_model(b.data(), b.size(), ModelOptions::inference(kBatch), arena.arena);
    CHECK(m.status().code() == code);
    CHECK(arena.arena.used() == 0);
    // The streaming loader agrees.
    fennec_test::OwnedArena arena2(1 << 20);
    ChunkSource chunks(&b, 5);
    ByteReader rd = chunks.reader();
    CHECK(load_model(rd, ModelOptions::inference(kBatch), arena2.arena).status().code() == code);
  };
  const StatusCode kCorrupt = StatusCode::kCorruptData;
  {
    fennec_test::OwnedArena arena(1 << 20);
    REQUIRE(load_model(good.data(), good.size(), ModelOptions::inference(kBatch), arena.arena).is_ok());
  }
  Bytes b = good;
  // Unknown flags, "no decay" without batch norm, batch-norm fields on a plain layer.
  for (std::uint32_t flags : {4u, 0x80000000u}) {
    b = good;
    put_u32(b, options + 0, flags);
    refused(b, kCorrupt);
  }
  b = good;
  put_u32(b, options + 2 * 16, 2u);  // layer 2 has no batch norm
  refused(b, kCorrupt);
  b = good;
  put_f32(b, options + 2 * 16 + 4, 1e-5f);
  refused(b, kCorrupt);
  // Out-of-range eps, momentum and dropout.
  for (float eps : {0.f, -1.f, 2.f, NAN, INFINITY}) {
    b = good;
    put_f32(b, options + 4, eps);
    refused(b, kCorrupt);
  }
  for (float mom : {-0.5f, 1.5f, NAN}) {
    b = good;
    put_f32(b, options + 8, mom);
    refused(b, kCorrupt);
  }
  for (float p : {1.f, -0.1f, NAN, INFINITY}) {
    b = good;
    put_f32(b, options + 12, p);
    refused(b, kCorrupt);
  }
  // Batch norm switched off (or on) changes the parameter count and the sizes: refused.
  b = good;
  put_u32(b, options + 0, 0u);
  put_f32(b, options + 4, 0.f);
  put_f32(b, options + 8, 0.f);
  refused(b, kCorrupt);
  b = good;
  put_u32(b, options + 2 * 16, 1u);
  put_f32(b, options + 2 * 16 + 4, 1e-5f);
  refused(b, kCorrupt);
  // A version-1 header length with version 2, and the reverse.
  b = good;
  put_u32(b, 12, 40 + 24 * 4);
  refused(b, kCorrupt);
  b = good;
  put_u32(b, 8, 1);
  refused(b, kCorrupt);
  // A negative running variance; a NaN one (non-finite check asked for).
  b = good;
  put_f32(b, state + 4 * 7, -0.5f);
  refused(b, kCorrupt);
  // Truncated running statistics, and trailing bytes after them.
  b = good;
  b.erase(b.end() - 8, b.end() - 4);
  refused(b, kCorrupt);
  b = good;
  b.insert(b.end() - 4, {0, 0, 0, 0});
  refused(b, kCorrupt);
  // A bad CRC over the statistics.
  b = good;
  b[state + 1] ^= 0x40;
  refused(b, kCorrupt, false);
  b = good;
  put_f32(b, state + 4 * 7 + 8, NAN);
  fix_crc(b);
  fennec_test::OwnedArena arena(1 << 20);
  LoadOptions finite;
  finite.check_finite = true;
  CHECK(load_model(b.data(), b.size(), ModelOptions::inference(kBatch), arena.arena, finite).status().code() ==
        StatusCode::kNonFinite);
}

TEST_CASE("layer files: checkpoint version 3, resume is bit-exact with batch norm and dropout",
          "[io][checkpoint][layers]") {
  const ScheduleConfig schedules[] = {ScheduleConfig{}, ScheduleConfig::cosine(20, 1e-4).with_warmup(3)};
  for (const ScheduleConfig& sc : schedules) {
    INFO(schedule_name(sc.kind));
    constexpr int N = 12;
    TrainedRun straight(sc);
    straight.steps(N);
    TrainedRun first(sc);
    first.steps(N / 2);
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(first.trainer, first.data, w).is_ok());
    const Bytes ckpt = sink.bytes;
    CHECK(ckpt.size() == checkpoint_file_size(first.trainer, 0));
    Result<CheckpointInfo> info = read_checkpoint_info(ckpt.data(), ckpt.size());
    REQUIRE(info.is_ok());
    CHECK(info->version == 3);
    CHECK(info->batches_tracked == N / 2);
    CHECK(info->state_count == 2 * (7 + 6));
    CHECK(info->spec.layers[1].batchnorm.decay_gamma_beta == false);

    TrainedRun resumed(info->trainer.schedule);
    REQUIRE(restore_checkpoint(ckpt.data(), ckpt.size(), resumed.trainer, resumed.data, nullptr, 0).is_ok());
    CHECK(resumed.m.model.batches_tracked() == N / 2);
    resumed.steps(N / 2);
    CHECK(param_bytes(resumed.m.model) == param_bytes(straight.m.model));
    CHECK(fennec_test::bytes_of(resumed.m.model.layer_state()) ==
          fennec_test::bytes_of(straight.m.model.layer_state()));
    CHECK(std::memcmp(resumed.m.model.dropout_mask(0).data, straight.m.model.dropout_mask(0).data, kBatch * 7) == 0);
    CHECK(fennec_test::bytes_of(resumed.m.model.optimizer_state(1)) ==
          fennec_test::bytes_of(straight.m.model.optimizer_state(1)));
  }
}

TEST_CASE("layer files: malformed version-3 checkpoint records are refused and nothing changes",
          "[io][checkpoint][layers][malformed]") {
  TrainedRun first;
  first.steps(3);
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(first.trainer, first.data, w).is_ok());
  const Bytes good = sink.bytes;
  const std::size_t options = kCheckpointFixedHeader + 24 * 4;
  const std::size_t layer_state = options + 16 * 4 + kCheckpointScheduleRecord;
  const std::size_t stats = good.size() - 4 - 4 * 2 * (7 + 6);
  auto refused = [&](Bytes b, const char* what) {
    INFO(what);
    fix_crc(b);
    TrainedRun target;
    target.steps(1);
    const Bytes params = param_bytes(target.m.model);
    const Bytes state = fennec_test::bytes_of(target.m.model.layer_state());
    Rng data = target.data;
    CHECK(restore_checkpoint(b.data(), b.size(), target.trainer, data, nullptr, 0).code() ==
          StatusCode::kCorruptData);
    CHECK(param_bytes(target.m.model) == params);
    CHECK(fennec_test::bytes_of(target.m.model.layer_state()) == state);
    CHECK(target.m.model.batches_tracked() == 1);
    MemoryReader mr(b.data(), b.size());
    ByteReader r = mr.reader();
    CHECK(read_checkpoint_info(r).status().code() == StatusCode::kCorruptData);
  };
  Bytes b = good;
  for (std::size_t i = 0; i < 16; ++i) b.at(layer_state + i) = 0;
  refused(b, "dropout rng all zero");
  b = good;
  put_u32(b, layer_state + 24, 2);
  refused(b, "dropout rng has_spare 2");
  b = good;
  put_u32(b, layer_state + 28, 1);
  refused(b, "reserved field");
  b = good;
  put_u32(b, options + 0, 8);
  refused(b, "unknown layer flags");
  b = good;
  put_f32(b, options + 12, 1.5f);
  refused(b, "dropout 1.5");
  b = good;
  put_f32(b, stats + 4 * 7, -1.f);
  refused(b, "negative running variance");
  b = good;
  put_u32(b, 8, 2);
  refused(b, "version 2 with a version-3 layout");
}
