// SPDX-License-Identifier: Apache-2.0
// Valid-CRC evil headers: every header field of a model file and of a checkpoint set to zero, the
// maximum, off by one, a sign or high bit, NaN/Inf/huge where it is a float, and counts that
// disagree with each other; the CRC is recomputed so the field itself is what gets tested. Each
// file goes through the in-memory, streaming and file loaders, which must agree. A refusal must be
// a typed error with a message, leave the arena empty and (checkpoints) the trainer untouched; an
// acceptance must be a faithful file: saving what was loaded gives back the very same bytes.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {

enum class Kind { kU32, kU64, kF32 };

struct Field {
  std::string name;
  std::size_t offset;
  Kind kind;
};

std::uint64_t get(const Bytes& b, const Field& f) {
  std::uint64_t v = 0;
  const std::size_t n = f.kind == Kind::kU64 ? 8 : 4;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[f.offset + i]} << (8 * i);
  return v;
}

void set(Bytes& b, const Field& f, std::uint64_t v) {
  if (f.kind == Kind::kU64) {
    put_u64(b, f.offset, v);
  } else {
    put_u32(b, f.offset, static_cast<std::uint32_t>(v));
  }
}

std::uint64_t f32_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The values each field is set to.
std::vector<std::uint64_t> evil_values(const Bytes& b, const Field& f) {
  const std::uint64_t v = get(b, f);
  if (f.kind == Kind::kF32) {
    float x;
    const std::uint32_t u = static_cast<std::uint32_t>(v);
    std::memcpy(&x, &u, 4);
    const float inf = std::numeric_limits<float>::infinity();
    return {f32_bits(0.f), f32_bits(-0.f), f32_bits(std::numeric_limits<float>::quiet_NaN()),
            0x7F800001u /* signalling NaN */, 0xFFC00000u /* negative NaN */, f32_bits(inf),
            f32_bits(-inf), f32_bits(FLT_MAX), f32_bits(-FLT_MAX), f32_bits(FLT_TRUE_MIN),
            f32_bits(-1.f), f32_bits(1.f), f32_bits(std::nextafter(x, inf)),
            f32_bits(std::nextafter(x, -inf)), 0xFFFFFFFFu};
  }
  const std::uint64_t max = f.kind == Kind::kU64 ? ~std::uint64_t{0} : 0xFFFFFFFFull;
  const std::uint64_t high = f.kind == Kind::kU64 ? std::uint64_t{1} << 63 : 0x80000000ull;
  return {0, 1, max, max - 1, high, high - 1, (v + 1) & max, (v - 1) & max, v * 2 & max};
}

float float_of(std::uint64_t bits) {
  const std::uint32_t u = static_cast<std::uint32_t>(bits);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool typed(const Status& s) {
  return !s.is_ok() && s.message()[0] != 0 &&
         (s.code() == StatusCode::kCorruptData || s.code() == StatusCode::kUnsupported ||
          s.code() == StatusCode::kOutOfMemory || s.code() == StatusCode::kShapeMismatch ||
          s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kInvalidArgument);
}

// ---- model files ----

std::vector<Field> model_fields(std::size_t layers) {
  std::vector<Field> f = {{"version", 8, Kind::kU32},      {"header_bytes", 12, Kind::kU32},
                          {"input", 16, Kind::kU32},       {"num_layers", 20, Kind::kU32},
                          {"loss", 24, Kind::kU32},        {"flags", 28, Kind::kU32},
                          {"param_count", 32, Kind::kU64}};
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t o = kModelFileFixedHeader + kModelFileLayerRecord * l;
    const std::string p = "layer " + std::to_string(l) + " ";
    f.push_back({p + "units", o, Kind::kU32});
    f.push_back({p + "activation", o + 4, Kind::kU32});
    f.push_back({p + "alpha", o + 8, Kind::kF32});
    f.push_back({p + "init kind", o + 12, Kind::kU32});
    f.push_back({p + "init a", o + 16, Kind::kF32});
    f.push_back({p + "init b", o + 20, Kind::kF32});
  }
  return f;
}

