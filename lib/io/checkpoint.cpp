// SPDX-License-Identifier: Apache-2.0
// Training checkpoints (format in include/fennec/checkpoint.hpp).
#include "fennec/checkpoint.hpp"

#include <cmath>
#include <cstring>

#include "io/file_preamble.hpp"
#include "io/io_util.hpp"

namespace fennec {

using namespace io_detail;

namespace {

constexpr std::size_t kOptim = 40;
constexpr std::size_t kStep = 88;
constexpr std::size_t kRng = 96;
constexpr std::size_t kUser = 128;
static_assert(kPreambleBytes + kSpecFixedBytes == kOptim, "layout");
static_assert(kUser + 8 == kCheckpointFixedHeader, "layout");

constexpr std::size_t kMaxHeader = kCheckpointFixedHeader +
                                   (kModelFileLayerRecord + kModelFileLayerOptionsRecord) * kMaxLayers +
                                   kCheckpointScheduleRecord + kCheckpointLayerStateRecord;

// A model with batch norm or dropout needs version 3 (layer options, running statistics, the
// dropout generator); otherwise a trainer whose schedule changes the rate needs version 2 (the
// schedule record); every other trainer writes version 1, byte for byte what earlier releases
// wrote.
std::uint32_t format_version(const Trainer& trainer) {
  if (has_layer_options(trainer.model().spec())) return 3;
  return trainer.schedule().varies() ? 2 : 1;
}

std::uint64_t header_size(std::uint32_t version, std::uint32_t num_layers) {
  return kCheckpointFixedHeader + kModelFileLayerRecord * std::uint64_t{num_layers} +
         (version >= 2 ? kCheckpointScheduleRecord : 0) +
         (version >= 3 ? kModelFileLayerOptionsRecord * std::uint64_t{num_layers} +
                             kCheckpointLayerStateRecord
                       : 0);
}

constexpr PreambleFormat kCheckpointPreamble = {
    kCheckpointMagic, "a Fennec training checkpoint (FENNECCK)", "checkpoint", "checkpoint header",
    kCheckpointFixedHeader, kCheckpointVersion, &header_size};

// The generator state as stored (u32 s[4], f64 bits of spare, u32 has_spare): 28 bytes.
void encode_rng(const Rng::State& s, unsigned char* p) {
  for (int i = 0; i < 4; ++i) store_u32(p + 4 * i, s.s[i]);
  std::uint64_t spare;
  std::memcpy(&spare, &s.spare, 8);
  store_u64(p + 16, spare);
  store_u32(p + 24, s.has_spare);
}

Status decode_rng(const unsigned char* p, Rng::State* out, const char* what) {
  Rng::State r{};
  for (int i = 0; i < 4; ++i) r.s[i] = load_u32(p + 4 * i);
  const std::uint64_t spare = load_u64(p + 16);
  std::memcpy(&r.spare, &spare, 8);
  r.has_spare = load_u32(p + 24);
  FENNEC_ENSURE(r.has_spare <= 1, StatusCode::kCorruptData, "%s has_spare is %lu", what,
                static_cast<unsigned long>(r.has_spare));
  FENNEC_ENSURE(r.s[0] | r.s[1] | r.s[2] | r.s[3], StatusCode::kCorruptData,
                "%s state is all zero (not a reachable xoshiro state)", what);
  FENNEC_ENSURE(!r.has_spare || (spare & 0x7ff0000000000000ull) != 0x7ff0000000000000ull,
                StatusCode::kCorruptData, "%s spare sample is not finite", what);
  *out = r;
  return Status::ok();
}

// The version-3 layer-state record: the dropout generator, reserved u32 0, u64 batches tracked.
void encode_layer_state(const Model& model, unsigned char* r) {
  std::memset(r, 0, kCheckpointLayerStateRecord);
  encode_rng(model.dropout_rng().state(), r);
  store_u64(r + 32, model.batches_tracked());
}

std::uint64_t f64_bits(double v) {
  std::uint64_t u;
  std::memcpy(&u, &v, 8);
  return u;
}

double bits_f64(std::uint64_t u) {
  double v;
  std::memcpy(&v, &u, 8);
  return v;
}

// The version-2 schedule record (layout in checkpoint.hpp).
void encode_schedule(const Trainer& trainer, unsigned char* r) {
  const ScheduleConfig& c = trainer.config().schedule;
  const LrSchedule::State& st = trainer.schedule().state();
  std::memset(r, 0, kCheckpointScheduleRecord);
  store_u32(r + 0, static_cast<std::uint32_t>(c.kind));
  store_u32(r + 4, static_cast<std::uint32_t>(c.mode));
  store_u64(r + 8, c.warmup_steps);
  store_u64(r + 16, c.step_size);
  store_u64(r + 24, c.decay_steps);
  store_u64(r + 32, c.patience);
  store_u64(r + 40, f64_bits(c.gamma));
  store_u64(r + 48, f64_bits(c.min_lr));
  store_u64(r + 56, f64_bits(c.min_delta));
  store_u64(r + 64, f64_bits(trainer.schedule().base_lr()));
  store_u64(r + 72, f64_bits(st.scale));
  store_u64(r + 80, f64_bits(st.tracker.best));
  store_u64(r + 88, st.tracker.best_epoch);
  store_u64(r + 96, st.tracker.epochs);
  store_u64(r + 104, st.tracker.epochs_since_best);
}

// Decodes and validates the record: the config, the base rate and the state must be what a
// Trainer can hold (kCorruptData otherwise).
Status decode_schedule(const unsigned char* r, CheckpointInfo* ci) {
  ScheduleConfig& c = ci->trainer.schedule;
  const std::uint32_t kind = load_u32(r + 0), mode = load_u32(r + 4);
  FENNEC_ENSURE(kind < kScheduleCount && mode <= 1, StatusCode::kCorruptData,
                "schedule kind %lu or metric mode %lu out of range", static_cast<unsigned long>(kind),
                static_cast<unsigned long>(mode));
  c.kind = static_cast<ScheduleKind>(kind);
  c.mode = static_cast<MetricMode>(mode);
  c.warmup_steps = load_u64(r + 8);
  c.step_size = load_u64(r + 16);
  c.decay_steps = load_u64(r + 24);
  c.patience = load_u64(r + 32);
  c.gamma = bits_f64(load_u64(r + 40));
  c.min_lr = bits_f64(load_u64(r + 48));
  c.min_delta = bits_f64(load_u64(r + 56));
  ci->trainer.optimizer.lr = bits_f64(load_u64(r + 64));
  ci->schedule_state.scale = bits_f64(load_u64(r + 72));
  ci->schedule_state.tracker.best = bits_f64(load_u64(r + 80));
  ci->schedule_state.tracker.best_epoch = load_u64(r + 88);
  ci->schedule_state.tracker.epochs = load_u64(r + 96);
  ci->schedule_state.tracker.epochs_since_best = load_u64(r + 104);
  // A Trainer keeps its base rate in float, so a stored one is a float value; checked as
  // Trainer::create would check it, so a trainer created from CheckpointInfo::trainer accepts it.
  const double base = ci->trainer.optimizer.lr;
  FENNEC_ENSURE(static_cast<double>(static_cast<float>(base)) == base, StatusCode::kCorruptData,
                "stored base learning rate %g is not a float value", base);
  const Status vo = validate(ci->trainer.optimizer);
  FENNEC_ENSURE(vo.is_ok(), StatusCode::kCorruptData, "stored base learning rate: %s", vo.message());
  Result<LrSchedule> schedule = LrSchedule::create(c, base);
  FENNEC_ENSURE(schedule.is_ok(), StatusCode::kCorruptData, "stored schedule: %s", schedule.status().message());
  const Status ss = schedule->set_state(ci->schedule_state);
  FENNEC_ENSURE(ss.is_ok(), StatusCode::kCorruptData, "stored schedule state: %s", ss.message());
  return Status::ok();
}

// The nine f32 fields of the header, in order: lr, momentum, rho, beta1, beta2, eps,
// weight_decay, clip max_norm, clip max_value. The optimizer's hyper-parameters are double in
// memory and f32 in this format version: they are compared at f32 precision, and read back as
// the shortest decimal that rounds to the stored float (shortest_decimal), except the learning
// rate, which a Trainer holds in float anyway and is read back exactly.
float config_field(const TrainerConfig& c, int i) {
  const double o[7] = {c.optimizer.lr,    c.optimizer.momentum, c.optimizer.rho,         c.optimizer.beta1,
                       c.optimizer.beta2, c.optimizer.eps,      c.optimizer.weight_decay};
  return i < 7 ? static_cast<float>(o[i]) : i == 7 ? c.clip.max_norm : c.clip.max_value;
}

// The double a stored f32 hyper-parameter most likely was: the decimal with the fewest
// significant digits (1 to 9) that rounds to `v`, as the nearest double (so a stored 0.999f
// comes back as 0.999, not 0.99900001287). Nine digits always round-trip a float, so the
// search ends; values beyond 1e-22..1e22 (never a rate) come back as the float itself.
double shortest_decimal(float v) {
  if (v == 0.f || !std::isfinite(v)) return v;
  const double a = std::fabs(static_cast<double>(v));
  const int e10 = static_cast<int>(std::floor(std::log10(a)));
  for (int digits = 1; digits <= 9; ++digits) {
    const int k = digits - 1 - e10;  // a * 10^k has `digits` digits before the point
    if (k > 22 || k < -22) break;
    double p = 1.0;
    for (int i = 0; i < (k < 0 ? -k : k); ++i) p *= 10.0;  // exact up to 10^22
    const double m = std::nearbyint(k >= 0 ? a * p : a / p);
    const double d = k >= 0 ? m / p : m * p;  // one correctly rounded operation
    if (static_cast<float>(d) == static_cast<float>(a)) return v < 0.f ? -d : d;
  }
  return v;
}

void set_config_field(TrainerConfig& c, int i, float v) {
  double* o[7] = {&c.optimizer.lr,    &c.optimizer.momentum, &c.optimizer.rho,         &c.optimizer.beta1,
                  &c.optimizer.beta2, &c.optimizer.eps,      &c.optimizer.weight_decay};
  if (i == 0)
    *o[i] = v;  // the trainer keeps its learning rate in float: exact
  else if (i < 7)
    *o[i] = shortest_decimal(v);
  else
    (i == 7 ? c.clip.max_norm : c.clip.max_value) = v;
}

std::size_t encode_header(const Trainer& trainer, const Rng& rng, std::uint64_t user_bytes,
                          unsigned char* h) {
  const Model& model = trainer.model();
  std::memset(h, 0, kCheckpointFixedHeader);
  std::memcpy(h, kCheckpointMagic, 8);
  const std::uint32_t version = format_version(trainer);
  store_u32(h + 8, version);
  unsigned char spec[kSpecMaxBytes];
  const std::size_t spec_bytes = encode_spec(model.spec(), spec, version >= 3);
  std::memcpy(h + kPreambleBytes, spec, kSpecFixedBytes);
  std::memcpy(h + kCheckpointFixedHeader, spec + kSpecFixedBytes, spec_bytes - kSpecFixedBytes);
  std::size_t n = kCheckpointFixedHeader + (spec_bytes - kSpecFixedBytes);
  if (version >= 2) {
    encode_schedule(trainer, h + n);
    n += kCheckpointScheduleRecord;
  }
  if (version >= 3) {
    encode_layer_state(model, h + n);
    n += kCheckpointLayerStateRecord;
  }
  store_u32(h + 12, static_cast<std::uint32_t>(n));
  TrainerConfig c = trainer.config();
  store_u32(h + kOptim, static_cast<std::uint32_t>(c.optimizer.kind));
  store_u32(h + kOptim + 4, static_cast<std::uint32_t>(optimizer_state_slots(c.optimizer.kind)));
  for (int i = 0; i < 9; ++i) store_f32(h + kOptim + 8 + 4 * i, config_field(c, i));
  store_u64(h + kStep, trainer.step_count());
  encode_rng(rng.state(), h + kRng);
  store_u64(h + kUser, user_bytes);
  return n;
}

bool same_config_but_lr(const TrainerConfig& a, const TrainerConfig& b) {
  if (a.optimizer.kind != b.optimizer.kind) return false;
  for (int i = 1; i < 9; ++i)
    if (config_field(a, i) != config_field(b, i)) return false;
  return true;
}

void zero_state(Model& model) {
  VectorView p = model.parameters();
  if (p.size) std::memset(p.data, 0, p.size * sizeof(float));
  for (std::size_t s = 0; s < 2; ++s) {
    VectorView v = model.optimizer_state(s);
    if (v.size) std::memset(v.data, 0, v.size * sizeof(float));
  }
}

// Format version 1 stores optimizer state for every parameter: a model with frozen layers has
// state for the trainable ones only, so it is refused (save its model file instead: frozen
// weights do not change, and a fine-tune restarts from the model file and a fresh optimizer).
Status check_checkpointable(const Model& model, const char* who) {
  FENNEC_ENSURE(model.frozen_layers() == 0, StatusCode::kUnsupported,
                "%s: the model has %zu frozen layers; checkpoints hold optimizer state for every "
                "layer (save_model keeps a frozen model's weights)",
                who, model.frozen_layers());
  return Status::ok();
}

// The fixed header after the preamble: optimizer, config, step, generator, user blob size.
Status decode_trainer_fields(const unsigned char* h, CheckpointInfo* ci) {
  const std::uint32_t kind = load_u32(h + kOptim), slots = load_u32(h + kOptim + 4);
  FENNEC_ENSURE(kind < static_cast<std::uint32_t>(kOptimizerCount), StatusCode::kCorruptData,
                "optimizer kind %lu out of range", static_cast<unsigned long>(kind));
  ci->trainer.optimizer.kind = static_cast<OptimizerKind>(kind);
  FENNEC_ENSURE(slots == optimizer_state_slots(ci->trainer.optimizer.kind), StatusCode::kCorruptData,
                "%lu optimizer state slots, %s keeps %zu", static_cast<unsigned long>(slots),
                optimizer_name(ci->trainer.optimizer.kind),
                optimizer_state_slots(ci->trainer.optimizer.kind));
  for (int i = 0; i < 9; ++i) set_config_field(ci->trainer, i, load_f32(h + kOptim + 8 + 4 * i));
  const Status vo = validate(ci->trainer.optimizer);
  FENNEC_ENSURE(vo.is_ok(), StatusCode::kCorruptData, "stored optimizer config: %s", vo.message());
  const Status vc = validate(ci->trainer.clip);
  FENNEC_ENSURE(vc.is_ok(), StatusCode::kCorruptData, "stored clip config: %s", vc.message());
  // The latest step's rate; a version-2 schedule record then replaces optimizer.lr with the base.
  ci->learning_rate = ci->trainer.optimizer.lr;
  FENNEC_ENSURE(load_u32(h + 84) == 0 && load_u32(h + kRng + 28) == 0, StatusCode::kCorruptData,
                "reserved header fields are not zero");
  ci->step = load_u64(h + kStep);
  FENNEC_ENSURE(ci->step <= kMaxStepCount, StatusCode::kCorruptData,
                "step count %llu above the %llu limit (2^53)", static_cast<unsigned long long>(ci->step),
                static_cast<unsigned long long>(kMaxStepCount));
  FENNEC_RETURN_IF_ERROR(decode_rng(h + kRng, &ci->rng, "rng"));
  ci->user_bytes = load_u64(h + kUser);
  FENNEC_ENSURE(ci->user_bytes <= kCheckpointMaxUserBytes, StatusCode::kCorruptData,
                "user blob of %llu bytes above the %llu limit",
                static_cast<unsigned long long>(ci->user_bytes),
                static_cast<unsigned long long>(kCheckpointMaxUserBytes));
  return Status::ok();
}

// The variable part of the header, read into `h` after its fixed part: the layer records (with
// their options from version 3), the schedule record (version 2) and the layer-state record
// (version 3).
Status read_header_records(Input& in, const SpecFixed& f, unsigned char* h, CheckpointInfo* ci) {
  const std::uint32_t version = ci->version;
  const std::size_t records =
      (kModelFileLayerRecord + (version >= 3 ? kModelFileLayerOptionsRecord : 0)) * f.num_layers;
  FENNEC_RETURN_IF_ERROR(in.read(h + kCheckpointFixedHeader, records, "layer records"));
  const unsigned char* options =
      version >= 3 ? h + kCheckpointFixedHeader + kModelFileLayerRecord * f.num_layers : nullptr;
  FENNEC_RETURN_IF_ERROR(decode_spec_layers(f, h + kCheckpointFixedHeader, options, &ci->spec));
  unsigned char* record = h + kCheckpointFixedHeader + records;
  if (version >= 2) {
    FENNEC_RETURN_IF_ERROR(in.read(record, kCheckpointScheduleRecord, "schedule record"));
    FENNEC_RETURN_IF_ERROR(decode_schedule(record, ci));
    record += kCheckpointScheduleRecord;
  }
  if (version >= 3) {
    FENNEC_RETURN_IF_ERROR(in.read(record, kCheckpointLayerStateRecord, "layer-state record"));
    FENNEC_RETURN_IF_ERROR(decode_rng(record, &ci->dropout_rng, "dropout rng"));
    FENNEC_ENSURE(load_u32(record + 28) == 0, StatusCode::kCorruptData, "reserved layer-state field is not zero");
    ci->batches_tracked = load_u64(record + 32);
  }
  return Status::ok();
}

// Step 1 of a read: the whole header, validated into `ci`.
Status decode_header(Input& in, CheckpointInfo* ci) {
  unsigned char h[kMaxHeader];
  Preamble pre;
  FENNEC_RETURN_IF_ERROR(read_preamble(in, kCheckpointPreamble, h, &pre));
  ci->version = pre.version;
  FENNEC_RETURN_IF_ERROR(decode_trainer_fields(h, ci));
  FENNEC_RETURN_IF_ERROR(read_header_records(in, pre.spec, h, ci));
  ci->parameter_count = pre.spec.param_count;
  ci->state_count = layer_state_count(ci->spec);
  const std::uint64_t slots = optimizer_state_slots(ci->trainer.optimizer.kind);
  std::uint64_t total = 0;
  FENNEC_ENSURE(mul_u64(ci->parameter_count, 4 * (1 + slots), &total) &&
                    add_u64(total, 4 * ci->state_count, &total) &&
                    add_u64(total, pre.header_bytes, &total) &&
                    add_u64(total, ci->user_bytes, &total) && add_u64(total, 4, &total),
                StatusCode::kCorruptData, "checkpoint size overflows");
  ci->file_bytes = total;
  return Status::ok();
}

struct Target {
  Trainer* trainer = nullptr;
  Rng* rng = nullptr;
  void* user = nullptr;
  std::size_t user_capacity = 0;
};

// Step 2 of a restore: whether the checkpoint fits `target`, before anything is written. On
// success `staged` is the trainer as it will be afterwards (step count, schedule, rate), so what
// can still fail there fails now.
Status check_compatible(const CheckpointInfo& ci, const Target& target, Trainer* staged) {
  const Trainer& t = *target.trainer;
  FENNEC_RETURN_IF_ERROR(check_checkpointable(t.model(), "restore_checkpoint"));
  FENNEC_ENSURE(same_network(ci.spec, t.model().spec()), StatusCode::kShapeMismatch,
                "the checkpoint's network differs from the trainer's model");
  FENNEC_ENSURE(same_config_but_lr(ci.trainer, t.config()), StatusCode::kFailedPrecondition,
                "the checkpoint was written with a different optimizer or clipping config "
                "(create the Trainer from CheckpointInfo::trainer)");
  FENNEC_ENSURE(same_schedule(ci.trainer.schedule, t.config().schedule), StatusCode::kFailedPrecondition,
                "the checkpoint was written with the %s schedule (warm-up %llu steps), the trainer "
                "has %s (warm-up %llu) or other parameters (create the Trainer from "
                "CheckpointInfo::trainer)",
                schedule_name(ci.trainer.schedule.kind),
                static_cast<unsigned long long>(ci.trainer.schedule.warmup_steps),
                schedule_name(t.config().schedule.kind),
                static_cast<unsigned long long>(t.config().schedule.warmup_steps));
  *staged = t;
  FENNEC_RETURN_IF_ERROR(staged->set_step_count(ci.step));
  if (ci.version >= 2) {
    FENNEC_RETURN_IF_ERROR(staged->restore_schedule(ci.trainer.optimizer.lr, ci.learning_rate, ci.schedule_state));
  } else if (static_cast<float>(t.config().optimizer.lr) != config_field(ci.trainer, 0)) {
    // A caller's own schedule may have changed the rate; the trainer's value stays when it is
    // the stored one (f32 precision), so a resumed run computes exactly what an unbroken one does.
    FENNEC_RETURN_IF_ERROR(staged->set_learning_rate(ci.trainer.optimizer.lr));
  }
  FENNEC_ENSURE(ci.user_bytes <= target.user_capacity, StatusCode::kOutOfMemory,
                "user blob of %llu bytes does not fit the %zu-byte buffer",
                static_cast<unsigned long long>(ci.user_bytes), target.user_capacity);
  FENNEC_ENSURE(target.user != nullptr || ci.user_bytes == 0, StatusCode::kInvalidArgument,
                "null user buffer");
  return Status::ok();
}

// Step 3: the user blob, parameters, optimizer state, running statistics and CRC, read into
// `model` and `user`, or only validated when `model` is null. A failure after values were
// written zeroes them.
Status read_payload(Input& in, const CheckpointInfo& ci, Model* model, void* user) {
  Status s;
  if (model && ci.user_bytes) {
    s = in.read(user, static_cast<std::size_t>(ci.user_bytes), "user blob");
  } else {
    s = in.skip(ci.user_bytes, "user blob");
  }
  std::uint64_t non_finite = 0;
  if (s.is_ok())
    s = read_block(in, model, ci.spec, model ? model->parameters().data : nullptr, "parameters",
                   &non_finite);
  const std::size_t slots = optimizer_state_slots(ci.trainer.optimizer.kind);
  for (std::size_t k = 0; k < slots && s.is_ok(); ++k)
    s = read_block(in, model, ci.spec, model ? model->optimizer_state(k).data : nullptr,
                   "optimizer state", &non_finite);
  if (s.is_ok()) s = read_layer_state(in, model, ci.spec, &non_finite);
  if (s.is_ok()) s = in.check_crc();
  if (s.is_ok()) s = in.expect_end();
  if (!s.is_ok() && model) {
    zero_state(*model);
    model->reset_batchnorm_state();
  }
  return s;
}

// Reads one checkpoint. With a null target only validates; with one, checks compatibility before
// writing anything, then writes while reading, and sets the trainer and generators last.
Status parse(ByteReader& reader, CheckpointInfo* info, const Target& target) {
  Input in(reader);
  CheckpointInfo ci;
  FENNEC_RETURN_IF_ERROR(decode_header(in, &ci));
  Trainer staged;
  Model* model = nullptr;
  if (target.trainer) {
    FENNEC_RETURN_IF_ERROR(check_compatible(ci, target, &staged));
    model = &target.trainer->model();
  }
  FENNEC_RETURN_IF_ERROR(read_payload(in, ci, model, target.user));
  if (target.trainer) {
    *target.trainer = staged;
    target.rng->set_state(ci.rng);
    if (ci.version >= 3) {
      model->dropout_rng().set_state(ci.dropout_rng);
      model->set_batches_tracked(ci.batches_tracked);
    }
  }
  if (info) *info = ci;
  return Status::ok();
}

}  // namespace

std::uint64_t checkpoint_file_size(const Trainer& trainer, std::size_t user_bytes) {
  std::uint64_t params = 0;
  parameter_count(trainer.model().spec(), &params);
  const std::uint64_t slots = optimizer_state_slots(trainer.config().optimizer.kind);
  const auto layers = static_cast<std::uint32_t>(trainer.model().num_layers());
  return header_size(format_version(trainer), layers) + user_bytes + 4 * params * (1 + slots) +
         4 * layer_state_count(trainer.model().spec()) + 4;
}

Status save_checkpoint(const Trainer& trainer, const Rng& rng, ByteWriter& writer, const void* user,
                       std::size_t user_bytes) {
  FENNEC_ENSURE(trainer.model().is_bound(), StatusCode::kFailedPrecondition,
                "save_checkpoint: model is not bound");
  FENNEC_ENSURE(user_bytes <= kCheckpointMaxUserBytes, StatusCode::kInvalidArgument,
                "user blob of %zu bytes above the limit", user_bytes);
  FENNEC_ENSURE(user != nullptr || user_bytes == 0, StatusCode::kInvalidArgument, "null user blob");
  // A diverged model must not become a valid slot (pushing the last good one towards .prev).
  const Model& m = trainer.model();
  FENNEC_RETURN_IF_ERROR(check_checkpointable(m, "save_checkpoint"));
  FENNEC_RETURN_IF_ERROR(check_block_finite(m, m.parameters().data, "parameters"));
  for (std::size_t k = 0; k < optimizer_state_slots(trainer.config().optimizer.kind); ++k)
    FENNEC_RETURN_IF_ERROR(check_block_finite(m, m.optimizer_state(k).data, "optimizer state"));
  unsigned char h[kMaxHeader];
  const std::size_t n = encode_header(trainer, rng, user_bytes, h);
  Output out(writer);
  FENNEC_RETURN_IF_ERROR(out.write(h, n));
  if (user_bytes) FENNEC_RETURN_IF_ERROR(out.write(user, user_bytes));
  const Model& model = trainer.model();
  FENNEC_RETURN_IF_ERROR(write_parameters(out, model));
  for (std::size_t k = 0; k < optimizer_state_slots(trainer.config().optimizer.kind); ++k)
    FENNEC_RETURN_IF_ERROR(write_block(out, model, model.optimizer_state(k).data));
  FENNEC_RETURN_IF_ERROR(write_layer_state(out, model));
  return out.finish_crc();
}

Result<CheckpointInfo> read_checkpoint_info(ByteReader& in) {
  CheckpointInfo info;
  FENNEC_RETURN_IF_ERROR(parse(in, &info, Target{}));
  return info;
}

Status restore_checkpoint(ByteReader& in, Trainer& trainer, Rng& rng, void* user,
                          std::size_t user_capacity) {
  Target t;
  t.trainer = &trainer;
  t.rng = &rng;
  t.user = user;
  t.user_capacity = user_capacity;
  return parse(in, nullptr, t);
}

Result<CheckpointInfo> read_checkpoint_info(const void* data, std::size_t size) {
  FENNEC_ENSURE(data != nullptr || size == 0, StatusCode::kInvalidArgument, "null data");
  MemoryReader mr(data, size);
  ByteReader r = mr.reader();
  Result<CheckpointInfo> info = read_checkpoint_info(r);
  if (!info.is_ok()) return info;
  FENNEC_ENSURE(info->file_bytes == size, StatusCode::kCorruptData,
                "checkpoint is %zu bytes, its header describes %llu", size,
                static_cast<unsigned long long>(info->file_bytes));
  return info;
}

Status restore_checkpoint(const void* data, std::size_t size, Trainer& trainer, Rng& rng,
                          void* user, std::size_t user_capacity) {
  Result<CheckpointInfo> info = read_checkpoint_info(data, size);
  if (!info.is_ok()) return info.status();
  MemoryReader mr(data, size);
  ByteReader r = mr.reader();
  return restore_checkpoint(r, trainer, rng, user, user_capacity);
}

}  // namespace fennec
