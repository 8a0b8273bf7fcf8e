// SPDX-License-Identifier: Apache-2.0
// Checkpoints: resume equivalence (N steps straight == N/2 + checkpoint + restore into fresh
// objects + N/2, bit for bit, for every optimizer; once through a real fresh process), the
// crash-safe two-slot file protocol, and refusal of mismatched trainers.
#include <sys/wait.h>
#include <unistd.h>

#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {

// Each batch draws kBatch * 5 = 15 normals: an odd count, so after an odd number of batches the
// data Rng holds a pending polar-method spare and a checkpoint must carry it (has_spare and its
// value) for the resumed stream to continue; the resume points below are odd batch counts.
constexpr std::size_t kBatch = 3;

// The data stream: each batch is drawn from the data Rng, so "where we are in the data" is the
// Rng state plus a batch counter (saved in the user blob).
struct Data {
  float x[kBatch * 5];
  std::int32_t y[kBatch];
  void draw(Rng& rng) {
    for (float& v : x) v = static_cast<float>(rng.normal());
    for (std::int32_t& c : y) c = static_cast<std::int32_t>(rng.below(3));
  }
};

TrainerConfig config_for(OptimizerKind k) {
  TrainerConfig c;
  c.optimizer = OptimizerConfig::defaults(k);
  c.optimizer.weight_decay = k == OptimizerKind::kSgd ? 0.f : 1e-4f;
  c.clip.max_norm = 5.f;
  return c;
}

struct Run {
  OwnedModel m;
  Trainer trainer;
  Rng data_rng{1234};
  std::uint64_t batches = 0;
  explicit Run(OptimizerKind k) : m(small_spec(), training(k, kBatch), 77) {
    Result<Trainer> t = Trainer::create(m.model, config_for(k));
    REQUIRE(t.is_ok());
    trainer = t.value();
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      Data d;
      d.draw(data_rng);
      // A learning-rate schedule, so the restored lr matters.
      REQUIRE(trainer.set_learning_rate(trainer.config().optimizer.lr * 0.99f).is_ok());
      REQUIRE(trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).is_ok());
      ++batches;
    }
  }
  Bytes checkpoint() {
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(trainer, data_rng, w, &batches, sizeof(batches)).is_ok());
    REQUIRE(sink.bytes.size() == checkpoint_file_size(trainer, sizeof(batches)));
    return sink.bytes;
  }
};

// A never-trained run built only from what the checkpoint says.
struct Resumed {
  fennec_test::OwnedArena arena;
  Model model;
  Trainer trainer;
  Rng data_rng{999};
  std::uint64_t batches = 0;
  explicit Resumed(const CheckpointInfo& info)
      : arena(plan(info.spec, training(info.trainer.optimizer.kind, kBatch)).total()) {
    Result<Model> m = Model::bind(info.spec, training(info.trainer.optimizer.kind, kBatch), arena.arena);
    REQUIRE(m.is_ok());
    model = std::move(m).value();
    Result<Trainer> t = Trainer::create(model, info.trainer);
    REQUIRE(t.is_ok());
    trainer = t.value();
  }
};

// The whole Rng state: the xoshiro words, the spare flag and the spare's bits.
void require_same_rng(const Rng& a, const Rng& b) {
  const Rng::State x = a.state(), y = b.state();
  CHECK(std::memcmp(x.s, y.s, sizeof(x.s)) == 0);
  CHECK(x.has_spare == y.has_spare);
  CHECK(std::memcmp(&x.spare, &y.spare, sizeof(x.spare)) == 0);
}

void require_same(const Model& a, const Model& b, OptimizerKind k) {
  REQUIRE(param_bytes(a) == param_bytes(b));
  for (std::size_t s = 0; s < optimizer_state_slots(k); ++s)
    REQUIRE(fennec_test::bytes_of(a.optimizer_state(s)) == fennec_test::bytes_of(b.optimizer_state(s)));
}

}  // namespace