// Loads `b` in the three modes; returns the common status (CHECKs that they agree and that an
// accepted file is faithful).
Status load_three_ways(const Bytes& b, const std::string& path) {
  const std::size_t cap = 1 << 16;
  fennec_test::OwnedArena a1(cap), a2(cap), a3(cap);
  Result<Model> mem = load_model(b.data(), b.size(), inference(), a1.arena);
  ChunkSource src{&b, 7};
  ByteReader r = src.reader();
  Result<Model> stream = load_model(r, inference(), a2.arena);
  write_file(path, b);
  Result<Model> file = load_model_file(path.c_str(), inference(), a3.arena);
  CHECK(stream.status().code() == mem.status().code());
  CHECK(file.status().code() == mem.status().code());
  if (mem.is_ok()) {
    CHECK(save(mem.value()) == b);
    if (stream.is_ok()) CHECK(save(stream.value()) == b);
  } else {
    CHECK(typed(mem.status()));
    CHECK(typed(stream.status()));
    CHECK(typed(file.status()));
    CHECK(a1.arena.used() == 0);
    CHECK(a2.arena.used() == 0);
    CHECK(a3.arena.used() == 0);
  }
  return mem.status();
}

}  // namespace

TEST_CASE("evil headers: every model-file field, valid CRC, three read modes", "[io][malformed][evil]") {
  OwnedModel m(small_spec(), inference());
  const Bytes good = save(m.model);
  const std::string path = temp_dir() + "/evil.fnm";
  REQUIRE(load_three_ways(good, path).is_ok());
  // Fields that size the file: any change must be refused (the counts then disagree).
  const std::vector<std::string> sizing = {"version", "header_bytes", "input", "num_layers",
                                           "flags", "param_count", "layer 0 units", "layer 1 units",
                                           "layer 2 units"};
  std::size_t cases = 0, refused = 0;
  for (const Field& f : model_fields(m.model.num_layers())) {
    for (std::uint64_t v : evil_values(good, f)) {
      if (v == get(good, f)) continue;
      Bytes b = good;
      set(b, f, v);
      fix_crc(b);
      INFO(f.name << " = " << v);
      const Status s = load_three_ways(b, path);
      ++cases;
      if (!s.is_ok()) ++refused;
      bool must_refuse = false;
      for (const std::string& n : sizing) must_refuse = must_refuse || n == f.name;
      if (must_refuse) CHECK_FALSE(s.is_ok());
    }
  }
  // Counts that disagree with each other while each looks plausible.
  const std::size_t L = m.model.num_layers();
  auto combined = [&](std::uint32_t layers, std::uint32_t header, std::uint64_t params) {
    Bytes b = good;
    put_u32(b, 20, layers);
    put_u32(b, 12, header);
    put_u64(b, 32, params);
    fix_crc(b);
    INFO("layers " << layers << " header " << header << " params " << params);
    CHECK_FALSE(load_three_ways(b, path).is_ok());
    ++cases;
    ++refused;
  };
  const std::uint64_t P = get(good, Field{"", 32, Kind::kU64});
  combined(static_cast<std::uint32_t>(L - 1), static_cast<std::uint32_t>(40 + 24 * (L - 1)), P);
  combined(static_cast<std::uint32_t>(L + 1), static_cast<std::uint32_t>(40 + 24 * (L + 1)), P);
  combined(static_cast<std::uint32_t>(L), static_cast<std::uint32_t>(40 + 24 * L), P + 1);
  combined(static_cast<std::uint32_t>(L), static_cast<std::uint32_t>(40 + 24 * L), P - 1);
  combined(static_cast<std::uint32_t>(L + 1), static_cast<std::uint32_t>(40 + 24 * L), P);
  std::printf("evil model-file headers: %zu cases, %zu refused, 3 read modes each\n", cases, refused);
}

