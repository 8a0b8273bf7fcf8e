// SPDX-License-Identifier: Apache-2.0
// The device end of the PyTorch scale-out example (examples/pytorch/README.md), through the public
// API only: what the command-line tools do not do.
//
//   fennec_pytorch_handoff logits MODEL IMAGES LABELS OUT.f32
//       MODEL (.fennec or .safetensors) on every image of the IDX pair; writes the logits
//       (N x outputs float32, little-endian, row-major) and prints the accuracy.
//   fennec_pytorch_handoff finetune MODEL.fennec TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS
//                                   OUT.safetensors [--frozen K] [--epochs E] [--batch B]
//                                   [--lr LR] [--seed S]
//       Fine-tunes MODEL with layers [0, K) frozen (default: all but the last), Adam, and prints
//       the test accuracy before and after; writes the fine-tuned model as safetensors.
//
// IMAGES/LABELS are plain unsigned-byte IDX files (N x rows x cols and N); a pixel p becomes
// float(p) / 255, as the PyTorch side scales it, so both see the same inputs.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fennec/all.hpp>

namespace {

const char* kUsage =
    "usage: fennec_pytorch_handoff logits MODEL IMAGES LABELS OUT.f32\n"
    "       fennec_pytorch_handoff finetune MODEL.fennec TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS\n"
    "                              OUT.safetensors [--frozen K] [--epochs E] [--batch B] [--lr LR] [--seed S]\n"
    "  MODEL: a Fennec model file (.fennec) or safetensors with fennec.activations metadata\n"
    "  IMAGES, LABELS: plain (not gzip) unsigned-byte IDX files, N x rows x cols and N\n"
    "  --frozen K  layers [0, K) stay as they are (default: all but the last layer)\n"
    "  --epochs E  passes over the training images (default 2); --batch B (default 64)\n"
    "  --lr LR     Adam learning rate (default 0.001); --seed S shuffling seed (default 1)\n";

constexpr std::size_t kEvalBatch = 100;

int fail(const std::string& what) {
  std::fprintf(stderr, "fennec_pytorch_handoff: %s\n", what.c_str());
  return 1;
}

int fail(const std::string& what, const fennec::Status& s) {
  return fail(what + ": " + fennec::status_code_name(s.code()) + ": " + s.message());
}

int usage(const std::string& what) {
  std::fprintf(stderr, "fennec_pytorch_handoff: %s\n%s", what.c_str(), kUsage);
  return 2;
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool read_file(const std::string& path, std::vector<unsigned char>& out, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  unsigned char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) out.insert(out.end(), chunk, chunk + got);
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  if (!ok) error = path + ": read error";
  return ok;
}

// An unsigned-byte IDX file: dims (big-endian u32 each) and the values after the header.
struct Idx {
  std::vector<unsigned char> bytes;
  std::vector<std::size_t> dims;
  std::size_t offset = 0;
  const unsigned char* values() const { return bytes.data() + offset; }
};

bool read_idx(const std::string& path, std::size_t want_rank, Idx& idx, std::string& error) {
  if (!read_file(path, idx.bytes, error)) return false;
  const std::vector<unsigned char>& b = idx.bytes;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08) {
    error = path + ": not an unsigned-byte IDX file (a .gz must be decompressed first)";
    return false;
  }
  if (b[3] != want_rank) {
    error = path + ": rank " + std::to_string(b[3]) + ", expected " + std::to_string(want_rank);
    return false;
  }
  idx.offset = 4 + 4 * want_rank;
  if (b.size() < idx.offset) {
    error = path + ": header cut short";
    return false;
  }
  std::size_t count = 1;
  idx.dims.clear();
  for (std::size_t d = 0; d < want_rank; ++d) {
    const unsigned char* p = b.data() + 4 + 4 * d;
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    idx.dims.push_back(n);
    count *= n;
  }
  if (b.size() - idx.offset != count) {
    error = path + ": " + std::to_string(b.size() - idx.offset) + " values, the dimensions need " +
            std::to_string(count);
    return false;
  }
  return true;
}

