// SPDX-License-Identifier: Apache-2.0
// fennec-infer --model FILE [--data DIR]: loads a Fennec model file or safetensors, prints the
// network, the arena it needs and, with an MNIST-family directory, the test accuracy and the
// per-sample latency (batch 1). Without --data the latency is measured on synthetic inputs.
//
// The file is memory-mapped read-only, and a Fennec model file runs in place from the mapping
// (load_model_in_place: its parameters are never copied; the arena holds activations and
// scratch). Contract: the file must not shrink while the tool runs. If another process truncates
// it, the next read of a vanished page raises SIGBUS; the tool then reports it on stderr and exits
// with status 3 (mapped_file_guard.hpp) instead of dying silently. Replacing the file by rename
// (what Fennec's writers do) is safe: the mapping keeps the old file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

#include "common/arena_buffer.hpp"
#include "common/args.hpp"
#include "common/mapped_file_guard.hpp"
#include "common/mnist.hpp"
#include "common/model_files.hpp"

namespace {

const char* kUsage =
    "usage: fennec-infer --model FILE [--data DIR] [--samples N] [--batch N] [--isa ISA]\n"
    "                    [--activations LIST] [--loss NAME]\n"
    "  --model        Fennec model file or safetensors (format detected from the bytes)\n"
    "  --data         MNIST-family directory (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, ...)\n"
    "  --samples      test samples to evaluate (default all) / latency samples without --data (1000)\n"
    "  --batch        batch size for the accuracy pass (default 100); latency is always batch 1\n"
    "  --allow-large-arena  take an arena above 4 GiB (refused by default, with the plan's size)\n"
    "  --isa          ref|sse2|avx2|avx512|neon|neon64 (default: best available)\n"
    "  --activations  safetensors without fennec.activations metadata: relu,relu,identity\n"
    "  --loss         safetensors: softmax_cross_entropy | mse | sigmoid_bce\n";

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  try {
    fennec_tools::Args args(argc, argv,
                            {{"model", true}, {"data", true}, {"samples", true}, {"batch", true},
                             {"isa", true}, {"activations", true}, {"loss", true},
                             {"allow-large-arena", false}, {"help", false}});
    if (args.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    const std::string path = args.str("model", "");
    if (path.empty()) throw fennec_tools::ArgError("--model is required");
    std::vector<fennec::ActivationSpec> acts;
    fennec::SafetensorsImport import;
    fennec_tools::parse_import_flags(args, acts, import);
    const std::size_t batch = args.integer("batch", 100, 1, 100000);
    fennec::ModelOptions options;
    options.mode = fennec::Mode::kInference;
    options.max_batch = batch;
    options.isa = fennec_tools::isa_flag(args, options.isa);

    fennec::MappedFile mapped;
    const fennec::Status opened = mapped.open(path.c_str());
    if (!opened.is_ok()) throw std::runtime_error(opened.message());
    fennec_tools::guard_mapped_file("fennec-infer", path.c_str());
    const fennec_tools::ByteSpan bytes(static_cast<const unsigned char*>(mapped.data()), mapped.size());
    const fennec::ModelSpec spec = fennec_tools::read_spec(bytes, path, import);
    // A Fennec model file executes in place from the mapping.
    options.external_parameters = fennec_tools::is_fennec_model(bytes);
    const fennec::MemoryPlan p = fennec::plan(spec, options);
    fennec_tools::ArenaBuffer storage(p, args.has("allow-large-arena"));
    fennec::Arena& arena = storage.arena();
    const Clock::time_point t0 = Clock::now();
    fennec::Model model = fennec_tools::load_any(bytes, path, import, options, arena);
    const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("model: %s (%s, %zu bytes): %s, %zu parameters\n", path.c_str(),
                fennec_tools::is_fennec_model(bytes) ? "fennec" : "safetensors", bytes.size,
                fennec_tools::describe(spec).c_str(), spec.num_parameters());
    std::printf("arena: %zu bytes (parameters %zu, activations %zu, scratch %zu; %zu bytes of "
                "parameters read in place from the mapped file); load %.2f ms; isa %s\n",
                p.total(), p.parameters, p.activations, p.scratch, p.external_parameters, load_ms,
                fennec::isa_name(model.isa()));
    std::fflush(stdout);  // the set-up report is out before the long runs

    const std::size_t in = spec.input;
    std::vector<float> x;
    std::vector<std::int32_t> y;
    std::size_t n = 0;
    fennec_tools::MnistSet data;
    if (args.has("data")) {
      std::string error;
      if (!fennec_tools::load_mnist_dir(args.str("data", ""), data, error)) throw std::runtime_error(error);
      if (data.pixels() != in)
        throw std::runtime_error("the data has " + std::to_string(data.pixels()) +
                                 " pixels per image, the model takes " + std::to_string(in));
      n = std::min<std::size_t>(data.test_count(), args.integer("samples", data.test_count(), 1, data.test_count()));
      x.resize(n * in);
      y.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < in; ++j)
          x[i * in + j] = static_cast<float>(data.test_images.data[i * in + j]) / 255.0f;
        y[i] = data.test_labels.data[i];
      }
      std::size_t correct = 0;
      for (std::size_t start = 0; start < n; start += batch) {
        const std::size_t rows = std::min(batch, n - start);
        fennec::Result<fennec::ConstMatrixView> out = model.forward(fennec::ConstMatrixView(&x[start * in], rows, in));
        if (!out.is_ok()) throw std::runtime_error(out.status().message());
        correct += fennec::count_correct(out.value(), fennec::Targets::classes(&y[start]), spec.loss);
      }
      std::printf("test accuracy: %.2f%% (%zu / %zu)\n", 100.0 * static_cast<double>(correct) / static_cast<double>(n),
                  correct, n);
    } else {
      n = args.integer("samples", 1000, 1, 1000000);
      x.resize(n * in);
      fennec::Rng rng(1);
      for (float& v : x) v = static_cast<float>(rng.uniform01());
    }
    // Per-sample latency at batch 1.
    std::vector<double> us(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Clock::time_point a = Clock::now();
      fennec::Result<fennec::ConstMatrixView> out = model.forward(fennec::ConstMatrixView(&x[i * in], 1, in));
      us[i] = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
      if (!out.is_ok()) throw std::runtime_error(out.status().message());
    }
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (double v : us) sum += v;
    std::printf("latency (batch 1, %zu samples): median %.2f us, mean %.2f us, p99 %.2f us\n", n,
                us[n / 2], sum / static_cast<double>(n), us[std::min(n - 1, n * 99 / 100)]);
    return 0;
  } catch (const fennec_tools::ArgError& e) {
    std::fprintf(stderr, "fennec-infer: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fennec-infer: error: %s\n", e.what());
    return 1;
  }
}