TEST_CASE("checkpoint: N steps == N/2 + checkpoint + resume + N/2, bit-exact", "[io][checkpoint]") {
  for (int ki = 0; ki < kOptimizerCount; ++ki) {
    const OptimizerKind k = static_cast<OptimizerKind>(ki);
    INFO(optimizer_name(k));
    constexpr int N = 22;  // resume after 11 batches: 165 normals drawn, a spare pending
    Run straight(k);
    straight.steps(N);

    Run first(k);
    first.steps(N / 2);
    REQUIRE(first.data_rng.state().has_spare == 1);
    const Bytes ckpt = first.checkpoint();

    Result<CheckpointInfo> info = read_checkpoint_info(ckpt.data(), ckpt.size());
    REQUIRE(info.is_ok());
    CHECK(info->step == N / 2);
    CHECK(info->user_bytes == sizeof(std::uint64_t));
    Resumed r(info.value());
    // Restoring the data Rng's state and the batch counter is the data-order position.
    REQUIRE(restore_checkpoint(ckpt.data(), ckpt.size(), r.trainer, r.data_rng, &r.batches,
                               sizeof(r.batches))
                .is_ok());
    CHECK(r.batches == N / 2);
    require_same_rng(r.data_rng, first.data_rng);
    CHECK(r.trainer.step_count() == N / 2);
    // The format keeps rates at f32 precision.
    CHECK(static_cast<float>(r.trainer.config().optimizer.lr) ==
          static_cast<float>(first.trainer.config().optimizer.lr));
    require_same(r.model, first.m.model, k);

    for (int i = 0; i < N / 2; ++i) {
      Data d;
      d.draw(r.data_rng);
      REQUIRE(r.trainer.set_learning_rate(r.trainer.config().optimizer.lr * 0.99f).is_ok());
      REQUIRE(r.trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).is_ok());
    }
    CHECK(r.trainer.step_count() == straight.trainer.step_count());
    require_same(r.model, straight.m.model, k);
    require_same_rng(r.data_rng, straight.data_rng);
  }
}

TEST_CASE("checkpoint: resume in a fresh process through a file", "[io][checkpoint][file]") {
  constexpr int N = 30;  // the last checkpoint is after 15 batches: a spare normal pending
  const OptimizerKind k = OptimizerKind::kAdam;
  const std::string path = temp_dir() + "/fresh.ckpt";
  std::remove(path.c_str());
  std::remove((path + ".prev").c_str());
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: train N/2 steps (checkpointing along the way, like a real run) and exit.
    Run run(k);
    for (int i = 0; i < N / 2; i += 5) {
      run.steps(5);
      if (!save_checkpoint_file(run.trainer, run.data_rng, path.c_str(), &run.batches,
                                sizeof(run.batches)).is_ok())
        _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  Result<CheckpointFileInfo> info = read_checkpoint_file_info(path.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->slot == 0);
  CHECK(info->info.step == N / 2);
  Resumed r(info->info);
  REQUIRE(restore_checkpoint_file(path.c_str(), r.trainer, r.data_rng, &r.batches, sizeof(r.batches)).is_ok());
  CHECK(r.data_rng.state().has_spare == 1);
  for (int i = 0; i < N / 2; ++i) {
    Data d;
    d.draw(r.data_rng);
    REQUIRE(r.trainer.set_learning_rate(r.trainer.config().optimizer.lr * 0.99f).is_ok());
    REQUIRE(r.trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).is_ok());
  }
  Run straight(k);
  straight.steps(N);
  require_same(r.model, straight.m.model, k);
  require_same_rng(r.data_rng, straight.data_rng);
}