// Images as float rows (pixel / 255) and labels as int32, checked against each other and the model.
struct Samples {
  std::vector<float> x;
  std::vector<std::int32_t> y;
  std::size_t count = 0, pixels = 0;
};

bool load_samples(const std::string& images_path, const std::string& labels_path, std::size_t model_inputs,
                  std::size_t classes, Samples& s, std::string& error) {
  Idx images, labels;
  if (!read_idx(images_path, 3, images, error) || !read_idx(labels_path, 1, labels, error)) return false;
  s.count = images.dims[0];
  s.pixels = images.dims[1] * images.dims[2];
  if (labels.dims[0] != s.count) {
    error = images_path + " has " + std::to_string(s.count) + " images, " + labels_path + " " +
            std::to_string(labels.dims[0]) + " labels";
    return false;
  }
  if (s.pixels != model_inputs) {
    error = images_path + ": " + std::to_string(s.pixels) + " pixels per image, the model takes " +
            std::to_string(model_inputs) + " inputs";
    return false;
  }
  s.x.resize(s.count * s.pixels);
  for (std::size_t i = 0; i < s.x.size(); ++i) s.x[i] = static_cast<float>(images.values()[i]) / 255.0f;
  s.y.resize(s.count);
  for (std::size_t i = 0; i < s.count; ++i) {
    s.y[i] = labels.values()[i];
    if (static_cast<std::size_t>(s.y[i]) >= classes) {
      error = labels_path + ": label " + std::to_string(s.y[i]) + " of sample " + std::to_string(i) +
              ", the model has " + std::to_string(classes) + " outputs";
      return false;
    }
  }
  return true;
}

// Caller-owned arena memory of an exact size, aligned as the arena requires.
class ArenaStorage {
 public:
  explicit ArenaStorage(std::size_t bytes) : raw_(bytes + fennec::kArenaAlignment) {}
  fennec::Arena arena() {
    const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(raw_.data());
    const std::size_t pad = (fennec::kArenaAlignment - p % fennec::kArenaAlignment) % fennec::kArenaAlignment;
    return fennec::Arena(raw_.data() + pad, raw_.size() - pad);
  }

 private:
  std::vector<unsigned char> raw_;
};

// Correct predictions of `model` over `s`, the logits copied into `logits` when given.
fennec::Result<std::size_t> count_correct(fennec::Model& model, const Samples& s, std::vector<float>* logits) {
  const std::size_t outputs = model.spec().output();
  std::size_t correct = 0;
  if (logits != nullptr) logits->resize(s.count * outputs);
  const std::size_t batch = model.options().max_batch < kEvalBatch ? model.options().max_batch : kEvalBatch;
  for (std::size_t start = 0; start < s.count; start += batch) {
    const std::size_t n = s.count - start < batch ? s.count - start : batch;
    fennec::Result<fennec::ConstMatrixView> z = model.forward({s.x.data() + start * s.pixels, n, s.pixels});
    if (!z) return z.status();
    correct += fennec::count_correct(z.value(), fennec::Targets::classes(s.y.data() + start), model.spec().loss);
    if (logits != nullptr)
      for (std::size_t r = 0; r < n; ++r)
        std::memcpy(logits->data() + (start + r) * outputs, z->row(r), outputs * sizeof(float));
  }
  return correct;
}

fennec::Result<fennec::ModelSpec> read_spec(const std::string& path, bool safetensors,
                                            const fennec::SafetensorsImport& import) {
  if (safetensors) return fennec::read_safetensors_file_spec(path.c_str(), import);
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_file_info(path.c_str());
  if (!info) return info.status();
  return info->spec;
}

void print_accuracy(const char* what, std::size_t correct, std::size_t count) {
  std::printf("%s: accuracy %.4f (%zu/%zu)\n", what, static_cast<double>(correct) / static_cast<double>(count),
              correct, count);
}

