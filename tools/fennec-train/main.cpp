// SPDX-License-Identifier: Apache-2.0
// fennec-train: train an MLP classifier on an MNIST-family data set (Fashion-MNIST by default).
//
// Setup (may allocate, may throw): parse flags, read the IDX files (images kept as bytes), plan
// the model, take one buffer for the arena, bind, initialise (or restore a checkpoint). Training
// (must not allocate): shuffle indices held in the arena, convert each batch of bytes to floats in
// an arena buffer, Trainer::step, write checkpoints, evaluate on the test set each epoch. The
// allocation counter proves the second part allocates nothing.
//
// Resuming is bit-exact because an epoch's data order is a function of the Rng state at the start
// of that epoch only (identity permutation, then Fisher-Yates): a checkpoint stores that state and
// the position (epoch, next batch), never the permutation.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io_file.hpp>

#include "common/alloc_counter.hpp"
#include "common/args.hpp"
#include "common/mnist.hpp"

namespace {

using fennec_tools::ArgError;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultData = "/usr/share/datasets/fashion-mnist";

const char* const kUsage =
    "usage: fennec-train [--data DIR] [--hidden 512,256|none] [--activation relu|leaky_relu|tanh|sigmoid]\n"
    "                    [--init he|xavier|glorot|normal:SIGMA|zeros|...]\n"
    "                    [--optimizer sgd|momentum|nesterov|adagrad|rmsprop|adam|adamw]\n"
    "                    [--lr X] [--batch N] [--epochs N] [--clip-norm X] [--weight-decay X]\n"
    "                    [--seed N] [--isa auto|ref|sse2|avx2|avx512|neon|neon64]\n"
    "                    [--train-samples N] [--save FILE] [--no-progress]\n"
    "                    [--checkpoint FILE [--checkpoint-every N] [--resume]]\n"
    "Trains an MLP (softmax cross-entropy) on the IDX files in DIR\n"
    "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,\n"
    "t10k-labels-idx1-ubyte, each plain or .gz). Default DIR: /usr/share/datasets/fashion-mnist.\n"
    "Defaults: --hidden 512,256 --activation relu --init he --optimizer adam --lr (optimizer's\n"
    "default; adam 1e-3) --batch 64 --epochs 5 --seed 1. --train-samples uses only the first N\n"
    "training images. --save writes the trained model as a Fennec model file (io.hpp).\n"
    "--checkpoint FILE writes a crash-safe training checkpoint (parameters, optimizer state, step\n"
    "counter, RNG state, data-order position) at the end of every epoch, and also after every N-th\n"
    "step with --checkpoint-every N; the one before is kept as FILE.prev. --resume continues from\n"
    "FILE (from FILE.prev, with a warning, when FILE is missing, torn or corrupt) up to --epochs in\n"
    "total, giving the same weights as a run that never stopped: pass the same --data, --hidden,\n"
    "--activation, --optimizer, --lr, --clip-norm, --weight-decay, --batch and --train-samples as\n"
    "the run that wrote it (--seed and --init are then taken from the checkpoint).\n";

struct Config {
  std::string data = kDefaultData;
  std::vector<std::uint32_t> hidden;
  fennec::ActivationSpec activation = fennec::ActivationSpec::relu();
  fennec::Init init = fennec::Init::he_normal();
  fennec::OptimizerConfig optimizer = fennec::OptimizerConfig::adam();
  fennec::ClipConfig clip{};
  std::size_t batch = 64;
  std::size_t epochs = 5;
  std::uint64_t seed = 1;
  fennec::Isa isa = fennec::Isa::kAuto;
  std::size_t train_samples = 0;  // 0: all
  bool progress = true;
  std::string save;  // model file written after training ("" = none)
  std::string checkpoint;          // "" = no checkpoints
  std::size_t checkpoint_every = 0;  // steps; 0 = epoch ends only
  bool resume = false;
};

Config parse(int argc, char** argv) {
  fennec_tools::Args a(argc, argv,
                       {{"data", true}, {"hidden", true}, {"activation", true}, {"init", true},
                        {"optimizer", true}, {"lr", true}, {"batch", true}, {"epochs", true},
                        {"clip-norm", true}, {"weight-decay", true}, {"seed", true},
                        {"save", true}, {"isa", true}, {"train-samples", true},
                        {"checkpoint", true}, {"checkpoint-every", true}, {"resume", false},
                        {"no-progress", false}, {"help", false}});
  Config c;
  if (a.has("help")) {
    std::fputs(kUsage, stdout);
    std::exit(0);
  }
  c.save = a.str("save", "");
  if (a.has("save") && c.save.empty()) throw ArgError("--save needs a file name");
  if (!c.save.empty()) fennec_tools::check_output_path(c.save, "--save");
  c.checkpoint = a.str("checkpoint", "");
  if (a.has("checkpoint") && c.checkpoint.empty()) throw ArgError("--checkpoint needs a file name");
  if (!c.checkpoint.empty()) fennec_tools::check_output_path(c.checkpoint, "--checkpoint");
  c.resume = a.has("resume");
  if (c.resume && c.checkpoint.empty())
    throw ArgError("--resume needs --checkpoint FILE (the checkpoint to continue from)");
  if (a.has("checkpoint-every") && c.checkpoint.empty())
    throw ArgError("--checkpoint-every needs --checkpoint FILE");
  c.checkpoint_every =
      static_cast<std::size_t>(a.integer("checkpoint-every", 0, 1, UINT64_MAX));
  c.data = a.str("data", kDefaultData);
  if (c.data.empty()) throw ArgError("--data needs a directory");
  c.hidden = a.widths("hidden", "512,256");
  c.activation = fennec_tools::parse_activation_spec(a.str("activation", "relu"), "--activation");
  c.init = fennec_tools::parse_init(a.str("init", "he"), "--init");
  const std::string opt = a.str("optimizer", "adam");
  fennec::Result<fennec::OptimizerKind> kind = fennec::parse_optimizer(opt.c_str());
  if (!kind.is_ok()) {
    throw ArgError("--optimizer: unknown optimizer '" + opt +
                   "' (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw)");
  }
  c.optimizer = fennec::OptimizerConfig::defaults(kind.value());
  c.optimizer.lr = a.positive("lr", c.optimizer.lr);
  c.optimizer.weight_decay = a.non_negative("weight-decay", c.optimizer.weight_decay);
  fennec::Status s = fennec::validate(c.optimizer);
  if (!s.is_ok()) throw ArgError(std::string("optimizer settings: ") + s.message());
  c.clip.max_norm = static_cast<float>(a.non_negative("clip-norm", 0.0));
  c.batch = static_cast<std::size_t>(a.integer("batch", 64, 1, 1u << 16));
  c.epochs = static_cast<std::size_t>(a.integer("epochs", 5, 1, 100000));
  c.seed = a.integer("seed", 1, 0, UINT64_MAX);
  c.train_samples = static_cast<std::size_t>(a.integer("train-samples", 0, 1, UINT32_MAX));
  c.isa = fennec_tools::isa_flag(a, c.isa);
  c.progress = !a.has("no-progress");
  return c;
}

int fail(const char* what, const fennec::Status& s) {
  std::fprintf(stderr, "fennec-train: error: %s: %s (%s)\n", what, s.message(),
               fennec::status_code_name(s.code()));
  return 1;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Fill x (rows x pixels) and labels from the byte images at `indices`.
void make_batch(const fennec_tools::IdxArray& images, const fennec_tools::IdxArray& labels,
                const std::uint32_t* indices, std::size_t rows, std::size_t pixels, float* x,
                std::int32_t* y) {
  constexpr float kScale = 1.0f / 255.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* src = images.data.data() + std::size_t{indices[r]} * pixels;
    float* dst = x + r * pixels;
    for (std::size_t j = 0; j < pixels; ++j) dst[j] = static_cast<float>(src[j]) * kScale;
    y[r] = labels.data[indices[r]];
  }
}

void progress_bar(std::size_t epoch, std::size_t epochs, std::size_t done, std::size_t total,
                  double loss) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / (total ? total : 1));
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  std::printf("\repoch %zu/%zu [%s] %3zu%%  loss %.4f", epoch, epochs, bar,
              done * 100 / (total ? total : 1), loss);
  std::fflush(stdout);
}

