// fennec-convert IN OUT: Fennec model file <-> safetensors (format of IN from its bytes, of OUT
// from its name: *.safetensors or anything else = Fennec).
#include <cstdio>
#include <exception>

#include "common/arena_buffer.hpp"
#include "common/args.hpp"
#include "io/model_files.hpp"

namespace {

const char* kUsage =
    "usage: fennec-convert IN OUT [--activations LIST] [--loss NAME]\n"
    "  IN: a Fennec model file or a safetensors file (nn.Sequential of nn.Linear: 0.weight, 0.bias,\n"
    "      2.weight, ...; F32, F16 or BF16). OUT: *.safetensors writes safetensors (F32), any\n"
    "      other name a Fennec model file.\n"
    "  --activations  one per Linear layer for safetensors input, e.g. relu,relu,identity\n"
    "                 (default: the file's fennec.activations metadata)\n"
    "  --loss         softmax_cross_entropy | mse | sigmoid_bce (safetensors input; default: the\n"
    "                 file's fennec.loss metadata, else softmax_cross_entropy)\n"
    "  --allow-large-arena  take an arena above 4 GiB (refused by default, with the plan's size)\n";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> positional;
    std::vector<char*> flags{argv[0]};
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      }
      if (a.rfind("--", 0) == 0) {
        flags.push_back(argv[i]);
        if (a.find('=') == std::string::npos && a != "--allow-large-arena" && i + 1 < argc)
          flags.push_back(argv[++i]);
      } else {
        positional.push_back(a);
      }
    }
    if (positional.size() != 2) throw fennec_tools::ArgError("expected IN and OUT");
    fennec_tools::Args args(static_cast<int>(flags.size()), flags.data(),
                            {{"activations", true}, {"loss", true}, {"allow-large-arena", false}});
    std::vector<fennec::ActivationSpec> acts;
    fennec::SafetensorsImport import;
    fennec_tools::parse_import_flags(args, acts, import);
    const std::string in = positional[0], out = positional[1];
    const std::vector<unsigned char> bytes = fennec_tools::read_whole_file(in);
    const fennec::ModelSpec spec = fennec_tools::read_spec(bytes, in, import);
    fennec::ModelOptions options;
    options.mode = fennec::Mode::kInference;
    fennec_tools::ArenaBuffer storage(fennec::plan(spec, options), args.has("allow-large-arena"));
    fennec::Arena& arena = storage.arena();
    fennec::Model model = fennec_tools::load_any(bytes, in, import, options, arena);
    const fennec::Status s = ends_with(out, ".safetensors") ? fennec::save_safetensors_file(model, out.c_str())
                                                            : fennec::save_model_file(model, out.c_str());
    if (!s.is_ok()) throw std::runtime_error(out + ": " + s.message());
    std::printf("%s (%s) -> %s (%s): %s, %zu parameters\n", in.c_str(),
                fennec_tools::is_fennec_model(bytes) ? "fennec" : "safetensors", out.c_str(),
                ends_with(out, ".safetensors") ? "safetensors" : "fennec",
                fennec_tools::describe(spec).c_str(), spec.num_parameters());
    return 0;
  } catch (const fennec_tools::ArgError& e) {
    std::fprintf(stderr, "fennec-convert: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fennec-convert: error: %s\n", e.what());
    return 1;
  }
}
