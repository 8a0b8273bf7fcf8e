// SPDX-License-Identifier: Apache-2.0
// fennec-initstudy: how weight initialisation shapes activations through a deep MLP (the
// chapter's 10 layers x 500 units experiment). Prints per-layer statistics, writes SVG
// histograms and CSV. --all runs the chapter's five cases.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "fennec-initstudy/initstudy.hpp"

namespace {

using fennec_tools::ArgError;

const char* const kUsage =
    "usage: fennec-initstudy [--layers 10] [--width 500] [--batch 1000]\n"
    "                        [--activation tanh|relu|sigmoid|leaky_relu|identity]\n"
    "                        [--init normal:0.01|normal:1|xavier|he|glorot|...] [--gradients]\n"
    "                        [--seed N] [--bins 40] [--runs 10] [--isa NAME]\n"
    "                        [--svg FILE] [--csv FILE]\n"
    "       fennec-initstudy --all [--out DIR] [other flags but --activation/--init/--svg/--csv]\n"
    "Feeds N(0,1) inputs (batch x width) through `layers` dense layers and prints, per layer,\n"
    "the mean and standard deviation of the activations (with --gradients also of dL/dW for a\n"
    "unit upstream gradient). --all runs the chapter's five cases (tanh with N(0,0.01), N(0,1),\n"
    "Xavier; ReLU with Xavier, He) and writes DIR/initstudy-<case>.svg and .csv (DIR default .).\n";

struct Case {
  const char* activation;
  const char* init;
  const char* file;
};
const Case kChapterCases[] = {
    {"tanh", "normal:0.01", "initstudy-tanh-normal0.01"},
    {"tanh", "normal:1", "initstudy-tanh-normal1"},
    {"tanh", "xavier", "initstudy-tanh-xavier"},
    {"relu", "xavier", "initstudy-relu-xavier"},
    {"relu", "he", "initstudy-relu-he"},
};

int run_one(const fennec_tools::InitStudyConfig& cfg, const std::string& svg, const std::string& csv) {
  fennec_tools::InitStudyResult r;
  std::string error;
  if (!fennec_tools::run_init_study(cfg, r, error)) {
    std::fprintf(stderr, "fennec-initstudy: error: %s\n", error.c_str());
    return 1;
  }
  std::fputs(fennec_tools::format_init_table(cfg, r).c_str(), stdout);
  if (!svg.empty()) {
    if (!fennec_tools::write_init_svg(cfg, r, svg, error)) {
      std::fprintf(stderr, "fennec-initstudy: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("figure: %s\n", svg.c_str());
  }
  if (!csv.empty()) {
    if (!fennec_tools::write_init_csv(cfg, r, csv, error)) {
      std::fprintf(stderr, "fennec-initstudy: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("table: %s\n", csv.c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  fennec_tools::InitStudyConfig cfg;
  std::string svg, csv, out_dir;
  bool all = false;
  try {
    fennec_tools::Args a(argc, argv,
                         {{"layers", true}, {"width", true}, {"batch", true}, {"activation", true},
                          {"init", true}, {"gradients", false}, {"seed", true}, {"svg", true},
                          {"csv", true}, {"all", false}, {"out", true}, {"bins", true},
                          {"runs", true}, {"isa", true}, {"help", false}});
    if (a.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    cfg.layers = a.integer("layers", 10, 1, fennec::kMaxLayers);
    cfg.width = a.integer("width", 500, 1, 1u << 14);
    cfg.batch = a.integer("batch", 1000, 1, 1u << 16);
    cfg.gradients = a.has("gradients");
    cfg.seed = a.integer("seed", 1, 0, UINT64_MAX);
    cfg.bins = a.integer("bins", 40, 2, 1000);
    cfg.timing_runs = a.integer("runs", 10, 0, 10000);
    if (cfg.layers * cfg.width * cfg.batch > (std::size_t{1} << 30)) {
      throw ArgError("--layers x --width x --batch above 2^30 values; choose a smaller study");
    }
    cfg.isa = fennec_tools::isa_flag(a, cfg.isa);
    all = a.has("all");
    if (all) {
      for (const char* f : {"activation", "init", "svg", "csv"})
        if (a.has(f)) throw ArgError(std::string("--all picks its own cases; drop --") + f);
      out_dir = a.str("out", ".");
    } else {
      if (a.has("out")) throw ArgError("--out goes with --all (use --svg/--csv for one case)");
      cfg.activation = fennec_tools::parse_activation_spec(a.str("activation", "tanh"), "--activation");
      cfg.init = fennec_tools::parse_init(a.str("init", "normal:0.01"), "--init");
      svg = a.str("svg", "");
      csv = a.str("csv", "");
    }
  } catch (const ArgError& e) {
    std::fprintf(stderr, "fennec-initstudy: error: %s\nRun 'fennec-initstudy --help' for usage.\n", e.what());
    return 2;
  }
  if (!all) return run_one(cfg, svg, csv);

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "fennec-initstudy: error: %s: cannot create directory: %s\n", out_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  for (const Case& c : kChapterCases) {
    cfg.activation = fennec_tools::parse_activation_spec(c.activation, "case");
    cfg.init = fennec_tools::parse_init(c.init, "case");
    const std::string base = out_dir + "/" + c.file;
    const int rc = run_one(cfg, base + ".svg", base + ".csv");
    if (rc != 0) return rc;
    std::printf("\n");
  }
  return 0;
}