TEST_CASE("checkpoint: two slots, torn or corrupt newest falls back to the previous", "[io][checkpoint][file]") {
  const std::string path = temp_dir() + "/slots.ckpt";
  const std::string prev = path + ".prev";
  std::remove(path.c_str());
  std::remove(prev.c_str());
  Run run(OptimizerKind::kMomentum);
  run.steps(3);
  REQUIRE(save_checkpoint_file(run.trainer, run.data_rng, path.c_str(), &run.batches, 8).is_ok());
  CHECK(access(prev.c_str(), F_OK) != 0);  // first save: nothing to keep yet
  run.steps(3);
  REQUIRE(save_checkpoint_file(run.trainer, run.data_rng, path.c_str(), &run.batches, 8).is_ok());
  CHECK(access((path + ".tmp").c_str(), F_OK) != 0);
  const Bytes newest = read_file(path), older = read_file(prev);

  Result<CheckpointFileInfo> ok = read_checkpoint_file_info(path.c_str());
  REQUIRE(ok.is_ok());
  CHECK(ok->slot == 0);
  CHECK(ok->info.step == 6);

  SECTION("torn write (truncated newest)") {
    write_file(path, Bytes(newest.begin(), newest.begin() + newest.size() / 2));
  }
  SECTION("bit rot in the newest") {
    Bytes b = newest;
    b[b.size() / 3] ^= 0x10;
    write_file(path, b);
  }
  SECTION("crash between the two renames (newest missing)") { std::remove(path.c_str()); }

  Result<CheckpointFileInfo> fb = read_checkpoint_file_info(path.c_str());
  REQUIRE(fb.is_ok());
  CHECK(fb->slot == 1);
  CHECK(fb->info.step == 3);
  CHECK(!fb->rejected.is_ok());
  Resumed r(fb->info);
  CheckpointFileInfo used;
  REQUIRE(restore_checkpoint_file(path.c_str(), r.trainer, r.data_rng, &r.batches, 8, &used).is_ok());
  CHECK(used.slot == 1);
  CHECK(r.batches == 3);
  CHECK(r.trainer.step_count() == 3);

  // Both bad: a clear error, nothing restored.
  Bytes b = older;
  b[10] ^= 1;
  write_file(prev, b);
  Result<CheckpointFileInfo> none = read_checkpoint_file_info(path.c_str());
  CHECK(!none.is_ok());
  CHECK(restore_checkpoint_file(path.c_str(), r.trainer, r.data_rng, &r.batches, 8).code() != StatusCode::kOk);

  // Saving over a bad newest keeps the good .prev: the bad file is replaced, not rotated into
  // the fallback slot.
  write_file(prev, older);
  Bytes bad = newest;
  bad[bad.size() / 2] ^= 0x01;
  write_file(path, bad);
  REQUIRE(save_checkpoint_file(r.trainer, r.data_rng, path.c_str(), &r.batches, 8).is_ok());
  CHECK(read_file(prev) == older);
  Result<CheckpointFileInfo> again = read_checkpoint_file_info(path.c_str());
  REQUIRE(again.is_ok());
  CHECK(again->slot == 0);
}

TEST_CASE("checkpoint: mismatched trainer, model or buffer is refused and nothing changes", "[io][checkpoint]") {
  Run run(OptimizerKind::kAdam);
  run.steps(2);
  const Bytes ckpt = run.checkpoint();

  Run other(OptimizerKind::kAdam);
  const Bytes before = param_bytes(other.m.model);
  const std::uint64_t step_before = other.trainer.step_count();
  std::uint64_t pos = 0;
  // Blob buffer too small.
  CHECK(restore_checkpoint(ckpt.data(), ckpt.size(), other.trainer, other.data_rng, &pos, 4).code() ==
        StatusCode::kOutOfMemory);
  // Different hyper-parameters (other than lr).
  TrainerConfig c = config_for(OptimizerKind::kAdam);
  c.optimizer.beta2 = 0.99f;
  Result<Trainer> t2 = Trainer::create(other.m.model, c);
  REQUIRE(t2.is_ok());
  CHECK(restore_checkpoint(ckpt.data(), ckpt.size(), t2.value(), other.data_rng, &pos, 8).code() ==
        StatusCode::kFailedPrecondition);
  CHECK(param_bytes(other.m.model) == before);
  CHECK(other.trainer.step_count() == step_before);
  // Different optimizer.
  Run sgd(OptimizerKind::kSgd);
  CHECK(restore_checkpoint(ckpt.data(), ckpt.size(), sgd.trainer, sgd.data_rng, &pos, 8).code() ==
        StatusCode::kFailedPrecondition);
  // Different network.
  OwnedModel wide(ModelSpec(5).dense(8, ActivationSpec::relu()).dense(3, ActivationSpec::identity()),
                  training(OptimizerKind::kAdam, kBatch));
  Result<Trainer> t3 = Trainer::create(wide.model, config_for(OptimizerKind::kAdam));
  REQUIRE(t3.is_ok());
  CHECK(restore_checkpoint(ckpt.data(), ckpt.size(), t3.value(), sgd.data_rng, &pos, 8).code() ==
        StatusCode::kShapeMismatch);
}

TEST_CASE("checkpoint: size for the 784-512-256-10 model with Adam", "[io][checkpoint]") {
  OwnedModel m(mnist_spec(), training(OptimizerKind::kAdam, 1));
  Result<Trainer> t = Trainer::create(m.model, config_for(OptimizerKind::kAdam));
  REQUIRE(t.is_ok());
  const std::uint64_t n = checkpoint_file_size(t.value(), 16);
  CHECK(n == 136 + 3 * 24 + 16 + 3 * 4 * 535818ull + 4);
  std::printf("checkpoint for 784-512-256-10 with Adam and a 16-byte blob: %llu bytes\n",
              static_cast<unsigned long long>(n));
}

