// SPDX-License-Identifier: Apache-2.0
// The file layer under attack and under faults: planted symlinks, a destination that cannot be
// renamed onto, models and checkpoints whose parameters are not finite, the PATH.tmp left by a
// kill between the two renames, a full and a read-only file system (a tmpfs mounted by the test
// when it runs as root), and a file truncated by another process while it is being loaded.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#include "fennec/quant_io.hpp"
#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

bool is_symlink(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string fresh_dir(const std::string& tag) {
  const std::string d = temp_dir() + "/" + tag;
  REQUIRE((::mkdir(d.c_str(), 0755) == 0 || errno == EEXIST));
  return d;
}

bool contains(const Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// A model with an Adam trainer that has taken one step.
struct Trained {
  OwnedModel m{small_spec(), training(OptimizerKind::kAdam, 2)};
  Trainer trainer;
  Rng rng{5};
  Trained() {
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(0.01f);
    trainer = Trainer::create(m.model, c).value();
    step();
  }
  void step() {
    float x[10] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f, 1.0f};
    std::int32_t y[2] = {1, 2};
    REQUIRE(trainer.step(ConstMatrixView(x, 2, 5), Targets::classes(y)).is_ok());
  }
};

}  // namespace

TEST_CASE("file io: a planted PATH.tmp symlink is never followed", "[io][file][fault]") {
  const std::string dir = fresh_dir("symlink");
  const std::string victim = dir + "/victim", out = dir + "/model.fnm";
  const Bytes secret = {'k', 'e', 'e', 'p', '\n'};
  write_file(victim, secret);
  REQUIRE(::symlink(victim.c_str(), (out + ".tmp").c_str()) == 0);
  OwnedModel m(small_spec(), inference());
  REQUIRE(save_model_file(m.model, out.c_str()).is_ok());
  CHECK(read_file(victim) == secret);  // the link's target is untouched
  CHECK_FALSE(is_symlink(out));        // PATH is a regular file, not the planted link
  CHECK(read_file(out) == save(m.model));
  CHECK_FALSE(exists(out + ".tmp"));

  // The same for checkpoints (both slots).
  Trained t;
  const std::string ck = dir + "/train.ckpt";
  REQUIRE(::symlink(victim.c_str(), (ck + ".tmp").c_str()) == 0);
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  REQUIRE(::symlink(victim.c_str(), (ck + ".tmp").c_str()) == 0);
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  CHECK(read_file(victim) == secret);
  CHECK_FALSE(is_symlink(ck));
  CHECK_FALSE(is_symlink(ck + ".prev"));
  CHECK(read_checkpoint_file_info(ck.c_str()).is_ok());
}

TEST_CASE("file io: a failed final rename removes the temporary", "[io][file][fault]") {
  const std::string dir = fresh_dir("rename");
  const std::string out = dir + "/out";
  REQUIRE(::mkdir(out.c_str(), 0755) == 0);  // OUT is a directory: rename(OUT.tmp, OUT) fails
  OwnedModel m(small_spec(), inference());
  const Status s = save_model_file(m.model, out.c_str());
  CHECK(s.code() == StatusCode::kIoError);
  CHECK(contains(s, out));
  CHECK_FALSE(exists(out + ".tmp"));
  CHECK(save_safetensors_file(m.model, out.c_str()).code() == StatusCode::kIoError);
  CHECK_FALSE(exists(out + ".tmp"));
}

TEST_CASE("file io: the int8 model file is written like the f32 one, and a failed rename leaves nothing",
          "[io][file][quant]") {
  const std::string dir = fresh_dir("int8");
  OwnedModel m(small_spec(), inference());
  const float cal[] = {0.1f, -0.4f, 0.9f, 0.5f, 0.2f, -1.f, 0.3f, 0.7f, -0.6f, 0.f};
  const QuantOptions o;
  std::vector<unsigned char> mem(quantized_plan(small_spec(), 1).total() + calibration_scratch_bytes(small_spec(), o) +
                                 kArenaAlignment);
  Arena a(mem.data(), mem.size());
  Result<QuantizedModel> q = quantize(m.model, ConstMatrixView(cal, 2, 5), o, a);
  REQUIRE(q.is_ok());
  Bytes expected(quantized_model_file_size(q.value()));
  MemoryWriter w(expected.data(), expected.size());
  ByteWriter bw = w.writer();
  REQUIRE(save_quantized_model(q.value(), bw).is_ok());

  const std::string out = dir + "/m.q8";
  REQUIRE(save_quantized_model_file(q.value(), out.c_str()).is_ok());
  CHECK(read_file(out) == expected);
  CHECK_FALSE(exists(out + ".tmp"));

  const std::string blocked = dir + "/blocked";
  REQUIRE(::mkdir(blocked.c_str(), 0755) == 0);
  const Status s = save_quantized_model_file(q.value(), blocked.c_str());
  CHECK(s.code() == StatusCode::kIoError);
  CHECK_FALSE(exists(blocked + ".tmp"));
}