// ---- checkpoints ----
namespace {

struct Snapshot {
  Bytes params, s0, s1;
  std::uint64_t step;
  float lr;
  Rng::State rng;
  bool operator==(const Snapshot& o) const {
    return params == o.params && s0 == o.s0 && s1 == o.s1 && step == o.step && lr == o.lr &&
           std::memcmp(rng.s, o.rng.s, sizeof(rng.s)) == 0 &&
           std::memcmp(&rng.spare, &o.rng.spare, sizeof(rng.spare)) == 0 &&
           rng.has_spare == o.rng.has_spare;
  }
};

struct Setup {
  OwnedModel m{small_spec(), training(OptimizerKind::kAdam, 2)};
  Trainer trainer;
  Rng rng{11};
  Setup() {
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(0.01f);
    c.clip.max_norm = 2.f;
    trainer = Trainer::create(m.model, c).value();
    float x[10] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f, 1.0f};
    std::int32_t y[2] = {1, 2};
    REQUIRE(trainer.step(ConstMatrixView(x, 2, 5), Targets::classes(y)).is_ok());
    (void)rng.normal();  // a spare sample pending, so has_spare and spare are live fields
  }
  Snapshot snapshot() const {
    Snapshot s;
    s.params = param_bytes(m.model);
    s.s0 = fennec_test::bytes_of(m.model.optimizer_state(0));
    s.s1 = fennec_test::bytes_of(m.model.optimizer_state(1));
    s.step = trainer.step_count();
    s.lr = trainer.config().optimizer.lr;
    s.rng = rng.state();
    return s;
  }
  Bytes save(const void* user, std::size_t n) const {
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(trainer, rng, w, user, n).is_ok());
    return sink.bytes;
  }
};

std::vector<Field> checkpoint_fields(std::size_t layers) {
  std::vector<Field> f = {{"version", 8, Kind::kU32},     {"header_bytes", 12, Kind::kU32},
                          {"input", 16, Kind::kU32},      {"num_layers", 20, Kind::kU32},
                          {"loss", 24, Kind::kU32},       {"flags", 28, Kind::kU32},
                          {"param_count", 32, Kind::kU64}, {"optimizer", 40, Kind::kU32},
                          {"state slots", 44, Kind::kU32}};
  const char* floats[9] = {"lr", "momentum", "rho", "beta1", "beta2", "eps", "weight_decay",
                           "clip max_norm", "clip max_value"};
  for (int i = 0; i < 9; ++i) f.push_back({floats[i], 48 + 4 * std::size_t(i), Kind::kF32});
  f.push_back({"reserved 84", 84, Kind::kU32});
  f.push_back({"step", 88, Kind::kU64});
  for (int i = 0; i < 4; ++i) f.push_back({"rng s" + std::to_string(i), 96 + 4 * std::size_t(i), Kind::kU32});
  f.push_back({"rng spare", 112, Kind::kU64});
  f.push_back({"has_spare", 120, Kind::kU32});
  f.push_back({"reserved 124", 124, Kind::kU32});
  f.push_back({"user bytes", 128, Kind::kU64});
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t o = kCheckpointFixedHeader + kModelFileLayerRecord * l;
    const std::string p = "layer " + std::to_string(l) + " ";
    f.push_back({p + "units", o, Kind::kU32});
    f.push_back({p + "activation", o + 4, Kind::kU32});
    f.push_back({p + "alpha", o + 8, Kind::kF32});
    f.push_back({p + "init kind", o + 12, Kind::kU32});
    f.push_back({p + "init a", o + 16, Kind::kF32});
    f.push_back({p + "init b", o + 20, Kind::kF32});
  }
  return f;
}

}  // namespace