TEST_CASE("checkpoint: a stored step count beyond 2^53 (valid CRC) is refused and nothing changes", "[io][checkpoint]") {
  Run writer(OptimizerKind::kAdam);
  writer.steps(3);
  const Bytes good = writer.checkpoint();
  constexpr std::size_t kStepField = 88;
  // 2^64-1 wraps Adam's t to 0 (bias correction 1/0); above 2^53 t is no longer exact in double.
  for (std::uint64_t step : {~std::uint64_t{0}, (std::uint64_t{1} << 53) + 1, std::uint64_t{1} << 63}) {
    INFO("step " << step);
    Bytes b = good;
    put_u64(b, kStepField, step);
    fix_crc(b);
    CHECK(read_checkpoint_info(b.data(), b.size()).status().code() == StatusCode::kCorruptData);
    Run target(OptimizerKind::kAdam);
    target.steps(1);
    const Bytes before = param_bytes(target.m.model);
    const std::uint64_t step_before = target.trainer.step_count();
    CHECK(restore_checkpoint(b.data(), b.size(), target.trainer, target.data_rng, &target.batches,
                             sizeof(target.batches))
              .code() == StatusCode::kCorruptData);
    CHECK(param_bytes(target.m.model) == before);
    CHECK(target.trainer.step_count() == step_before);
    // The trainer still trains, and its weights stay finite.
    target.steps(1);
    const VectorView p = target.m.model.parameters();
    bool finite = true;
    for (std::size_t i = 0; i < p.size; ++i) finite = finite && std::isfinite(p[i]);
    CHECK(finite);
  }
  // 2^53 itself restores (t = 2^53 is exact), and the next step, which would pass it, is refused.
  Bytes edge = good;
  put_u64(edge, kStepField, std::uint64_t{1} << 53);
  fix_crc(edge);
  Run target(OptimizerKind::kAdam);
  REQUIRE(restore_checkpoint(edge.data(), edge.size(), target.trainer, target.data_rng,
                             &target.batches, sizeof(target.batches))
              .is_ok());
  const Bytes before = param_bytes(target.m.model);
  Data d;
  d.draw(target.data_rng);
  CHECK(target.trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(param_bytes(target.m.model) == before);
  CHECK(target.trainer.step_count() == std::uint64_t{1} << 53);
}

TEST_CASE("checkpoint: f32-stored decay rates read back as the decimals that were written",
          "[io][checkpoint]") {
  // The format stores hyper-parameters as f32; the double in memory comes back exactly when it
  // is the shortest decimal of its float (every rate a user writes), so a trainer built from
  // CheckpointInfo decays by float(1 - 0.999), as the one that wrote it did.
  OwnedModel m(small_spec(), training(OptimizerKind::kRmsProp, kBatch));
  TrainerConfig c;
  c.optimizer = OptimizerConfig::rmsprop(0.003, 0.999, 1e-7);
  c.optimizer.weight_decay = 0.0125;
  Trainer t = Trainer::create(m.model, c).value();
  Rng rng(1);
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(t, rng, w).is_ok());
  Result<CheckpointInfo> info = read_checkpoint_info(sink.bytes.data(), sink.bytes.size());
  REQUIRE(info.is_ok());
  const OptimizerConfig& o = info->trainer.optimizer;
  CHECK(o.rho == 0.999);
  CHECK(o.eps == 1e-7);
  CHECK(o.weight_decay == 0.0125);
  CHECK(o.momentum == 0.9);
  CHECK(o.lr == static_cast<float>(0.003));  // the trainer's own float rate, exactly
}

namespace {

// A run on a learning-rate schedule: the trainer computes every rate; every 4th step an
// "epoch" ends and reports a scripted metric (reduce-on-plateau reacts to it).
struct ScheduledRun {
  OwnedModel m;
  Trainer trainer;
  Rng data_rng{4321};
  std::uint64_t batches = 0;
  ScheduledRun(const ScheduleConfig& schedule, OptimizerKind k) : m(small_spec(), training(k, kBatch), 77) {
    TrainerConfig c = config_for(k);
    c.schedule = schedule;
    Result<Trainer> t = Trainer::create(m.model, c);
    REQUIRE(t.is_ok());
    trainer = t.value();
  }
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      Data d;
      d.draw(data_rng);
      REQUIRE(trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).is_ok());
      if (++batches % 4 == 0) REQUIRE(trainer.observe_metric(batches < 8 ? 1.0 / batches : 1.0).is_ok());
    }
  }
};

}  // namespace