TEST_CASE("file io: no model file or checkpoint is written from non-finite parameters", "[io][file][fault]") {
  const std::string dir = fresh_dir("nonfinite");
  const std::string model_path = dir + "/m.fnm", ck = dir + "/c.ckpt";
  Trained t;
  REQUIRE(save_model_file(t.m.model, model_path.c_str()).is_ok());
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  t.step();
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  const Bytes model_before = read_file(model_path), ck_before = read_file(ck),
              prev_before = read_file(ck + ".prev");
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    INFO("value " << bad);
    VectorView p = t.m.model.parameters();
    const float keep = p[3];
    p[3] = bad;
    CHECK(save_model_file(t.m.model, model_path.c_str()).code() == StatusCode::kNonFinite);
    CHECK(save_safetensors_file(t.m.model, (dir + "/m.safetensors").c_str()).code() ==
          StatusCode::kNonFinite);
    const Status cs = save_checkpoint_file(t.trainer, t.rng, ck.c_str());
    CHECK(cs.code() == StatusCode::kNonFinite);
    p[3] = keep;
    // Optimizer state too: a NaN moment would poison every later step.
    VectorView s1 = t.m.model.optimizer_state(1);
    const float keep_s = s1[2];
    s1[2] = bad;
    CHECK(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).code() == StatusCode::kNonFinite);
    s1[2] = keep_s;
    CHECK(read_file(model_path) == model_before);
    CHECK(read_file(ck) == ck_before);
    CHECK(read_file(ck + ".prev") == prev_before);
    CHECK_FALSE(exists(model_path + ".tmp"));
    CHECK_FALSE(exists(ck + ".tmp"));
    CHECK_FALSE(exists(dir + "/m.safetensors"));
  }
}

TEST_CASE("file io: a complete PATH.tmp newer than PATH.prev is used by resume", "[io][file][checkpoint]") {
  const std::string dir = fresh_dir("tmpslot");
  const std::string ck = dir + "/c.ckpt";
  Trained t;
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());  // step 1
  t.step();
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());  // step 2, step 1 in .prev
  t.step();
  // A kill between the two renames of the third save: PATH moved to .prev, PATH.tmp complete.
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_checkpoint(t.trainer, t.rng, w).is_ok());
  REQUIRE(std::rename(ck.c_str(), (ck + ".prev").c_str()) == 0);
  write_file(ck + ".tmp", sink.bytes);
  Result<CheckpointFileInfo> info = read_checkpoint_file_info(ck.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->slot == 2);
  CHECK(info->info.step == 3);
  Trained r;
  CheckpointFileInfo used;
  REQUIRE(restore_checkpoint_file(ck.c_str(), r.trainer, r.rng, nullptr, 0, &used).is_ok());
  CHECK(used.slot == 2);
  CHECK(r.trainer.step_count() == 3);
  CHECK(param_bytes(r.m.model) == param_bytes(t.m.model));

  // A torn PATH.tmp is not used: .prev (step 2) is.
  Bytes torn = sink.bytes;
  torn.resize(torn.size() / 2);
  write_file(ck + ".tmp", torn);
  info = read_checkpoint_file_info(ck.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->slot == 1);
  CHECK(info->info.step == 2);
  // A valid PATH.tmp that is not newer than .prev is not used either.
  std::remove((ck + ".tmp").c_str());
  REQUIRE(std::rename((ck + ".prev").c_str(), (ck + ".tmp").c_str()) == 0);
  Trained old;
  REQUIRE(save_checkpoint_file(old.trainer, old.rng, (ck + ".x").c_str()).is_ok());  // step 1
  REQUIRE(std::rename((ck + ".x").c_str(), (ck + ".prev").c_str()) == 0);
  info = read_checkpoint_file_info(ck.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->slot == 2);  // step 2 in .tmp beats step 1 in .prev
  write_file(ck + ".prev", read_file(ck + ".tmp"));
  info = read_checkpoint_file_info(ck.c_str());
  REQUIRE(info.is_ok());
  CHECK(info->slot == 1);  // equal steps: .prev, the slot that was renamed into place
}