TEST_CASE("evil headers: every checkpoint field, valid CRC, three read modes, trainer untouched", "[io][malformed][evil][checkpoint]") {
  const unsigned char blob[5] = {'e', 'p', 'o', 'c', 'h'};
  Setup writer;
  const Bytes good = writer.save(blob, sizeof blob);
  const std::string path = temp_dir() + "/evil.ckpt";
  std::size_t cases = 0, refused = 0;
  const std::vector<std::string> sizing = {"version", "header_bytes", "input", "num_layers", "flags",
                                           "param_count", "state slots", "user bytes",
                                           "reserved 84", "reserved 124", "layer 0 units",
                                           "layer 1 units", "layer 2 units"};
  for (const Field& f : checkpoint_fields(writer.m.model.num_layers())) {
    for (std::uint64_t v : evil_values(good, f)) {
      if (v == get(good, f)) continue;
      Bytes b = good;
      set(b, f, v);
      fix_crc(b);
      INFO(f.name << " = " << v);
      ++cases;
      // Validation: memory, streaming, file.
      const Status mem = read_checkpoint_info(b.data(), b.size()).status();
      ChunkSource src{&b, 9};
      ByteReader r = src.reader();
      const Status stream = read_checkpoint_info(r).status();
      write_file(path, b);
      const Status file = read_checkpoint_file_info(path.c_str()).status();
      CHECK(stream.code() == mem.code());
      CHECK(file.code() == mem.code());
      // Restore into a trainer that has its own state: memory and file.
      Setup target;
      const Snapshot before = target.snapshot();
      unsigned char user[16] = {};
      const Status rm = restore_checkpoint(b.data(), b.size(), target.trainer, target.rng, user, sizeof user);
      if (!rm.is_ok()) {
        CHECK(typed(rm));
        CHECK(target.snapshot() == before);
      }
      Setup target2;
      const Snapshot before2 = target2.snapshot();
      const Status rf = restore_checkpoint_file(path.c_str(), target2.trainer, target2.rng, user, sizeof user);
      CHECK(rf.code() == rm.code());
      if (!rf.is_ok()) {
        CHECK(typed(rf));
        CHECK(target2.snapshot() == before2);
        ++refused;
      } else {
        // Faithful: the restored trainer saves the very bytes it was given, except fields a
        // resume does not take from the file and the trainer keeps as it was created: a layer's
        // initialiser, the alpha of a layer that is not leaky_relu (same_network ignores both),
        // and a float config field holding another encoding of the trainer's value (-0 for 0).
        const Bytes again = target2.save(user, sizeof blob);
        const bool same_value = f.kind == Kind::kF32 && f.offset >= 52 && f.offset < 84 &&
                                float_of(v) == float_of(get(good, f));
        const bool kept = same_value || f.name.find("init") != std::string::npos ||
                          f.name.find("alpha") != std::string::npos;
        CHECK((again == b || (kept && again == good)));
      }
      if (!mem.is_ok()) CHECK(typed(mem));
      bool must_refuse = false;
      for (const std::string& n : sizing) must_refuse = must_refuse || n == f.name;
      if (must_refuse) CHECK_FALSE(mem.is_ok());
      if (f.name == "step" && v > kMaxStepCount) CHECK(mem.code() == StatusCode::kCorruptData);
    }
  }
  std::printf("evil checkpoint headers: %zu cases, %zu refused, validation in 3 modes and restore "
              "in 2, trainer untouched on every refusal\n",
              cases, refused);
}

// ---- the version-2 schedule record ----
namespace {

// A trainer on reduce-on-plateau with a warm-up, two epochs reported, so every field of the
// record (config, base rate, scale, tracker) is live.
struct ScheduledSetup {
  OwnedModel m{small_spec(), training(OptimizerKind::kAdam, 2)};
  Trainer trainer;
  Rng rng{11};
  ScheduledSetup() {
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(0.01f);
    c.schedule = ScheduleConfig::plateau(1, 0.5, MetricMode::kMin, 1e-4).with_warmup(3);
    trainer = Trainer::create(m.model, c).value();
    float x[10] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f, 1.0f};
    std::int32_t y[2] = {1, 2};
    REQUIRE(trainer.step(ConstMatrixView(x, 2, 5), Targets::classes(y)).is_ok());
    REQUIRE(trainer.observe_metric(0.5).is_ok());
    REQUIRE(trainer.observe_metric(0.7).is_ok());  // one reduction: scale 0.5
  }
  // Everything a restore may write, schedule state included.
  Bytes state() const {
    Bytes b = param_bytes(m.model);
    const Bytes s0 = fennec_test::bytes_of(m.model.optimizer_state(0));
    b.insert(b.end(), s0.begin(), s0.end());
    const LrSchedule::State st = trainer.schedule().state();
    const double words[4] = {trainer.learning_rate(), trainer.schedule().base_lr(), st.scale, st.tracker.best};
    const std::uint64_t counts[4] = {trainer.step_count(), st.tracker.epochs, st.tracker.best_epoch,
                                     st.tracker.epochs_since_best};
    const unsigned char* w = reinterpret_cast<const unsigned char*>(words);
    const unsigned char* n = reinterpret_cast<const unsigned char*>(counts);
    b.insert(b.end(), w, w + sizeof words);
    b.insert(b.end(), n, n + sizeof counts);
    return b;
  }
  Bytes save(const void* user, std::size_t n) const {
    VectorSink sink;
    ByteWriter w = sink.writer();
    REQUIRE(save_checkpoint(trainer, rng, w, user, n).is_ok());
    return sink.bytes;
  }
};

}  // namespace