TEST_CASE("checkpoint: a schedule's state is stored (version 2) and resume stays bit-exact",
          "[io][checkpoint][schedule]") {
  ScheduleConfig plateau = ScheduleConfig::plateau(2, 0.5, MetricMode::kMin, 1e-5);
  plateau.warmup_steps = 3;
  const ScheduleConfig schedules[] = {ScheduleConfig::cosine(20, 1e-4).with_warmup(5),
                                      ScheduleConfig::step(4, 0.5), ScheduleConfig::exponential(3, 0.9),
                                      plateau};
  for (const ScheduleConfig& sc : schedules) {
    INFO(schedule_name(sc.kind));
    constexpr int N = 26;  // checkpoint after 13 steps, between two metric reports
    ScheduledRun straight(sc, OptimizerKind::kAdam);
    straight.steps(N);
    ScheduledRun first(sc, OptimizerKind::kAdam);
    first.steps(N / 2);
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(first.trainer, first.data_rng, w, &first.batches, sizeof first.batches).is_ok());
    CHECK(sink.bytes.size() == checkpoint_file_size(first.trainer, sizeof first.batches));
    Result<CheckpointInfo> info = read_checkpoint_info(sink.bytes.data(), sink.bytes.size());
    REQUIRE(info.is_ok());
    CHECK(info->version == 2);
    CHECK(same_schedule(info->trainer.schedule, sc));
    CHECK(info->trainer.optimizer.lr == first.trainer.schedule().base_lr());
    CHECK(static_cast<float>(info->learning_rate) == static_cast<float>(first.trainer.learning_rate()));
    if (sc.kind == ScheduleKind::kPlateau) {
      // Epoch metrics 1/4, 1/8... then 1.0 twice: one reduction so far.
      CHECK(info->schedule_state.scale == 0.5);
      CHECK(info->schedule_state.tracker.epochs == 3);
    }
    Resumed r(info.value());
    REQUIRE(restore_checkpoint(sink.bytes.data(), sink.bytes.size(), r.trainer, r.data_rng, &r.batches,
                               sizeof r.batches)
                .is_ok());
    CHECK(r.trainer.learning_rate() == first.trainer.learning_rate());
    CHECK(r.trainer.schedule().state().scale == first.trainer.schedule().state().scale);
    for (int i = 0; i < N / 2; ++i) {
      Data d;
      d.draw(r.data_rng);
      REQUIRE(r.trainer.step(ConstMatrixView(d.x, kBatch, 5), Targets::classes(d.y)).is_ok());
      if (++r.batches % 4 == 0) REQUIRE(r.trainer.observe_metric(r.batches < 8 ? 1.0 / r.batches : 1.0).is_ok());
    }
    CHECK(r.trainer.learning_rate() == straight.trainer.learning_rate());
    require_same(r.model, straight.m.model, OptimizerKind::kAdam);
  }
}