// The checkpoint's user blob: where the data order stands. Little-endian u64 fields:
//   0 tag "FTRAIN01", 8 epoch (1-based, in progress), 16 next batch in that epoch, 24 --batch,
//   32 training images used, 40 f64 bits of the epoch's summed loss so far, 48 its correct count.
// The checkpoint's Rng state is the one at the start of `epoch`, before its shuffle.
constexpr char kPositionTag[8] = {'F', 'T', 'R', 'A', 'I', 'N', '0', '1'};
constexpr std::size_t kPositionBytes = 56;

struct Position {
  std::uint64_t epoch = 1;
  std::uint64_t batch = 0;
  std::uint64_t batch_size = 0;
  std::uint64_t train_count = 0;
  double loss_sum = 0;
  std::uint64_t correct = 0;
};

void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void encode_position(const Position& pos, unsigned char* out) {
  std::memcpy(out, kPositionTag, 8);
  put_u64(out + 8, pos.epoch);
  put_u64(out + 16, pos.batch);
  put_u64(out + 24, pos.batch_size);
  put_u64(out + 32, pos.train_count);
  std::uint64_t bits;
  std::memcpy(&bits, &pos.loss_sum, 8);
  put_u64(out + 40, bits);
  put_u64(out + 48, pos.correct);
}