TEST_CASE("evil headers: every schedule-record field of a version-2 checkpoint, valid CRC", "[io][malformed][evil][checkpoint][schedule]") {
  const unsigned char blob[3] = {'p', 'o', 's'};
  ScheduledSetup writer;
  const Bytes good = writer.save(blob, sizeof blob);
  REQUIRE(read_checkpoint_info(good.data(), good.size())->version == 2);
  const std::size_t r = kCheckpointFixedHeader + kModelFileLayerRecord * writer.m.model.num_layers();
  const std::vector<Field> fields = {
      {"kind", r + 0, Kind::kU32},          {"mode", r + 4, Kind::kU32},          {"warmup", r + 8, Kind::kU64},
      {"step_size", r + 16, Kind::kU64},    {"decay_steps", r + 24, Kind::kU64},  {"patience", r + 32, Kind::kU64},
      {"gamma", r + 40, Kind::kU64},        {"min_lr", r + 48, Kind::kU64},       {"min_delta", r + 56, Kind::kU64},
      {"base lr", r + 64, Kind::kU64},      {"scale", r + 72, Kind::kU64},        {"best", r + 80, Kind::kU64},
      {"best epoch", r + 88, Kind::kU64},   {"epochs", r + 96, Kind::kU64},       {"since best", r + 104, Kind::kU64}};
  // f64 fields also get these bit patterns: +-inf, 1, 2, -1, 0.5, a denormal.
  const std::uint64_t f64s[] = {0x7FF0000000000000ull, 0xFFF0000000000000ull, 0x3FF0000000000000ull,
                                0x4000000000000000ull, 0xBFF0000000000000ull, 0x3FE0000000000000ull, 1ull};
  const std::string path = temp_dir() + "/evil-v2.ckpt";
  std::size_t cases = 0, refused = 0;
  for (const Field& f : fields) {
    std::vector<std::uint64_t> values = evil_values(good, f);
    if (f.offset >= r + 40 && f.offset < r + 88) values.insert(values.end(), std::begin(f64s), std::end(f64s));
    for (std::uint64_t v : values) {
      if (v == get(good, f)) continue;
      Bytes b = good;
      set(b, f, v);
      fix_crc(b);
      INFO(f.name << " = " << v);
      ++cases;
      const Status mem = read_checkpoint_info(b.data(), b.size()).status();
      ChunkSource src{&b, 9};
      ByteReader rd = src.reader();
      CHECK(read_checkpoint_info(rd).status().code() == mem.code());
      write_file(path, b);
      CHECK(read_checkpoint_file_info(path.c_str()).status().code() == mem.code());
      ScheduledSetup target;
      const Bytes before = target.state();
      unsigned char user[8] = {};
      const Status rm = restore_checkpoint(b.data(), b.size(), target.trainer, target.rng, user, sizeof user);
      ScheduledSetup target2;
      const Status rf = restore_checkpoint_file(path.c_str(), target2.trainer, target2.rng, user, sizeof user);
      CHECK(rf.code() == rm.code());
      if (!rm.is_ok()) {
        ++refused;
        CHECK(typed(rm));
        CHECK(target.state() == before);
        CHECK(target2.state() == before);
      } else {
        // Accepted: what the trainer now holds is written back as given (the base rate, like the
        // rate of version 1, is restored from the file), except the fields the plateau schedule
        // does not read (step_size, decay_steps) and another encoding of the trainer's own value
        // (-0 for 0), which stay the trainer's.
        const Bytes again = target.save(user, sizeof blob);
        double stored, own;
        const std::uint64_t own_bits = get(good, f);
        std::memcpy(&stored, &v, 8);
        std::memcpy(&own, &own_bits, 8);
        const bool same_value = f.offset >= r + 40 && f.offset < r + 64 && stored == own;
        const bool unused = f.name == "step_size" || f.name == "decay_steps";
        CHECK((again == b || ((unused || same_value) && again == good)));
      }
      if (f.name == "kind" || f.name == "mode" || f.name == "patience" || f.name == "warmup")
        CHECK_FALSE(rm.is_ok());  // the trainer's schedule differs (or the value is invalid)
    }
  }
  std::printf("evil schedule records: %zu cases, %zu refused, trainer untouched on every refusal\n", cases, refused);
}