TEST_CASE("checkpoint: a trainer on another schedule is refused and nothing changes", "[io][checkpoint][schedule]") {
  ScheduledRun cosine(ScheduleConfig::cosine(20).with_warmup(5), OptimizerKind::kAdam);
  cosine.steps(3);
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(cosine.trainer, cosine.data_rng, w, &cosine.batches, sizeof cosine.batches).is_ok());
  Run constant(OptimizerKind::kAdam);  // a version-1 trainer (constant schedule)
  const Bytes before = param_bytes(constant.m.model);
  std::uint64_t pos = 0;
  const Status s = restore_checkpoint(sink.bytes.data(), sink.bytes.size(), constant.trainer, constant.data_rng,
                                      &pos, sizeof pos);
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()).find("cosine schedule (warm-up 5 steps)") != std::string::npos);
  CHECK(param_bytes(constant.m.model) == before);
  CHECK(constant.trainer.step_count() == 0);
  // And the other way round: a version-1 checkpoint into a scheduled trainer.
  const Bytes v1 = constant.checkpoint();
  CHECK(read_checkpoint_info(v1.data(), v1.size())->version == 1);
  ScheduledRun other(ScheduleConfig::cosine(20).with_warmup(5), OptimizerKind::kAdam);
  CHECK(restore_checkpoint(v1.data(), v1.size(), other.trainer, other.data_rng, &pos, sizeof pos).code() ==
        StatusCode::kFailedPrecondition);
  CHECK(other.trainer.step_count() == 0);
  // A corrupt schedule record (valid CRC): gamma 0 is refused as corrupt data.
  Bytes bad = sink.bytes;
  const std::size_t record = kCheckpointFixedHeader + kModelFileLayerRecord * cosine.m.model.num_layers();
  const std::uint32_t kind_step = static_cast<std::uint32_t>(ScheduleKind::kStep);
  std::memcpy(&bad[record], &kind_step, 4);
  std::memset(&bad[record + 40], 0, 8);
  fix_crc(bad);
  const Status c = read_checkpoint_info(bad.data(), bad.size()).status();
  CHECK(c.code() == StatusCode::kCorruptData);
  CHECK(std::string(c.message()).find("stored schedule: step schedule: gamma 0") != std::string::npos);
}

// A version-1 file written from the documented layout by a script (no library code): it must
// keep loading, and a constant-rate trainer must write the very same bytes back.
TEST_CASE("checkpoint: the version-1 fixture loads and is written back byte for byte", "[io][checkpoint]") {
  const Bytes file = read_file(std::string(FENNEC_IO_FIXTURES) + "/checkpoint_v1_adam.ckpt");
  REQUIRE(file.size() == 508);
  Result<CheckpointInfo> info = read_checkpoint_info(file.data(), file.size());
  REQUIRE(info.is_ok());
  CHECK(info->version == 1);
  CHECK(info->step == 7);
  CHECK(info->user_bytes == 8);
  CHECK(info->trainer.optimizer.kind == OptimizerKind::kAdam);
  CHECK(static_cast<float>(info->trainer.optimizer.lr) == 0.002f);
  CHECK(info->learning_rate == info->trainer.optimizer.lr);
  CHECK(info->trainer.optimizer.beta2 == 0.999);
  CHECK(info->trainer.schedule.kind == ScheduleKind::kConstant);
  REQUIRE(info->spec.num_layers == 2);
  CHECK(info->spec.layers[0].activation.kind == Activation::kTanh);
  const ModelOptions o = training(OptimizerKind::kAdam, 2);
  fennec_test::OwnedArena arena(plan(info->spec, o).total());
  Model model = Model::bind(info->spec, o, arena.arena).value();
  Trainer trainer = Trainer::create(model, info->trainer).value();
  Rng rng(99);
  std::uint64_t user = 0;
  REQUIRE(restore_checkpoint(file.data(), file.size(), trainer, rng, &user, sizeof user).is_ok());
  CHECK(user == 42);
  CHECK(trainer.step_count() == 7);
  CHECK(rng.state().s[0] == 1);
  CHECK(rng.state().s[3] == 4);
  CHECK(rng.state().has_spare == 1);
  CHECK(rng.state().spare == 0.25);
  // File order (W_0 row-major, b_0, W_1, b_1) mapped onto the model's padded layout, which the
  // optimizer state shares.
  const float* base = model.parameters().data;
  std::vector<std::size_t> offsets;
  for (std::size_t l = 0; l < model.num_layers(); ++l) {
    const MatrixView wl = model.weights(l);
    for (std::size_t r = 0; r < wl.rows; ++r)
      for (std::size_t c = 0; c < wl.cols; ++c) offsets.push_back(static_cast<std::size_t>(&wl(r, c) - base));
    const VectorView bl = model.bias(l);
    for (std::size_t k = 0; k < bl.size; ++k) offsets.push_back(static_cast<std::size_t>(&bl[k] - base));
  }
  REQUIRE(offsets.size() == 26);
  const float* m = model.optimizer_state(0).data;
  const float* v = model.optimizer_state(1).data;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    INFO("parameter " << i);
    CHECK(base[offsets[i]] == (static_cast<float>(i) - 13.f) / 32.f);
    CHECK(m[offsets[i]] == static_cast<float>(i) / 1024.f);
    CHECK(v[offsets[i]] == static_cast<float>(i + 1) / 4096.f);
  }
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(trainer, rng, w, &user, sizeof user).is_ok());
  CHECK(sink.bytes == file);
}