namespace {

// A tmpfs of `kib` KiB mounted on a fresh directory for the duration of a test (root only).
class Tmpfs {
 public:
  Tmpfs(const std::string& tag, int kib) : dir_(fresh_dir(tag)) {
    const std::string opts = "size=" + std::to_string(kib) + "k";
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) why_ = ::geteuid() != 0 ? "not root" : std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& dir() const { return dir_; }
  bool remount_read_only() {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string dir_, why_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("file io: a full disk and a read-only directory keep the previous files", "[io][file][fault]") {
  // 64 KiB: the small model's files fit a few times; the wide one's do not.
  Tmpfs fs("tmpfs", 64);
  if (!fs.mounted()) {
    WARN("disk-fault test skipped: cannot mount a tmpfs (" << fs.why() << ")");
    return;
  }
  const std::string model_path = fs.dir() + "/m.fnm", ck = fs.dir() + "/c.ckpt";
  Trained t;
  REQUIRE(save_model_file(t.m.model, model_path.c_str()).is_ok());
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  t.step();
  REQUIRE(save_checkpoint_file(t.trainer, t.rng, ck.c_str()).is_ok());
  const Bytes model_before = read_file(model_path), ck_before = read_file(ck),
              prev_before = read_file(ck + ".prev");
  int faults = 0;
  SECTION("full") {
    // A model whose file (~80 KB) cannot fit: ENOSPC part way through the temporary.
    const ModelSpec wide = ModelSpec(100).dense(200, ActivationSpec::relu()).dense(2, ActivationSpec::identity());
    OwnedModel big(wide, training(OptimizerKind::kAdam, 1));
    const Status s = save_model_file(big.model, model_path.c_str());
    CHECK(s.code() == StatusCode::kIoError);
    CHECK(contains(s, model_path + ".tmp"));
    CHECK(contains(s, std::strerror(ENOSPC)));
    ++faults;
    TrainerConfig c;
    c.optimizer = OptimizerConfig::adam(0.01f);
    Trainer bt = Trainer::create(big.model, c).value();
    Rng rng(1);
    const Status cs = save_checkpoint_file(bt, rng, ck.c_str());
    CHECK(cs.code() == StatusCode::kIoError);
    CHECK(contains(cs, ck + ".tmp"));
    CHECK(contains(cs, std::strerror(ENOSPC)));
    ++faults;
    CHECK_FALSE(exists(model_path + ".tmp"));
    CHECK_FALSE(exists(ck + ".tmp"));
  }
  SECTION("read-only") {
    REQUIRE(fs.remount_read_only());
    const Status s = save_model_file(t.m.model, model_path.c_str());
    CHECK(s.code() == StatusCode::kIoError);
    CHECK(contains(s, model_path + ".tmp"));
    CHECK(contains(s, std::strerror(EROFS)));
    ++faults;
    t.step();
    const Status cs = save_checkpoint_file(t.trainer, t.rng, ck.c_str());
    CHECK(cs.code() == StatusCode::kIoError);
    CHECK(contains(cs, ck + ".tmp"));
    CHECK(contains(cs, std::strerror(EROFS)));
    ++faults;
  }
  CHECK(read_file(model_path) == model_before);
  CHECK(read_file(ck) == ck_before);
  CHECK(read_file(ck + ".prev") == prev_before);
  Trained r;
  REQUIRE(restore_checkpoint_file(ck.c_str(), r.trainer, r.rng).is_ok());
  std::printf("disk faults injected: %d\n", faults);
}

TEST_CASE("file io: a file truncated by another process during the load never crashes the loader", "[io][file][fault]") {
  // ~9 MB of parameters, so one load takes long enough for many truncations to land inside it.
  const ModelSpec spec = ModelSpec(784).dense(2048, ActivationSpec::relu()).dense(384, ActivationSpec::identity());
  const std::string path = temp_dir() + "/shrinking.safetensors";
  std::uint64_t full = 0;
  {
    OwnedModel m(spec, inference(1));
    REQUIRE(save_safetensors_file(m.model, path.c_str()).is_ok());
    full = safetensors_file_size(m.model);
  }
  const std::size_t arena_bytes = plan(spec, inference(1)).total();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    fennec_test::OwnedArena arena(arena_bytes);
    // Loads for 300 ms (each one a success or a typed error; a signal would end the child).
    const auto t0 = std::chrono::steady_clock::now();
    int loads = 0;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300) || loads < 10) {
      arena.arena.reset();
      Result<Model> r = load_safetensors_file(path.c_str(), SafetensorsImport{}, inference(1), arena.arena);
      if (!r.is_ok() && r.status().message()[0] == 0) ::_exit(2);
      ++loads;
    }
    ::_exit(0);
  }
  // Shrink to half and grow back (zeros) until the child is done.
  int truncations = 0, status = 0;
  for (;;) {
    const pid_t w = ::waitpid(child, &status, WNOHANG);
    REQUIRE(w >= 0);
    if (w == child) break;
    REQUIRE(::truncate(path.c_str(), static_cast<off_t>(full / 2)) == 0);
    ::usleep(200);
    REQUIRE(::truncate(path.c_str(), static_cast<off_t>(full)) == 0);
    ::usleep(200);
    ++truncations;
  }
  INFO("truncations " << truncations);
  CHECK(truncations > 0);
  CHECK(WIFEXITED(status));
  if (WIFSIGNALED(status)) FAIL("the loading process died of signal " << WTERMSIG(status));
  std::printf("truncate-under-load: %d truncations during the loads\n", truncations);
}
