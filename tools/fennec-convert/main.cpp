// SPDX-License-Identifier: Apache-2.0
// fennec-convert IN OUT: Fennec model file <-> safetensors, and a training checkpoint -> its
// model (format of IN from its bytes, of OUT from its extension: .fennec or .safetensors).
// --fold-batchnorm writes the model with batch norm folded into the dense layers and dropout
// removed: a plain MLP that inference-only builds (the Cortex-M firmware) run.
#include <cstdio>
#include <exception>

#include <optional>

#include <fennec/checkpoint.hpp>
#include <fennec/fold.hpp>
#include <fennec/quant_io.hpp>

#include "common/arena_buffer.hpp"
#include "common/args.hpp"
#include "common/file_names.hpp"
#include "common/model_files.hpp"

namespace {

using fennec_tools::ends_with;

const fennec_tools::Args::Program kProgram{
    "fennec-convert",
    "Converts a model between the Fennec model file and safetensors, or extracts the model of a "
    "Fennec training checkpoint. The format of IN is told from its bytes, that of OUT from its "
    "extension.",
    "IN: a Fennec model file, a Fennec training checkpoint (its model is extracted) or a safetensors\n"
    "    file (nn.Sequential of nn.Linear: 0.weight, 0.bias, 2.weight, ...; F32, F16, BF16 or F64;\n"
    "    F64 values are rounded to the nearest float32, Fennec's precision: about 7 significant\n"
    "    digits). A BatchNorm1d after a Linear (1.weight, 1.bias, 1.running_mean, 1.running_var,\n"
    "    1.num_batches_tracked) becomes that layer's batch norm, eps/momentum from the file's\n"
    "    fennec.batchnorm metadata, else PyTorch's 1e-5/0.1; dropout from fennec.dropout, else none.\n"
    "OUT: *.fennec writes a Fennec model file, *.safetensors safetensors (F32); other extensions are\n"
    "    refused.\n"
    "Safetensors input: --activations defaults to the file's fennec.activations metadata, --loss to\n"
    "its fennec.loss metadata, else softmax_cross_entropy. --prefix layers. reads a module holding its\n"
    "nn.Sequential as self.layers (layers.0.weight, ...); --layers fc1,fc2,fc3 a custom module's\n"
    "Linear layers in order (fc1.weight, fc1.bias, ...).\n"
    "--fold-batchnorm: write the model with every batch norm folded into its dense layer (running\n"
    "    statistics: W' = s W, b' = s (b - mean) + beta, s = gamma / sqrt(var + eps)) and dropout\n"
    "    removed, a plain MLP for inference-only builds (the Cortex-M firmware refuses batch norm);\n"
    "    its outputs are the eval-mode outputs of IN. Without it batch norm and dropout are kept.\n"
    "Exit status: 0 written, 1 error (input refused or output not written, with the reason), 2 bad\n"
    "command line.\n"};

// The model of a training checkpoint, bound for inference in `storage`.
fennec::Model checkpoint_model(const std::vector<unsigned char>& bytes, const std::string& path,
                               std::optional<fennec_tools::ArenaBuffer>& storage, bool allow_large) {
  fennec::Result<fennec::CheckpointInfo> info = fennec::read_checkpoint_info(bytes.data(), bytes.size());
  if (!info.is_ok()) throw std::runtime_error(path + ": " + info.status().message());
  const fennec::ModelOptions options = fennec::ModelOptions::training(1, info->trainer.optimizer);
  storage.emplace(fennec::plan(info->spec, options), allow_large);
  fennec::Result<fennec::Model> m = fennec::Model::bind(info->spec, options, storage->arena());
  if (!m.is_ok()) throw std::runtime_error(path + ": " + m.status().message());
  fennec::Result<fennec::Trainer> t = fennec::Trainer::create(m.value(), info->trainer);
  if (!t.is_ok()) throw std::runtime_error(path + ": " + t.status().message());
  fennec::Rng rng(0);
  std::vector<unsigned char> user(static_cast<std::size_t>(info->user_bytes));
  const fennec::Status s = fennec::restore_checkpoint(bytes.data(), bytes.size(), t.value(), rng,
                                                      user.data(), user.size());
  if (!s.is_ok()) throw std::runtime_error(path + ": " + s.message());
  return std::move(m).value();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    fennec_tools::Args args(argc, argv,
                            {{"activations", true, "one per Linear layer for safetensors input, e.g. relu,relu,identity",
                              "LIST"},
                             {"loss", true, "softmax_cross_entropy | mse | sigmoid_bce (safetensors input)", "NAME"},
                             {"prefix", true, "safetensors names start with P, e.g. layers.", "P"},
                             {"layers", true, "the Linear layers by name, in order, e.g. fc1,fc2,fc3", "LIST"},
                             {"fold-batchnorm", false,
                              "fold batch norm into the dense layers and drop dropout (a plain MLP)"},
                             {"allow-large-arena", false,
                              "take an arena above 4 GiB (refused by default, with the plan's size)"}},
                            kProgram,
                            {{"IN", "the model to read", false}, {"OUT", "the file to write", false}});
    if (args.help_requested()) {
      std::fputs(args.help().c_str(), stdout);
      return 0;
    }
    const std::vector<std::string>& positional = args.positional();
    if (positional.size() != 2) throw fennec_tools::ArgError("expected IN and OUT");
    std::vector<fennec::ActivationSpec> acts;
    fennec::SafetensorsImport import;
    fennec_tools::parse_import_flags(args, acts, import);
    fennec_tools::NameMapping names;
    names.parse(args, import);
    const std::string in = positional[0], out = positional[1];
    const bool to_safetensors = ends_with(out, ".safetensors");
    if (!to_safetensors && !ends_with(out, ".fennec")) {
      const std::size_t dot = out.find_last_of("./");
      const std::string ext = dot != std::string::npos && out[dot] == '.' ? out.substr(dot) : "(none)";
      throw fennec_tools::ArgError("OUT " + out + ": fennec-convert writes .fennec (Fennec model file) or "
                                   ".safetensors, not " + ext);
    }
    const std::vector<unsigned char> bytes = fennec_tools::read_whole_file(in);
    // An int8 model has no faithful safetensors or f32 model-file form (its scales and integer
    // requantization would have to be invented), so it is refused rather than mapped.
    if (fennec::is_quantized_file(bytes.data(), bytes.size()))
      throw std::runtime_error(in + ": an int8 (quantized) model file; fennec-convert has no mapping of int8 models to "
                               "safetensors or to the f32 model file (keep the f32 model it was quantized from)");
    const bool allow_large = args.has("allow-large-arena");
    std::optional<fennec_tools::ArenaBuffer> storage;
    fennec::Model model;
    const char* in_kind = "fennec";
    if (fennec_tools::is_checkpoint(bytes)) {
      model = checkpoint_model(bytes, in, storage, allow_large);
      in_kind = "checkpoint";
    } else {
      const fennec::ModelSpec spec = fennec_tools::read_spec(bytes, in, import);
      const fennec::ModelOptions options = fennec::ModelOptions::inference(1);
      storage.emplace(fennec::plan(spec, options), allow_large);
      model = fennec_tools::load_any(bytes, in, import, options, storage->arena());
      if (!fennec_tools::is_fennec_model(bytes)) in_kind = "safetensors";
    }
    std::optional<fennec_tools::ArenaBuffer> folded_storage;
    if (args.has("fold-batchnorm")) {
      const fennec::ModelSpec plain = fennec::folded_spec(model.spec());
      const fennec::ModelOptions options = fennec::ModelOptions::inference(1);
      folded_storage.emplace(fennec::plan(plain, options), allow_large);
      fennec::Result<fennec::Model> folded = fennec::Model::bind(plain, options, folded_storage->arena());
      if (!folded.is_ok()) throw std::runtime_error(in + ": " + folded.status().message());
      const fennec::Status f = fennec::fold_batchnorm(model, folded.value());
      if (!f.is_ok()) throw std::runtime_error(in + ": folding batch norm: " + f.message());
      model = std::move(folded).value();
    }
    const fennec::Status s = to_safetensors ? fennec::save_safetensors_file(model, out.c_str())
                                            : fennec::save_model_file(model, out.c_str());
    if (!s.is_ok()) throw std::runtime_error(out + ": " + s.message());
    std::printf("%s (%s) -> %s (%s): %s, %zu parameters\n", in.c_str(), in_kind, out.c_str(),
                to_safetensors ? "safetensors" : "fennec", fennec_tools::describe(model.spec()).c_str(),
                model.spec().num_parameters());
    return 0;
  } catch (const fennec_tools::ArgError& e) {
    std::fprintf(stderr, "fennec-convert: %s\nRun 'fennec-convert --help' for the flags.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fennec-convert: error: %s\n", e.what());
    return 1;
  }
}
