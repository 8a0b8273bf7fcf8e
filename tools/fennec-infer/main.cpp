// SPDX-License-Identifier: Apache-2.0
// fennec-infer --model FILE (--data DIR | --inputs X.npy --labels y.npy | --inputs X.csv |
// --synthetic N): loads a Fennec model file, an int8 model file (fennec-quantize) or safetensors,
// prints the network and the arena it needs; on a labelled set, the accuracy overall, per class
// and top-k, the confusion matrix (--confusion, --plot FILE.svg) and the raw outputs (--output);
// then the per-sample latency (batch 1), on the set's inputs or, with --synthetic N, on N random
// ones. Every report after the set-up lines goes through one forward function, so an f32 and an
// int8 model print the same lines.
//
// The file is memory-mapped read-only, and a Fennec model file runs in place from the mapping
// (load_model_in_place: its parameters are never copied; the arena holds activations and
// scratch); an int8 model file is copied into an arena of quantized_plan's size. Contract: the
// file must not shrink while the tool runs. If another process truncates it, the next read of a
// vanished page raises SIGBUS; the tool then reports it on stderr and exits with status 3
// (mapped_file_guard.hpp) instead of dying silently. Replacing the file by rename (what Fennec's
// writers do) is safe: the mapping keeps the old file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fennec/quant_io.hpp>

#include "common/arena_buffer.hpp"
#include "common/args.hpp"
#include "common/csv_samples.hpp"
#include "common/file_names.hpp"
#include "common/mapped_file_guard.hpp"
#include "common/mnist.hpp"
#include "common/model_files.hpp"
#include "common/sample_set.hpp"
#include "fennec-infer/confusion_plot.hpp"
#include "fennec-infer/evaluation.hpp"
#include "fennec-infer/output_file.hpp"

