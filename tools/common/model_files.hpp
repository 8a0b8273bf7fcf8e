// SPDX-License-Identifier: Apache-2.0
// Shared by fennec-infer and fennec-convert: read a model file of either format (detected from
// its first bytes, not its name) into an arena. Tool code: may allocate and throw at setup.
#pragma once

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>
#include <fennec/io.hpp>
#include <fennec/io_file.hpp>
#include <fennec/safetensors.hpp>

#include "common/args.hpp"

namespace fennec_tools {

inline std::vector<unsigned char> read_whole_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  std::vector<unsigned char> b;
  unsigned char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) b.insert(b.end(), buf, buf + n);
  const bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) throw std::runtime_error("cannot read " + path);
  return b;
}

// A model file's bytes wherever they are: a vector read from the file, or a read-only mapping.
struct ByteSpan {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  ByteSpan(const unsigned char* d, std::size_t n) : data(d), size(n) {}
  ByteSpan(const std::vector<unsigned char>& b) : data(b.data()), size(b.size()) {}  // NOLINT
};

// --activations a,b,c and --loss NAME, shared by fennec-infer and fennec-convert: how a
// safetensors file (which stores only tensors) is turned into a network. `acts` owns the specs
// `import` points at, so it must outlive `import`.
inline void parse_import_flags(const Args& args, std::vector<fennec::ActivationSpec>& acts,
                               fennec::SafetensorsImport& import) {
  if (args.has("activations")) {
    const std::string list = args.str("activations", "");
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = list.find(',', start);
      acts.push_back(parse_activation_spec(
          list.substr(start, comma == std::string::npos ? std::string::npos : comma - start),
          "--activations"));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    import.activations = acts.data();
    import.num_activations = acts.size();
  }
  if (args.has("loss")) {
    const std::string l = args.str("loss", "");
    bool found = false;
    for (int k = 0; k <= static_cast<int>(fennec::Loss::kSigmoidBce); ++k)
      if (l == fennec::loss_name(static_cast<fennec::Loss>(k))) {
        import.loss = static_cast<fennec::Loss>(k);
        found = true;
      }
    if (!found) throw ArgError("--loss: unknown loss '" + l + "'");
  }
}

// --prefix P and --layers a,b,c (fennec-convert): safetensors names other than an
// nn.Sequential's. Owns the strings `import` points at, so it must outlive `import`.
struct NameMapping {
  std::string prefix;
  std::vector<std::string> names;
  std::vector<const char*> pointers;

  void parse(const Args& args, fennec::SafetensorsImport& import) {
    if (args.has("prefix")) {
      prefix = args.str("prefix", "");
      if (prefix.empty()) throw ArgError("--prefix: empty");
      import.prefix = prefix.c_str();
    }
    if (args.has("layers")) {
      const std::string list = args.str("layers", "");
      std::size_t start = 0;
      for (;;) {
        const std::size_t comma = list.find(',', start);
        names.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (names.back().empty()) throw ArgError("--layers: empty layer name in '" + list + "'");
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (names.size() > fennec::kMaxLayers)
        throw ArgError("--layers: " + std::to_string(names.size()) + " names, at most " +
                       std::to_string(fennec::kMaxLayers));
      for (const std::string& n : names) pointers.push_back(n.c_str());
      import.layer_names = pointers.data();
      import.num_layer_names = pointers.size();
    }
  }
};

inline bool is_fennec_model(ByteSpan b) {
  return fennec::detect_file_kind(b.data, b.size) == fennec::FileKind::kModelFile;
}

inline bool is_checkpoint(ByteSpan b) {
  return fennec::detect_file_kind(b.data, b.size) == fennec::FileKind::kCheckpoint;
}

// A file that is neither format fennec-infer and fennec-convert read as a model: say what it is.
inline void require_model_kind(ByteSpan b, const std::string& path) {
  const fennec::FileKind k = fennec::detect_file_kind(b.data, b.size);
  if (k == fennec::FileKind::kModelFile || k == fennec::FileKind::kSafetensors) return;
  std::string what = path + " is " + fennec::file_kind_name(k) +
                     "; expected a Fennec model file or a safetensors file";
  if (k == fennec::FileKind::kCheckpoint)
    what += " (fennec-convert " + path + " model.fennec extracts its model)";
  throw std::runtime_error(what);
}

inline std::string describe(const fennec::ModelSpec& s) {
  std::string out = std::to_string(s.input);
  for (std::size_t i = 0; i < s.num_layers; ++i) {
    // "512(bn,relu,dropout 0.2)" for a layer with batch norm and dropout (docs/layers.md).
    const fennec::LayerSpec& l = s.layers[i];
    char p[32] = "";
    if (l.dropout > 0.f) std::snprintf(p, sizeof p, ",dropout %g", static_cast<double>(l.dropout));
    out += "-" + std::to_string(l.units) + "(" + (l.batchnorm.enabled ? "bn," : "") +
           fennec::activation_name(l.activation.kind) + p + ")";
  }
  return out + ", loss " + fennec::loss_name(s.loss);
}

// The model's spec from a file of either format. `import` is used for safetensors only.
inline fennec::ModelSpec read_spec(ByteSpan b, const std::string& path,
                                   const fennec::SafetensorsImport& import) {
  require_model_kind(b, path);
  if (is_fennec_model(b)) {
    fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(b.data, b.size);
    if (!info.is_ok()) throw std::runtime_error(path + ": " + info.status().message());
    return info->spec;
  }
  fennec::Result<fennec::ModelSpec> spec = fennec::read_safetensors_spec(b.data, b.size, import);
  if (!spec.is_ok())
    throw std::runtime_error(path + " (read as safetensors): " + spec.status().message());
  return spec.value();
}

// A Fennec model file with options.external_parameters runs in place from `b` (which must then
// outlive the model); everything else is copied into the arena.
inline fennec::Model load_any(ByteSpan b, const std::string& path,
                              const fennec::SafetensorsImport& import,
                              const fennec::ModelOptions& options, fennec::Arena& arena) {
  // NaN/Inf weights are refused with a message rather than run.
  fennec::LoadOptions checked;
  checked.check_finite = true;
  fennec::SafetensorsImport checked_import = import;
  checked_import.check_finite = true;
  fennec::Result<fennec::Model> m =
      !is_fennec_model(b)          ? fennec::load_safetensors(b.data, b.size, checked_import, options, arena)
      : options.external_parameters ? fennec::load_model_in_place(b.data, b.size, options, arena, checked)
                                    : fennec::load_model(b.data, b.size, options, arena, checked);
  if (!m.is_ok()) throw std::runtime_error(path + ": " + m.status().message());
  return std::move(m).value();
}

}  // namespace fennec_tools