int run_logits(int argc, char** argv) {
  if (argc != 6) return usage("logits takes MODEL IMAGES LABELS OUT.f32");
  const std::string model_path = argv[2], out_path = argv[5];
  const bool safetensors = ends_with(model_path, ".safetensors");
  if (!safetensors && !ends_with(model_path, ".fennec")) return usage("MODEL " + model_path + ": .fennec or .safetensors");
  const fennec::SafetensorsImport import;  // activations and loss from the file's metadata
  fennec::Result<fennec::ModelSpec> spec = read_spec(model_path, safetensors, import);
  if (!spec) return fail(model_path, spec.status());
  const fennec::ModelSpec& net = spec.value();
  const fennec::ModelOptions options = fennec::ModelOptions::inference(kEvalBatch);

  ArenaStorage storage(fennec::plan(net, options).total());
  fennec::Arena arena = storage.arena();
  fennec::Result<fennec::Model> model =
      safetensors ? fennec::load_safetensors_file(model_path.c_str(), import, options, arena)
                  : fennec::load_model_file(model_path.c_str(), options, arena);
  if (!model) return fail(model_path, model.status());

  Samples s;
  std::string error;
  if (!load_samples(argv[3], argv[4], net.input, net.output(), s, error)) return fail(error);
  std::vector<float> logits;
  fennec::Result<std::size_t> correct = count_correct(model.value(), s, &logits);
  if (!correct) return fail("forward", correct.status());
  std::FILE* f = std::fopen(out_path.c_str(), "wb");
  if (f == nullptr) return fail(out_path + ": " + std::strerror(errno));
  const bool written = std::fwrite(logits.data(), sizeof(float), logits.size(), f) == logits.size();
  if (std::fclose(f) != 0 || !written) return fail(out_path + ": write error");
  print_accuracy(("Fennec " + model_path).c_str(), correct.value(), s.count);
  std::printf("logits (%zu x %zu float32) written to %s\n", s.count, static_cast<std::size_t>(net.output()), out_path.c_str());
  return 0;
}

bool parse_number(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text, &end);
  return errno == 0 && end != text && *end == '\0';
}

bool is_whole(double v) { return v >= 0 && v < 4294967296.0 && v == static_cast<double>(static_cast<std::uint32_t>(v)); }