Position decode_position(const unsigned char* in) {
  Position pos;
  pos.epoch = get_u64(in + 8);
  pos.batch = get_u64(in + 16);
  pos.batch_size = get_u64(in + 24);
  pos.train_count = get_u64(in + 32);
  const std::uint64_t bits = get_u64(in + 40);
  std::memcpy(&pos.loss_sum, &bits, 8);
  pos.correct = get_u64(in + 48);
  return pos;
}

// Identity, then Fisher-Yates from `rng`: the order depends on the generator's state only.
void shuffle(std::uint32_t* order, std::size_t n, fennec::Rng& rng) {
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = n - 1; i > 0; --i) {
    const std::size_t j = rng.below(static_cast<std::uint32_t>(i + 1));
    const std::uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

double peak_rss_mib() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  try {
    cfg = parse(argc, argv);
  } catch (const ArgError& e) {
    std::fprintf(stderr, "fennec-train: error: %s\nRun 'fennec-train --help' for usage.\n", e.what());
    return 2;
  }

  // ---- setup: data --------------------------------------------------------------------------
  const Clock::time_point t_load = Clock::now();
  fennec_tools::MnistSet data;
  std::string error;
  if (!fennec_tools::load_mnist_dir(cfg.data, data, error)) {
    std::fprintf(stderr, "fennec-train: error: %s\n", error.c_str());
    return 1;
  }
  std::size_t n_train = data.train_count();
  if (cfg.train_samples) {
    if (cfg.train_samples > n_train) {
      std::fprintf(stderr, "fennec-train: error: --train-samples %zu exceeds the %zu training images\n",
                   cfg.train_samples, n_train);
      return 2;
    }
    n_train = cfg.train_samples;
  }
  const std::size_t n_test = data.test_count();
  const std::size_t pixels = data.pixels();
  std::printf("data: %s: %zu train, %zu test images of %zux%zu, %zu classes (%.2f s)\n",
              cfg.data.c_str(), n_train, n_test, data.rows, data.cols, data.classes,
              seconds_since(t_load));

  // ---- setup: model -------------------------------------------------------------------------
  fennec::ModelSpec spec(static_cast<std::uint32_t>(pixels));
  for (std::uint32_t h : cfg.hidden) spec.dense(h, cfg.activation, cfg.init);
  spec.dense(static_cast<std::uint32_t>(data.classes), fennec::ActivationSpec::identity(), cfg.init);
  spec.with_loss(fennec::Loss::kSoftmaxCrossEntropy);
  fennec::Status s = fennec::validate(spec);
  if (!s.is_ok()) return fail("model", s);

  fennec::ModelOptions options;
  options.mode = fennec::Mode::kTraining;
  options.max_batch = cfg.batch;
  options.optimizer = cfg.optimizer.kind;
  options.isa = cfg.isa;
  const fennec::MemoryPlan mplan = fennec::plan(spec, options);

  // One buffer: the model, one batch of floats and labels, the shuffled training indices.
  const std::size_t x_bytes = fennec::arena_round_up(cfg.batch * pixels * sizeof(float));
  const std::size_t y_bytes = fennec::arena_round_up(cfg.batch * sizeof(std::int32_t));
  const std::size_t train_idx_bytes = fennec::arena_round_up(n_train * sizeof(std::uint32_t));
  const std::size_t test_idx_bytes = fennec::arena_round_up(n_test * sizeof(std::uint32_t));
  const std::size_t capacity = mplan.total() + x_bytes + y_bytes + train_idx_bytes + test_idx_bytes;
  void* buffer = ::operator new(capacity, std::align_val_t{fennec::kArenaAlignment}, std::nothrow);
  if (!buffer) {
    std::fprintf(stderr, "fennec-train: error: cannot allocate a %zu-byte arena\n", capacity);
    return 1;
  }
  fennec::Arena arena(buffer, capacity);

  fennec::Result<fennec::Model> bound = fennec::Model::bind(spec, options, arena);
  if (!bound.is_ok()) return fail("binding the model", bound.status());
  fennec::Model& model = bound.value();
  fennec::Rng rng(cfg.seed);
  if (!cfg.resume) {
    s = model.init_parameters(rng);
    if (!s.is_ok()) return fail("initialising parameters", s);
  }
  fennec::TrainerConfig tcfg;
  tcfg.optimizer = cfg.optimizer;
  tcfg.clip = cfg.clip;
  fennec::Result<fennec::Trainer> created = fennec::Trainer::create(model, tcfg);
  if (!created.is_ok()) return fail("creating the trainer", created.status());
  fennec::Trainer& trainer = created.value();

  Position pos;
  pos.batch_size = cfg.batch;
  pos.train_count = n_train;
  if (cfg.resume) {
    const char* path = cfg.checkpoint.c_str();
    if (!file_exists(cfg.checkpoint) && !file_exists(cfg.checkpoint + ".prev")) {
      std::fprintf(stderr, "fennec-train: error: --resume: no checkpoint %s (nor %s.prev)\n", path,
                   path);
      return 1;
    }
    fennec::Result<fennec::CheckpointFileInfo> found = fennec::read_checkpoint_file_info(path);
    if (!found.is_ok()) return fail("--resume: no usable checkpoint", found.status());
    const fennec::CheckpointInfo& ci = found->info;
    // The checkpoint keeps the rate at f32 precision.
    if (static_cast<float>(ci.trainer.optimizer.lr) != static_cast<float>(cfg.optimizer.lr)) {
      std::fprintf(stderr,
                   "fennec-train: error: --resume: the checkpoint was written with --lr %g, not %g\n",
                   static_cast<double>(ci.trainer.optimizer.lr),
                   static_cast<double>(cfg.optimizer.lr));
      return 1;
    }
    if (ci.user_bytes != kPositionBytes) {
      std::fprintf(stderr,
                   "fennec-train: error: --resume: %s is a Fennec checkpoint but not one written by "
                   "fennec-train (%llu-byte position record, expected %zu)\n",
                   path, static_cast<unsigned long long>(ci.user_bytes), kPositionBytes);
      return 1;
    }
    if (found->slot == 2) {
      std::fprintf(stderr,
                   "fennec-train: warning: checkpoint %s %s; resuming from %s.tmp, complete and later "
                   "than %s.prev (a save was interrupted between its two renames)\n",
                   path, file_exists(cfg.checkpoint) ? "rejected" : "missing", path, path);
    }
    if (found->slot == 1) {
      std::fprintf(stderr, "fennec-train: warning: checkpoint %s rejected (%s); falling back to %s.prev\n",
                   path, found->rejected.message(), path);
      // Moved aside (kept for inspection) so that the next checkpoint write, which renames FILE to
      // FILE.prev, keeps the good FILE.prev rather than rotating the bad file into its place.
      if (file_exists(cfg.checkpoint)) {
        const std::string aside = cfg.checkpoint + ".rejected";
        if (std::rename(path, aside.c_str()) == 0) {
          std::fprintf(stderr, "fennec-train: the rejected file is now %s\n", aside.c_str());
        }
      }
    }
    unsigned char blob[kPositionBytes];
    fennec::CheckpointFileInfo used;
    s = fennec::restore_checkpoint_file(path, trainer, rng, blob, sizeof blob, &used);
    if (!s.is_ok()) {
      if (s.code() == fennec::StatusCode::kShapeMismatch ||
          s.code() == fennec::StatusCode::kFailedPrecondition) {
        std::fprintf(stderr,
                     "fennec-train: error: --resume: %s (pass the same --hidden, --activation, "
                     "--optimizer, --clip-norm and --weight-decay as the run that wrote it)\n",
                     s.message());
        return 1;
      }
      return fail("--resume: restoring the checkpoint", s);
    }
    if (std::memcmp(blob, kPositionTag, 8) != 0) {
      std::fprintf(stderr, "fennec-train: error: --resume: %s has no fennec-train position record\n",
                   path);
      return 1;
    }
    pos = decode_position(blob);
    if (pos.batch_size != cfg.batch || pos.train_count != n_train) {
      std::fprintf(stderr,
                   "fennec-train: error: --resume: the checkpoint was written with --batch %llu on "
                   "%llu training images, not --batch %zu on %zu (the data order would differ)\n",
                   static_cast<unsigned long long>(pos.batch_size),
                   static_cast<unsigned long long>(pos.train_count), cfg.batch, n_train);
      return 1;
    }
    const std::size_t batches_per_epoch = (n_train + cfg.batch - 1) / cfg.batch;
    if (pos.epoch < 1 || pos.batch >= batches_per_epoch) {
      std::fprintf(stderr, "fennec-train: error: --resume: position epoch %llu batch %llu is invalid\n",
                   static_cast<unsigned long long>(pos.epoch),
                   static_cast<unsigned long long>(pos.batch));
      return 1;
    }
    std::printf("resumed from %s%s: epoch %llu, batch %llu, step %llu\n", path,
                used.slot == 1 ? ".prev" : used.slot == 2 ? ".tmp" : "",
                static_cast<unsigned long long>(pos.epoch),
                static_cast<unsigned long long>(pos.batch),
                static_cast<unsigned long long>(trainer.step_count()));
    if (pos.epoch > cfg.epochs) {
      std::printf("checkpoint already past epoch %zu: nothing to train\n", cfg.epochs);
    }
  }
  unsigned char blob_out[kPositionBytes];

  fennec::Result<float*> xr = arena.allocate_array<float>(cfg.batch * pixels, "batch inputs");
  fennec::Result<std::int32_t*> yr = arena.allocate_array<std::int32_t>(cfg.batch, "batch labels");
  fennec::Result<std::uint32_t*> ir = arena.allocate_array<std::uint32_t>(n_train, "train indices");
  fennec::Result<std::uint32_t*> tr = arena.allocate_array<std::uint32_t>(n_test, "test indices");
  if (!xr.is_ok()) return fail("arena", xr.status());
  if (!yr.is_ok()) return fail("arena", yr.status());
  if (!ir.is_ok()) return fail("arena", ir.status());
  if (!tr.is_ok()) return fail("arena", tr.status());
  float* const xbuf = xr.value();
  std::int32_t* const ybuf = yr.value();
  std::uint32_t* const order = ir.value();
  std::uint32_t* const test_order = tr.value();
  for (std::size_t i = 0; i < n_test; ++i) test_order[i] = static_cast<std::uint32_t>(i);

  std::printf("model: %u", spec.input);
  for (std::size_t i = 0; i < spec.num_layers; ++i) std::printf("-%u", spec.layers[i].units);
  std::printf(" %s, init %s, %s lr %g, batch %zu, %zu parameters, isa %s\n",
              fennec::activation_name(cfg.activation.kind), fennec_tools::init_label(cfg.init).c_str(),
              fennec::optimizer_name(cfg.optimizer.kind), static_cast<double>(cfg.optimizer.lr),
              cfg.batch, spec.num_parameters(), fennec::isa_name(model.isa()));
  const bool show_progress = cfg.progress && isatty(STDOUT_FILENO);
  std::fflush(stdout);

  // ---- training: nothing below allocates -------------------------------------------------------
  const std::size_t batches = (n_train + cfg.batch - 1) / cfg.batch;
  const std::size_t last = spec.num_layers - 1;
  int exit_code = 0;
  double total_train_s = 0;
  const bool checkpointing = !cfg.checkpoint.empty();
  // Writes `rng_at_epoch_start` and `pos` with the trainer's state; false (message printed) on
  // failure.
  auto write_checkpoint = [&](const fennec::Rng& rng_at_epoch_start) {
    encode_position(pos, blob_out);
    const fennec::Status cs = fennec::save_checkpoint_file(cfg.checkpoint.c_str(), trainer,
                                                           rng_at_epoch_start, blob_out,
                                                           sizeof blob_out);
    if (cs.is_ok()) return true;
    if (show_progress) std::printf("\n");
    fail("writing the checkpoint", cs);
    return false;
  };
  const Position resumed = pos;
  fennec_tools::alloc_counting_start();
  for (std::size_t epoch = static_cast<std::size_t>(resumed.epoch);
       epoch <= cfg.epochs && exit_code == 0; ++epoch) {
    const fennec::Rng epoch_rng = rng;
    shuffle(order, n_train, rng);
    const Clock::time_point t0 = Clock::now();
    // A resumed epoch starts where the checkpoint stood, with its running totals.
    const std::size_t first = epoch == resumed.epoch ? static_cast<std::size_t>(resumed.batch) : 0;
    double loss_sum = first ? resumed.loss_sum : 0;
    std::size_t correct = first ? static_cast<std::size_t>(resumed.correct) : 0;
    const std::size_t progress_every = batches / 100 + 1;
    for (std::size_t b = first; b < batches; ++b) {
      const std::size_t start = b * cfg.batch;
      const std::size_t rows = start + cfg.batch <= n_train ? cfg.batch : n_train - start;
      make_batch(data.train_images, data.train_labels, order + start, rows, pixels, xbuf, ybuf);
      const fennec::ConstMatrixView x(xbuf, rows, pixels);
      const fennec::Targets targets = fennec::Targets::classes(ybuf);
      fennec::Result<fennec::StepStats> st = trainer.step(x, targets);
      if (!st.is_ok()) {
        if (show_progress) std::printf("\n");
        std::fprintf(stderr,
                     "fennec-train: error: epoch %zu, batch %zu: %s (%s); weights left as before "
                     "this step; stopping\n",
                     epoch, b + 1, st.status().message(), fennec::status_code_name(st.status().code()));
        exit_code = 3;
        break;
      }
      loss_sum += st->loss * static_cast<double>(rows);
      // The logits of this step's forward pass (before its update), as PyTorch scripts count.
      correct += fennec::count_correct(model.layer_output(last), targets,
                                       fennec::Loss::kSoftmaxCrossEntropy);
      if (show_progress && (b % progress_every == 0 || b + 1 == batches)) {
        progress_bar(epoch, cfg.epochs, b + 1, batches, loss_sum / static_cast<double>(start + rows));
      }
      // Mid-epoch checkpoints; the epoch's last step is covered by the epoch-end one.
      const std::uint64_t global_step = (epoch - 1) * std::uint64_t{batches} + b + 1;
      if (checkpointing && cfg.checkpoint_every && global_step % cfg.checkpoint_every == 0 &&
          b + 1 < batches) {
        pos.epoch = epoch;
        pos.batch = b + 1;
        pos.loss_sum = loss_sum;
        pos.correct = correct;
        if (!write_checkpoint(epoch_rng)) {
          exit_code = 1;
          break;
        }
      }
    }
    if (exit_code != 0) break;
    const double train_s = seconds_since(t0);
    total_train_s += train_s;
    if (checkpointing) {
      // `rng` now stands at the start of the next epoch (before its shuffle).
      pos.epoch = epoch + 1;
      pos.batch = 0;
      pos.loss_sum = 0;
      pos.correct = 0;
      if (!write_checkpoint(rng)) {
        exit_code = 1;
        break;
      }
    }

    const Clock::time_point t1 = Clock::now();
    double test_loss = 0;
    std::size_t test_correct = 0;
    for (std::size_t start = 0; start < n_test; start += cfg.batch) {
      const std::size_t rows = start + cfg.batch <= n_test ? cfg.batch : n_test - start;
      make_batch(data.test_images, data.test_labels, test_order + start, rows, pixels, xbuf, ybuf);
      fennec::Result<fennec::EvalStats> ev =
          trainer.evaluate(fennec::ConstMatrixView(xbuf, rows, pixels), fennec::Targets::classes(ybuf));
      if (!ev.is_ok()) {
        std::fprintf(stderr, "fennec-train: error: evaluating: %s\n", ev.status().message());
        exit_code = 3;
        break;
      }
      test_loss += ev->loss * static_cast<double>(rows);
      test_correct += ev->correct;
    }
    if (exit_code != 0) break;
    const double eval_s = seconds_since(t1);
    if (show_progress) std::printf("\r\033[K");
    std::printf(
        "epoch %zu/%zu  train loss %.4f  train acc %.4f  test loss %.4f  test acc %.4f  "
        "%.2f s  %.0f samples/s  (eval %.2f s)\n",
        epoch, cfg.epochs, loss_sum / static_cast<double>(n_train),
        static_cast<double>(correct) / static_cast<double>(n_train),
        test_loss / static_cast<double>(n_test),
        static_cast<double>(test_correct) / static_cast<double>(n_test), train_s,
        static_cast<double>(n_train - first * cfg.batch) / train_s, eval_s);
    std::fflush(stdout);
  }
  const std::uint64_t allocations = fennec_tools::alloc_counting_stop();

  // ---- report ---------------------------------------------------------------------------------
  std::printf("isa: %s\n", fennec::isa_name(model.isa()));
  std::printf("arena: model plan %zu bytes (parameters %zu, gradients %zu, optimizer state %zu, "
              "activations %zu, scratch %zu); arena used %zu of %zu bytes (+ batch buffers and "
              "shuffled indices)\n",
              mplan.total(), mplan.parameters, mplan.gradients, mplan.optimizer_state,
              mplan.activations, mplan.scratch, arena.used(), arena.capacity());
  std::printf("training time: %.2f s total\n", total_train_s);
  if (checkpointing && exit_code == 0) {
    std::printf("checkpoint: %s (epoch %llu, batch %llu)\n", cfg.checkpoint.c_str(),
                static_cast<unsigned long long>(pos.epoch), static_cast<unsigned long long>(pos.batch));
  }
  std::printf("heap allocations after setup: %" PRIu64 "%s\n", allocations,
              fennec_tools::alloc_counting_covers_malloc() ? "" : " (operator new only in this build)");
  if (exit_code == 0 && !cfg.save.empty()) {
    s = fennec::save_model_file(model, cfg.save.c_str());
    if (!s.is_ok()) {
      fail("saving the model", s);
      exit_code = 1;
    } else {
      std::printf("model saved: %s\n", cfg.save.c_str());
    }
  }
  std::printf("peak resident memory: %.1f MiB\n", peak_rss_mib());
  ::operator delete(buffer, std::align_val_t{fennec::kArenaAlignment});
  if (allocations != 0 && exit_code == 0) exit_code = 4;
  return exit_code;
}