namespace {

using fennec_tools::ArgError;
using fennec_tools::ends_with;
using Clock = std::chrono::steady_clock;

const fennec_tools::Args::Program kProgram{
    "fennec-infer",
    "Runs a saved model (Fennec model file, f32 or int8 from fennec-quantize, or safetensors, told "
    "apart by their bytes) on a labelled data set: accuracy overall and per class, top-k, the "
    "confusion matrix, the raw outputs, and the per-sample latency at batch 1.",
    "Data (exactly one):\n"
    "  --data DIR                  the test split of an MNIST-family IDX directory (t10k-images-idx3-ubyte,\n"
    "                              t10k-labels-idx1-ubyte, train-*; plain or .gz); pixels scaled by 1/255\n"
    "  --inputs X.npy --labels y.npy\n"
    "                              X float32 (used as stored) or uint8 (scaled by 1/255), shape (N, ...);\n"
    "                              y integer, shape (N,)\n"
    "  --inputs X.csv [--label-column NAME]\n"
    "                              a header row, one sample per row, numeric features; labels in the\n"
    "                              column NAME (default 'label')\n"
    "  --synthetic N               latency only, on N uniform random inputs (no labels, no accuracy)\n"
    "Output lines: 'test accuracy: P% (C / N)', 'top-K accuracy: ...', 'accuracy of class ...', the\n"
    "confusion rows (--confusion: true class name, then its counts per predicted class, separated by\n"
    "spaces), 'latency (batch 1, R samples): median X us, mean X us, p99 X us'.\n"
    "Class names: --class-names a,b,...; by default Fashion-MNIST's for 10 classes, else 0, 1, ...\n"
    "--output FILE.f32: raw outputs, little-endian float32, N x outputs (np.fromfile(F, '<f4')\n"
    ".reshape(-1, outputs)); FILE.csv: sample,label,predicted,prob_0,... (softmax; sigmoid for BCE;\n"
    "the raw outputs, out_0,..., for MSE).\n"
    "Exit status: 0 done, 1 error (model or data refused, with the reason), 2 bad command line,\n"
    "3 the model file shrank while mapped.\n"};

std::vector<fennec_tools::Args::Flag> flags() {
  return {
      {"model", true, "Fennec model file (f32 or int8) or safetensors (format detected from the bytes)", "FILE"},
      {"data", true, "MNIST-family IDX directory; its test split is evaluated", "DIR"},
      {"inputs", true, "samples as .npy (with --labels) or .csv (labels in a column)", "FILE"},
      {"labels", true, "integer labels .npy, one per sample of --inputs X.npy", "FILE"},
      {"label-column", true, "the label column of --inputs X.csv (default 'label')", "NAME"},
      {"synthetic", true, "no data: latency on N random inputs", "N"},
      {"samples", true, "evaluate the first N samples only (default all)", "N"},
      {"batch", true, "batch size of the accuracy pass (default 100); latency is always batch 1", "N"},
      {"top-k", true, "also report top-K accuracy (the true class among the K highest outputs)", "K"},
      {"confusion", false, "print the confusion matrix, one row per true class"},
      {"plot", true, "write the confusion matrix as an SVG heat map", "FILE.svg"},
      {"class-names", true, "names of the classes, in label order, comma-separated", "LIST"},
      {"output", true, "write the outputs of every sample: FILE.f32 (logits) or FILE.csv (probabilities)",
       "FILE"},
      {"warmup", true, "untimed batch-1 runs before the latency is measured (default 10)", "N"},
      {"repeat", true, "timed batch-1 runs, cycling through the samples (default one per sample)", "N"},
      {"isa", true, "auto|ref|sse2|avx2|avx512|avx512vnni|neon|neon64, or the opt-in avx512bf16 (default: best available)", "ISA"},
      {"threads", true, "f32 models: threads the large GEMMs are split across (default 1)", "N"},
      {"activations", true, "safetensors without fennec.activations metadata: relu,relu,identity", "LIST"},
      {"loss", true, "safetensors: softmax_cross_entropy | mse | sigmoid_bce", "NAME"},
      {"allow-large-arena", false, "take an arena above 4 GiB (refused by default, with the plan's size)"},
  };
}

// Which data the run uses, checked before anything is loaded.
struct DataChoice {
  bool synthetic = false;
  std::size_t synthetic_count = 0;
  std::string dir, inputs, labels, label_column = fennec_tools::kDefaultLabelColumn;
};

DataChoice choose_data(const fennec_tools::Args& args) {
  DataChoice d;
  const int sources = args.has("data") + args.has("inputs") + args.has("synthetic");
  if (sources == 0)
    throw ArgError("no data to run on: give --data DIR (IDX), --inputs X.npy --labels y.npy, --inputs "
                   "X.csv, or --synthetic N to time random inputs");
  if (sources > 1) throw ArgError("--data, --inputs and --synthetic are alternatives: give one");
  if (args.has("labels") && !args.has("inputs")) throw ArgError("--labels goes with --inputs X.npy");
  if (args.has("label-column") && !(args.has("inputs") && ends_with(args.str("inputs", ""), ".csv")))
    throw ArgError("--label-column goes with --inputs X.csv");
  if (args.has("synthetic")) {
    d.synthetic = true;
    d.synthetic_count = args.integer("synthetic", 1000, 1, 100000000);
    for (const char* needs_labels : {"confusion", "plot", "top-k", "output", "samples", "class-names"})
      if (args.has(needs_labels))
        throw ArgError(std::string("--") + needs_labels + " needs labelled data (--data or --inputs), not --synthetic");
    return d;
  }
  if (args.has("data")) {
    d.dir = args.str("data", "");
    if (d.dir.empty()) throw ArgError("--data needs a directory");
    return d;
  }
  d.inputs = args.str("inputs", "");
  if (ends_with(d.inputs, ".npy")) {
    d.labels = args.str("labels", "");
    if (d.labels.empty()) throw ArgError("--inputs " + d.inputs + " needs --labels y.npy (the labels of its samples)");
  } else if (ends_with(d.inputs, ".csv")) {
    d.label_column = args.str("label-column", fennec_tools::kDefaultLabelColumn);
    if (d.label_column.empty()) throw ArgError("--label-column needs a column name");
  } else {
    throw ArgError("--inputs " + (d.inputs.empty() ? std::string("''") : d.inputs) +
                   ": expected a .npy or a .csv file (an IDX directory is --data DIR)");
  }
  return d;
}

// The labelled set, checked against the model: width, and labels among its classes.
fennec_tools::SampleSet load_data(const DataChoice& d, std::size_t width, std::size_t classes) {
  fennec_tools::SampleSet set;
  std::string error;
  if (!d.dir.empty()) {
    fennec_tools::MnistSet mnist;
    if (!fennec_tools::load_mnist_dir(d.dir, mnist, error)) throw std::runtime_error(error);
    if (!fennec_tools::samples_from_idx(std::move(mnist.test_images), std::move(mnist.test_labels),
                                        mnist.test_images_path, d.dir + "/t10k-labels-idx1-ubyte", classes, set,
                                        error))
      throw std::runtime_error(error);
    if (set.width != width)
      throw std::runtime_error("the data has " + std::to_string(set.width) + " pixels per image, the model takes " +
                               std::to_string(width));
    return set;
  }
  if (!fennec_tools::load_samples(d.inputs, d.labels, d.label_column, classes, set, error))
    throw std::runtime_error(error);
  if (set.width != width)
    throw std::runtime_error(d.inputs + ": " + std::to_string(set.width) + " features per sample, the model takes " +
                             std::to_string(width));
  return set;
}

// The spec an int8 model file stores (header checks only; the load checks the rest).
fennec::ModelSpec quantized_spec(fennec_tools::ByteSpan b, const std::string& path) {
  fennec::Result<fennec::ModelSpec> spec = fennec::read_quantized_spec(b.data, b.size);
  if (!spec.is_ok()) throw std::runtime_error(path + " (int8 model file): " + spec.status().message());
  return spec.value();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    fennec_tools::Args args(argc, argv, flags(), kProgram);
    if (args.help_requested()) {
      std::fputs(args.help().c_str(), stdout);
      return 0;
    }
    const std::string path = args.str("model", "");
    if (path.empty()) throw ArgError("--model is required");
    const DataChoice choice = choose_data(args);
    std::vector<fennec::ActivationSpec> acts;
    fennec::SafetensorsImport import;
    fennec_tools::parse_import_flags(args, acts, import);
    const std::size_t batch = args.integer("batch", 100, 1, 100000);
    const std::size_t warmup = args.integer("warmup", 10, 0, 100000000);
    const bool has_repeat = args.has("repeat");
    const std::size_t repeat = args.integer("repeat", 1, 1, 100000000);
    const std::string plot = args.str("plot", "");
    if (args.has("plot")) {
      if (!ends_with(plot, ".svg")) throw ArgError("--plot " + plot + ": the name must end in .svg");
      fennec_tools::check_output_path(plot, "--plot");
    }
    const std::string output = args.str("output", "");
    if (args.has("output")) fennec_tools::OutputFile::check_path(output);
    fennec::ModelOptions options;
    options.mode = fennec::Mode::kInference;
    options.max_batch = batch;
    options.isa = fennec_tools::isa_flag(args, options.isa);
    options.threads = fennec_tools::threads_flag(args);

    fennec::MappedFile mapped;
    const fennec::Status opened = mapped.open(path.c_str());
    if (!opened.is_ok()) throw std::runtime_error(opened.message());
    fennec_tools::guard_mapped_file("fennec-infer", path.c_str());
    const fennec_tools::ByteSpan bytes(static_cast<const unsigned char*>(mapped.data()), mapped.size());
    const bool int8 = fennec::is_quantized_file(bytes.data, bytes.size);
    const fennec::ModelSpec spec = int8 ? quantized_spec(bytes, path) : fennec_tools::read_spec(bytes, path, import);
    const std::size_t outputs = spec.layers[spec.num_layers - 1].units;
    const std::size_t classes = fennec_tools::classes_of(outputs, spec.loss);
    // Flags whose limits depend on the model, checked before the model is loaded.
    const std::size_t top_k = args.integer("top-k", 1, 1, classes);
    const std::vector<std::string> names =
        fennec_tools::class_names(args.has("class-names"), args.str("class-names", ""), classes);
    // The network every report below runs: the f32 model or the int8 one, behind one call.
    std::function<fennec::Result<fennec::ConstMatrixView>(fennec::ConstMatrixView)> forward;
    std::optional<fennec_tools::ArenaBuffer> storage;
    fennec::Model model;
    fennec::QuantizedModel qmodel;
    fennec::ThreadPool pool;
    if (int8 && options.threads > 1)
      throw std::runtime_error("--threads: int8 models run on one thread (" + path + " is an int8 model file)");
    if (int8) {
      // The loader copies the file (weights and quantization parameters) into the arena.
      const fennec::QuantizedPlan qp = fennec::quantized_plan(spec, batch);
      storage.emplace(qp.total(),
                      std::to_string(qp.total()) + " bytes (int8 parameters " + std::to_string(qp.parameters) +
                          ", activations " + std::to_string(qp.activations) + ")",
                      args.has("allow-large-arena"));
      const Clock::time_point t0 = Clock::now();
      fennec::Result<fennec::QuantizedModel> q =
          fennec::load_quantized_model(bytes.data, bytes.size, batch, options.isa, storage->arena());
      if (!q.is_ok()) throw std::runtime_error(path + ": " + q.status().message());
      const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      qmodel = std::move(q).value();
      std::printf("model: %s (fennec int8, %zu bytes): %s, %zu parameters\n", path.c_str(), bytes.size,
                  fennec_tools::describe(spec).c_str(), spec.num_parameters());
      std::printf("arena: %zu bytes (parameters %zu, activations %zu, scratch 0; 0 bytes of parameters read in "
                  "place from the mapped file); load %.2f ms; isa %s\n",
                  qp.total(), qp.parameters, qp.activations, load_ms, fennec::isa_name(qmodel.isa()));
      forward = [&qmodel](fennec::ConstMatrixView x) { return qmodel.forward(x); };
    } else {
      // A Fennec model file executes in place from the mapping, except one with batch norm (model
      // file version 2): its running statistics are model state, loaded into the arena with the
      // parameters. (A model folded with fold_batchnorm is a plain one and runs in place.)
      options.external_parameters = fennec_tools::is_fennec_model(bytes) && !spec.has_batchnorm();
      const fennec::MemoryPlan p = fennec::plan(spec, options);
      storage.emplace(p, args.has("allow-large-arena"));
      const Clock::time_point t0 = Clock::now();
      model = fennec_tools::load_any(bytes, path, import, options, storage->arena());
      if (options.threads > 1) {
        fennec::Status s = pool.start(options.threads);
        if (s.is_ok()) s = model.set_thread_pool(&pool);
        if (!s.is_ok()) throw std::runtime_error(std::string("starting the threads: ") + s.message());
      }
      const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::printf("model: %s (%s, %zu bytes): %s, %zu parameters\n", path.c_str(),
                  fennec_tools::is_fennec_model(bytes) ? "fennec" : "safetensors", bytes.size,
                  fennec_tools::describe(spec).c_str(), spec.num_parameters());
      std::printf("arena: %zu bytes (parameters %zu, activations %zu, scratch %zu; %zu bytes of "
                  "parameters read in place from the mapped file); load %.2f ms; isa %s, threads %u\n",
                  p.total(), p.parameters, p.activations, p.scratch, p.external_parameters, load_ms,
                  fennec::isa_name(model.isa()), static_cast<unsigned>(options.threads));
      forward = [&model](fennec::ConstMatrixView x) { return model.forward(x); };
    }
    std::fflush(stdout);  // the set-up report is out before the long runs

    const std::size_t in = spec.input;
    std::vector<float> x;
    std::vector<std::int32_t> y;
    std::size_t n = 0;
    if (choice.synthetic) {
      n = choice.synthetic_count;
      x.resize(n * in);
      fennec::Rng rng(1);
      for (float& v : x) v = static_cast<float>(rng.uniform01());
    } else {
      const fennec_tools::SampleSet data = load_data(choice, in, classes);
      n = args.integer("samples", data.count, 1, data.count);
      x.resize(n * in);
      y.resize(n);
      data.range(0, n, x.data(), y.data());
      fennec_tools::Evaluation eval(outputs, spec.loss, top_k);
      std::unique_ptr<fennec_tools::OutputFile> out_file;
      if (args.has("output")) out_file = std::make_unique<fennec_tools::OutputFile>(output, outputs, spec.loss);
      for (std::size_t start = 0; start < n; start += batch) {
        const std::size_t rows = std::min(batch, n - start);
        fennec::Result<fennec::ConstMatrixView> out = forward(fennec::ConstMatrixView(&x[start * in], rows, in));
        if (!out.is_ok()) throw std::runtime_error(out.status().message());
        eval.add(out.value(), &y[start]);
        if (out_file) out_file->write(out.value(), &y[start], eval);
      }
      const std::uint64_t correct = eval.correct();
      std::printf("test accuracy: %.2f%% (%llu / %zu)\n", 100.0 * static_cast<double>(correct) / static_cast<double>(n),
                  static_cast<unsigned long long>(correct), n);
      if (args.has("top-k"))
        std::printf("top-%zu accuracy: %.2f%% (%llu / %zu)\n", top_k,
                    100.0 * static_cast<double>(eval.top_k_correct()) / static_cast<double>(n),
                    static_cast<unsigned long long>(eval.top_k_correct()), n);
      fennec_tools::print_class_accuracy(stdout, eval, names);
      if (args.has("confusion")) {
        std::printf("confusion matrix (%zu rows, one per true class: its name, then how many were predicted as each "
                    "class, in label order):\n", classes);
        fennec_tools::print_confusion(stdout, eval, names);
      }
      if (out_file) {
        out_file->close();
        std::printf("outputs: %s (%zu samples x %zu)\n", output.c_str(), n, outputs);
      }
      if (args.has("plot")) {
        std::string error;
        const std::size_t slash = path.find_last_of('/');
        const std::string model_name = slash == std::string::npos ? path : path.substr(slash + 1);
        const std::string source = choice.dir.empty() ? choice.inputs : choice.dir;
        if (!fennec_tools::confusion_svg(eval, names, "Confusion matrix: " + model_name + " on " + source)
                 .write(plot, error))
          throw std::runtime_error(error);
        std::printf("confusion plot: %s\n", plot.c_str());
      }
      std::fflush(stdout);
    }
    // Per-sample latency at batch 1, after untimed warm-up runs.
    const std::size_t timed = has_repeat ? repeat : n;
    for (std::size_t i = 0; i < warmup; ++i) {
      fennec::Result<fennec::ConstMatrixView> out = forward(fennec::ConstMatrixView(&x[(i % n) * in], 1, in));
      if (!out.is_ok()) throw std::runtime_error(out.status().message());
    }
    std::vector<double> us(timed);
    for (std::size_t i = 0; i < timed; ++i) {
      const Clock::time_point a = Clock::now();
      fennec::Result<fennec::ConstMatrixView> out = forward(fennec::ConstMatrixView(&x[(i % n) * in], 1, in));
      us[i] = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
      if (!out.is_ok()) throw std::runtime_error(out.status().message());
    }
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (double v : us) sum += v;
    std::printf("latency (batch 1, %zu samples): median %.2f us, mean %.2f us, p99 %.2f us\n", timed,
                us[timed / 2], sum / static_cast<double>(timed), us[std::min(timed - 1, timed * 99 / 100)]);
    return 0;
  } catch (const ArgError& e) {
    std::fprintf(stderr, "fennec-infer: %s\nRun 'fennec-infer --help' for the flags.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fennec-infer: error: %s\n", e.what());
    return 1;
  }
}