int run_finetune(int argc, char** argv) {
  if (argc < 8) return usage("finetune takes MODEL.fennec TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS OUT.safetensors");
  const std::string model_path = argv[2], out_path = argv[7];
  if (!ends_with(out_path, ".safetensors")) return usage("OUT " + out_path + ": must end in .safetensors");
  double frozen = -1, epochs = 2, batch = 64, lr = 1e-3, seed = 1;
  for (int i = 8; i < argc; i += 2) {
    const std::string flag = argv[i];
    double* target = flag == "--frozen" ? &frozen : flag == "--epochs" ? &epochs : flag == "--batch" ? &batch
                   : flag == "--lr"     ? &lr     : flag == "--seed"   ? &seed   : nullptr;
    if (target == nullptr) return usage("unknown option " + flag);
    if (i + 1 >= argc || !parse_number(argv[i + 1], *target)) return usage(flag + " needs a number");
  }
  fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_file_info(model_path.c_str());
  if (!info) return fail(model_path, info.status());
  const fennec::ModelSpec& net = info->spec;
  if (frozen < 0) frozen = static_cast<double>(net.num_layers - 1);
  if (frozen >= static_cast<double>(net.num_layers) || !is_whole(frozen))
    return usage("--frozen: a whole number below the model's " + std::to_string(net.num_layers) +
                 " layers (at least one layer trains)");
  if (epochs < 1 || batch < 1 || !is_whole(epochs) || !is_whole(batch) || !is_whole(seed) || seed < 0 || !(lr > 0))
    return usage("--epochs and --batch: whole numbers from 1, --seed a whole number from 0, --lr above 0");

  const fennec::ModelOptions options =
      fennec::ModelOptions::training(static_cast<std::size_t>(batch), fennec::OptimizerConfig::adam(static_cast<float>(lr)))
          .with_frozen_layers(static_cast<std::uint32_t>(frozen));
  fennec::Result<std::size_t> bytes = fennec::model_file_arena_bytes(model_path.c_str(), options);
  if (!bytes) return fail(model_path, bytes.status());
  ArenaStorage storage(bytes.value());
  fennec::Arena arena = storage.arena();
  fennec::Result<fennec::Model> model = fennec::load_model_file(model_path.c_str(), options, arena);
  if (!model) return fail(model_path, model.status());
  fennec::Result<fennec::Trainer> trainer = fennec::Trainer::create(model.value());
  if (!trainer) return fail("trainer", trainer.status());

  Samples train, test;
  std::string error;
  if (!load_samples(argv[3], argv[4], net.input, net.output(), train, error) ||
      !load_samples(argv[5], argv[6], net.input, net.output(), test, error))
    return fail(error);
  const std::size_t b = static_cast<std::size_t>(batch);
  if (train.count < b) return fail(std::to_string(train.count) + " training images, fewer than one batch");

  fennec::Result<std::size_t> before = count_correct(model.value(), test, nullptr);
  if (!before) return fail("forward", before.status());
  std::size_t trainable = 0;
  for (std::size_t l = static_cast<std::size_t>(frozen); l < net.num_layers; ++l)
    trainable += static_cast<std::size_t>(net.layers[l].units) * (net.fan_in(l) + 1);
  std::printf("fine-tuning %s: %zu of %u layers frozen, %zu of %zu parameters train (Adam lr %g, batch %zu)\n",
              model_path.c_str(), static_cast<std::size_t>(frozen), net.num_layers, trainable,
              net.num_parameters(), lr, b);
  print_accuracy("before fine-tuning, test", before.value(), test.count);

  // One shuffled pass per epoch over whole batches; the rows are gathered into a batch buffer.
  fennec::Rng rng(static_cast<std::uint64_t>(seed));
  std::vector<std::size_t> order(train.count);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<float> xb(b * train.pixels);
  std::vector<std::int32_t> yb(b);
  for (int epoch = 1; epoch <= static_cast<int>(epochs); ++epoch) {
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.next_u32() % (i + 1)]);
    double loss = 0;
    std::size_t steps = 0;
    for (std::size_t start = 0; start + b <= order.size(); start += b, ++steps) {
      for (std::size_t r = 0; r < b; ++r) {
        std::memcpy(xb.data() + r * train.pixels, train.x.data() + order[start + r] * train.pixels,
                    train.pixels * sizeof(float));
        yb[r] = train.y[order[start + r]];
      }
      fennec::Result<fennec::StepStats> st = trainer->step({xb.data(), b, train.pixels}, fennec::Targets::classes(yb.data()));
      if (!st) return fail("step", st.status());
      loss += st->loss;
    }
    fennec::Result<std::size_t> correct = count_correct(model.value(), test, nullptr);
    if (!correct) return fail("forward", correct.status());
    std::printf("epoch %d: %zu steps, mean loss %.4f, ", epoch, steps, loss / static_cast<double>(steps));
    print_accuracy("test", correct.value(), test.count);
  }
  fennec::Result<std::size_t> after = count_correct(model.value(), test, nullptr);
  if (!after) return fail("forward", after.status());
  print_accuracy("after fine-tuning, test", after.value(), test.count);
  const fennec::Status saved = fennec::save_safetensors_file(model.value(), out_path.c_str());
  if (!saved.is_ok()) return fail(out_path, saved);
  std::printf("fine-tuned model written to %s\n", out_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "logits") == 0) return run_logits(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "finetune") == 0) return run_finetune(argc, argv);
  return usage(argc < 2 ? "no command given" : std::string("unknown command ") + argv[1]);
}
