// SPDX-License-Identifier: Apache-2.0
// fennec-initstudy: how weight initialisation shapes activations and gradients through a deep
// MLP (the chapter's 10 layers x 500 units experiment). Prints per-layer statistics, writes SVG
// histograms and CSV. --all runs every case of init_study_cases() and the overlay figure.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "fennec-initstudy/initstudy.hpp"

namespace {

using fennec_tools::ArgError;

std::string cases_text() {
  std::string s;
  for (const fennec_tools::InitCaseSpec& c : fennec_tools::init_study_cases())
    s += std::string(s.empty() ? "" : ", ") + c.activation + " " + c.init;
  return s;
}

fennec_tools::Args::Program program() {
  return {"fennec-initstudy",
          "Feeds N(0,1) inputs (batch x width) through `layers` dense layers and prints, per layer, "
          "the mean and standard deviation of the activations (with --gradients also the RMS of "
          "dL/da and the statistics of dL/dW for a unit upstream gradient).",
          "--all runs " + std::to_string(fennec_tools::init_study_cases().size()) + " cases (" +
              cases_text() +
              ") with gradients and writes DIR/initstudy-<case>.svg and .csv, and "
              "DIR/initstudy-summary.svg and .csv (every case's activation std and gradient RMS "
              "per layer). Exit status: 0 done, 1 a run or a file failed, 2 bad flags."};
}

const std::vector<fennec_tools::Args::Flag> kFlags = {
    {"layers", true, "dense layers (default 10)", "N"},
    {"width", true, "units per layer, also the input width (default 500)", "N"},
    {"batch", true, "inputs drawn from N(0,1) (default 1000)", "N"},
    {"activation", true, "tanh | relu | sigmoid | leaky_relu[:ALPHA] | identity (default tanh)", "NAME"},
    {"init", true,
     "normal:SIGMA (N(0, SIGMA^2)) | xavier | glorot | he | uniform:A | ... (default normal:0.01)", "INIT"},
    {"gradients", false, "also run backward from dL/d(last output) = 1"},
    {"seed", true, "random seed of weights and inputs (default 1)", "N"},
    {"bins", true, "histogram bins (default 40)", "N"},
    {"runs", true, "timed forward passes after one warm-up (default 10)", "N"},
    {"isa", true, "kernel table: auto, ref, sse2, avx2, avx512, ... (default auto)", "NAME"},
    {"svg", true, "write the histograms and the per-layer chart here", "FILE"},
    {"csv", true, "write the per-layer statistics and histogram counts here", "FILE"},
    {"all", false, "run every case (see below); --activation, --init, --svg, --csv not allowed"},
    {"out", true, "directory of --all's figures and tables (default .)", "DIR"},
    {"help", false},
};

int fail(const std::string& error) {
  std::fprintf(stderr, "fennec-initstudy: error: %s\n", error.c_str());
  return 1;
}

int run_one(const fennec_tools::InitStudyConfig& cfg, const std::string& svg, const std::string& csv,
            fennec_tools::InitStudyResult& r) {
  std::string error;
  if (!fennec_tools::run_init_study(cfg, r, error)) return fail(error);
  std::fputs(fennec_tools::format_init_table(cfg, r).c_str(), stdout);
  if (!svg.empty()) {
    if (!fennec_tools::write_init_svg(cfg, r, svg, error)) return fail(error);
    std::printf("figure: %s\n", svg.c_str());
  }
  if (!csv.empty()) {
    if (!fennec_tools::write_init_csv(cfg, r, csv, error)) return fail(error);
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
    fennec_tools::Args a(argc, argv, kFlags, program());
    if (a.help_requested()) {
      std::fputs(a.help().c_str(), stdout);
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
      cfg.gradients = true;  // the overlay figure's gradient-flow panel
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
  if (!all) {
    fennec_tools::InitStudyResult r;
    return run_one(cfg, svg, csv, r);
  }

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return fail(out_dir + ": cannot create directory: " + ec.message());
  std::vector<fennec_tools::InitCase> done;
  for (const fennec_tools::InitCaseSpec& c : fennec_tools::init_study_cases()) {
    cfg.activation = fennec_tools::parse_activation_spec(c.activation, "case");
    cfg.init = fennec_tools::parse_init(c.init, "case");
    const std::string base = out_dir + "/initstudy-" + c.id;
    fennec_tools::InitCase finished{c.id, cfg, {}};
    const int rc = run_one(cfg, base + ".svg", base + ".csv", finished.result);
    if (rc != 0) return rc;
    done.push_back(std::move(finished));
    std::printf("\n");
  }
  std::string error;
  const std::string base = out_dir + "/initstudy-summary";
  if (!fennec_tools::write_init_summary_svg(done, base + ".svg", error)) return fail(error);
  if (!fennec_tools::write_init_summary_csv(done, base + ".csv", error)) return fail(error);
  std::printf("figure: %s.svg\ntable: %s.csv\n", base.c_str(), base.c_str());
  return 0;
}
