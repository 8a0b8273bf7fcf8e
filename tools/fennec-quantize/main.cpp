// SPDX-License-Identifier: Apache-2.0
// fennec-quantize IN.fennec OUT.fennec --calibration DIR: post-training int8 quantization of an
// f32 Fennec model file (fennec/quant.hpp, docs/quantization.md). The activation ranges come from
// N training images of an MNIST-family IDX directory, drawn without replacement with --seed; the
// int8 model is written with save_quantized_model (its own format, magic FENNECQ8), which
// fennec-infer runs like an f32 model.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <fennec/fold.hpp>
#include <fennec/io_file.hpp>
#include <fennec/quant_io.hpp>

#include "common/arena_buffer.hpp"
#include "common/args.hpp"
#include "common/mnist.hpp"
#include "common/model_files.hpp"
#include "common/sample_set.hpp"

namespace {

using fennec_tools::ArgError;

constexpr std::uint64_t kDefaultSamples = 1000;

const fennec_tools::Args::Program kProgram{
    "fennec-quantize",
    "Quantizes an f32 Fennec model file to int8 (per-channel symmetric weights, per-layer "
    "asymmetric activations, integer requantization: docs/quantization.md). The activation ranges "
    "are calibrated on training images of an MNIST-family IDX directory.",
    "IN: an f32 Fennec model file (fennec-train --save). A safetensors file or a training checkpoint\n"
    "    is converted first (fennec-convert IN model.fennec); an int8 file is refused. Batch norm is\n"
    "    folded into its dense layer and dropout dropped before quantizing. Layers must be identity,\n"
    "    relu or leaky_relu (sigmoid and tanh have no int8 form).\n"
    "OUT: the int8 model file (magic FENNECQ8); fennec-infer --model OUT runs it.\n"
    "--calibration DIR: train-images-idx3-ubyte (plain or .gz; with the other three files of the\n"
    "    set, as fennec-train --data reads it); pixels scaled by 1/255. --samples N of its images\n"
    "    (at most the file's count; default 1000, or all of them when the file holds fewer) are drawn\n"
    "    without replacement, the same ones for a given --seed (default 1).\n"
    "--clip minmax (default): each layer input's observed minimum and maximum. --clip percentile:\n"
    "    the [100 - P, P] percentiles (--percentile P, 50 < P <= 100, default 99.99), so that a few\n"
    "    outliers do not stretch every other value's scale.\n"
    "Prints each layer's input scale and zero point and the weight bytes, f32 against int8.\n"
    "Examples:\n"
    "  fennec-quantize m.fennec m8.fennec --calibration /usr/share/datasets/fashion-mnist\n"
    "  fennec-quantize m.fennec m8.fennec --calibration DIR --samples 5000 --clip percentile --percentile 99.9\n"
    "  fennec-infer --model m8.fennec --data /usr/share/datasets/fashion-mnist\n"
    "Exit status: 0 written, 1 error (model or data refused, or OUT not written, with the reason), 2 bad\n"
    "command line.\n"};

std::vector<fennec_tools::Args::Flag> flags() {
  return {
      {"calibration", true, "MNIST-family IDX directory; its training images calibrate the ranges", "DIR"},
      {"samples", true, "calibration images (default 1000 or the file's count if lower)", "N"},
      {"clip", true, "minmax | percentile: how each activation range is chosen (default minmax)", "METHOD"},
      {"percentile", true, "with --clip percentile: keep the [100 - P, P] percentiles (default 99.99)", "P"},
      {"seed", true, "which calibration images are drawn (default 1)", "S"},
      {"isa", true, "auto|ref|sse2|avx2|avx512|neon|neon64: the f32 calibration pass's kernels", "ISA"},
      {"allow-large-arena", false, "take an arena above 4 GiB (refused by default, with the plan's size)"},
  };
}

// An f32 Fennec model file, or a sentence saying what IN is instead and what to do about it.
void require_f32_model(const std::vector<unsigned char>& b, const std::string& path) {
  if (fennec::is_quantized_file(b.data(), b.size()))
    throw std::runtime_error(path + " is already an int8 (quantized) model file; fennec-quantize reads the f32 "
                             "Fennec model file it was made from");
  const fennec::FileKind k = fennec::detect_file_kind(b.data(), b.size());
  if (k == fennec::FileKind::kModelFile) return;
  std::string what = path + " is " + fennec::file_kind_name(k) + "; fennec-quantize reads an f32 Fennec model file";
  if (k == fennec::FileKind::kSafetensors)
    what += ": convert it first (fennec-convert " + path + " model.fennec --activations relu,...,identity)";
  else if (k == fennec::FileKind::kCheckpoint)
    what += ": extract its model first (fennec-convert " + path + " model.fennec)";
  throw std::runtime_error(what);
}

// `count` distinct indices of [0, total), the same ones for a given seed: a partial Fisher-Yates
// shuffle, then sorted so the calibration set is read in file order.
std::vector<std::uint32_t> draw_samples(std::size_t total, std::size_t count, std::uint64_t seed) {
  std::vector<std::uint32_t> all(total);
  std::iota(all.begin(), all.end(), 0u);
  fennec::Rng rng(seed);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + rng.below(static_cast<std::uint32_t>(total - i));
    std::swap(all[i], all[j]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

const char* clip_name(fennec::ClipMethod c) { return c == fennec::ClipMethod::kPercentile ? "percentile" : "minmax"; }

}  // namespace

int main(int argc, char** argv) {
  try {
    fennec_tools::Args args(argc, argv, flags(), kProgram,
                            {{"IN", "the f32 Fennec model file", false}, {"OUT", "the int8 model file to write", false}});
    if (args.help_requested()) {
      std::fputs(args.help().c_str(), stdout);
      return 0;
    }
    const std::vector<std::string>& positional = args.positional();
    if (positional.size() != 2) throw ArgError("expected IN and OUT (the f32 model and the int8 file to write)");
    const std::string in = positional[0], out = positional[1];
    if (!args.has("calibration")) throw ArgError("--calibration DIR is required (an MNIST-family IDX directory)");
    const std::string dir = args.str("calibration", "");
    if (dir.empty()) throw ArgError("--calibration needs a directory");
    fennec::QuantOptions qo;
    const std::string clip = args.str("clip", "minmax");
    if (clip == "percentile") {
      qo.clip = fennec::ClipMethod::kPercentile;
    } else if (clip != "minmax") {
      throw ArgError("--clip '" + clip + "': expected minmax or percentile");
    }
    if (args.has("percentile")) {
      if (qo.clip != fennec::ClipMethod::kPercentile) throw ArgError("--percentile goes with --clip percentile");
      qo.percentile = args.real("percentile", qo.percentile);
      if (!(qo.percentile > 50.0 && qo.percentile <= 100.0))
        throw ArgError("--percentile " + args.str("percentile", "") + ": expected 50 < P <= 100");
    }
    // The upper bound is the file's image count, known once the data is read; without --samples
    // a file of fewer than 1000 images is used whole.
    const bool samples_given = args.has("samples");
    const std::uint64_t wanted = args.integer("samples", kDefaultSamples, 0, UINT32_MAX);
    if (wanted == 0) throw ArgError("--samples 0: calibration needs at least one image");
    const std::uint64_t seed = args.integer("seed", 1, 0, UINT64_MAX);
    const fennec::Isa isa = fennec_tools::isa_flag(args, fennec::Isa::kAuto);
    fennec_tools::check_output_path(out, "OUT");
    std::error_code same_error;
    if (std::filesystem::equivalent(in, out, same_error))
      throw ArgError("OUT " + out + " is IN: write the int8 model to another file (IN stays the f32 model)");
    const bool allow_large = args.has("allow-large-arena");

    const std::vector<unsigned char> bytes = fennec_tools::read_whole_file(in);
    require_f32_model(bytes, in);
    fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(bytes.data(), bytes.size());
    if (!info.is_ok()) throw std::runtime_error(in + ": " + info.status().message());
    const fennec::ModelSpec spec = info->spec;
    fennec::ModelOptions mo = fennec::ModelOptions::inference(1);
    mo.isa = isa;
    // A batch-norm model is folded into a plain one: the int8 scheme has no batch-norm layer.
    const fennec::ModelSpec plain = fennec::folded_spec(spec);
    const fennec::MemoryPlan f32_plan = fennec::plan(spec, mo);
    fennec_tools::ArenaBuffer f32_storage(spec.has_batchnorm() ? f32_plan.total() + fennec::plan(plain, mo).total()
                                                               : f32_plan.total(),
                                          fennec_tools::plan_summary(f32_plan), allow_large);
    fennec::Model model = fennec_tools::load_any(bytes, in, fennec::SafetensorsImport{}, mo, f32_storage.arena());
    if (spec.has_batchnorm()) {
      fennec::Result<fennec::Model> folded = fennec::Model::bind(plain, mo, f32_storage.arena());
      if (!folded.is_ok()) throw std::runtime_error(in + ": " + folded.status().message());
      const fennec::Status s = fennec::fold_batchnorm(model, folded.value());
      if (!s.is_ok()) throw std::runtime_error(in + ": folding batch norm: " + s.message());
      model = std::move(folded).value();
    }

    fennec_tools::MnistSet mnist;
    std::string error;
    if (!fennec_tools::load_mnist_dir(dir, mnist, error)) throw std::runtime_error("--calibration " + error);
    fennec_tools::SampleSet train;
    if (!fennec_tools::samples_from_idx(std::move(mnist.train_images), std::move(mnist.train_labels),
                                        mnist.train_images_path, dir + "/train-labels-idx1-ubyte", 1u << 16, train,
                                        error))
      throw std::runtime_error(error);
    if (train.width != plain.input)
      throw std::runtime_error(train.source + ": images of " + std::to_string(train.width) +
                               " pixels, the model takes " + std::to_string(plain.input) + " inputs");
    if (wanted > train.count && samples_given)
      throw ArgError("--samples " + std::to_string(wanted) + ": " + train.source + " holds " +
                     std::to_string(train.count) + " images");
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, train.count));
    const std::vector<std::uint32_t> picked = draw_samples(train.count, n, seed);
    std::vector<float> x(n * plain.input);
    std::vector<std::int32_t> unused_labels(n);
    train.batch(picked.data(), n, x.data(), unused_labels.data());

    const fennec::QuantizedPlan qp = fennec::quantized_plan(plain, qo.max_batch);
    const std::size_t scratch = fennec::calibration_scratch_bytes(plain, qo);
    fennec_tools::ArenaBuffer q_storage(qp.total() + scratch,
                                        std::to_string(qp.total() + scratch) + " bytes (int8 model " +
                                            std::to_string(qp.total()) + ", calibration scratch " +
                                            std::to_string(scratch) + ")",
                                        allow_large);
    fennec::Result<fennec::QuantizedModel> q =
        fennec::quantize(model, fennec::ConstMatrixView(x.data(), n, plain.input), qo, q_storage.arena());
    if (!q.is_ok()) throw std::runtime_error(in + ": " + q.status().message());

    const fennec::Status saved = fennec::save_quantized_model_file(q.value(), out.c_str());
    if (!saved.is_ok()) throw std::runtime_error(out + ": " + saved.message());

    std::printf("model: %s (fennec, f32): %s, %zu parameters%s\n", in.c_str(), fennec_tools::describe(spec).c_str(),
                spec.num_parameters(), spec.has_batchnorm() ? " (batch norm folded into its dense layers)" : "");
    std::printf("calibration: %zu of %zu images of %s (seed %llu), clip %s", n, train.count, train.source.c_str(),
                static_cast<unsigned long long>(seed), clip_name(qo.clip));
    if (qo.clip == fennec::ClipMethod::kPercentile) std::printf(" %g", qo.percentile);
    std::printf("\n");
    std::size_t f32_weight_bytes = 0;
    for (std::size_t l = 0; l < q->num_layers(); ++l) {
      const fennec::QuantizedLayer& layer = q->layer(l);
      f32_weight_bytes += std::size_t{layer.units} * layer.fan_in * sizeof(float);
      std::printf("layer %zu (%u -> %u, %s): input scale %.6g, zero point %d\n", l + 1,
                  static_cast<unsigned>(layer.fan_in), static_cast<unsigned>(layer.units),
                  fennec::activation_name(layer.activation.kind), static_cast<double>(layer.in_scale),
                  static_cast<int>(layer.in_zero_point));
    }
    const std::size_t int8_weight_bytes = q->weight_bytes();
    std::printf("weights: f32 %zu bytes, int8 %zu bytes (%.2fx smaller)\n", f32_weight_bytes, int8_weight_bytes,
                static_cast<double>(f32_weight_bytes) / static_cast<double>(int8_weight_bytes));
    std::printf("%s (fennec int8): %llu bytes, against %zu for %s\n", out.c_str(),
                static_cast<unsigned long long>(fennec::quantized_model_file_size(q.value())), bytes.size(), in.c_str());
    return 0;
  } catch (const ArgError& e) {
    std::fprintf(stderr, "fennec-quantize: %s\nRun 'fennec-quantize --help' for the flags.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fennec-quantize: error: %s\n", e.what());
    return 1;
  }
}
