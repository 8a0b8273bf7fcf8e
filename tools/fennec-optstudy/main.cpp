// SPDX-License-Identifier: Apache-2.0
// fennec-optstudy: SGD, momentum, AdaGrad, RMSProp and Adam on a ravine, a saddle and the
// Rosenbrock function, using Fennec's optimizer_step. Prints steps to the tolerance and final
// values; writes an SVG of contours and trajectories and a CSV of the trajectories.
#include <cstdio>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "fennec-optstudy/optstudy.hpp"

namespace {

using fennec_tools::ArgError;

fennec_tools::Args::Program program() {
  char chapter[200];
  std::snprintf(chapter, sizeof chapter,
                "--chapter is the chapter's own setting: the ravine, every optimizer at lr %g for %zu steps. ",
                fennec_tools::kChapterLr, fennec_tools::kChapterSteps);
  return {"fennec-optstudy",
          "Minimises 2-D test functions from a fixed start with each optimizer. Without --lr each "
          "optimizer gets the learning rate (10^(k/8), 1e-5..1) that reaches the tolerance in the "
          "fewest steps. Prints steps and final f - f*; --svg draws contours and trajectories (one "
          "panel per optimizer and function), --csv writes the trajectories.",
          std::string(chapter) + "Exit status: 0 done, 1 a file could not be written, 2 bad flags."};
}

const std::vector<fennec_tools::Args::Flag> kFlags = {
    {"function", true, "ravine | saddle | rosenbrock | all (default all)", "NAME"},
    {"tol", true, "reached when f - f* <= X from then on (default 1e-6)", "X"},
    {"max-steps", true, "step budget of every run (default 10000)", "N"},
    {"lr", true, "one learning rate for every optimizer instead of each one's best on the grid", "X"},
    {"optimizers", true, "comma-separated (default sgd,momentum,adagrad,rmsprop,adam)", "LIST"},
    {"chapter", false, "the chapter's setting (see below); not with --function, --lr, --max-steps"},
    {"svg", true, "write the figure here", "FILE"},
    {"csv", true, "write every trajectory here (function,optimizer,lr,...,step,x,y)", "FILE"},
    {"help", false},
};

}  // namespace

int main(int argc, char** argv) {
  fennec_tools::OptStudyConfig cfg;
  std::vector<const fennec_tools::TestFunction*> fns;
  std::string svg, csv;
  try {
    fennec_tools::Args a(argc, argv, kFlags, program());
    if (a.help_requested()) {
      std::fputs(a.help().c_str(), stdout);
      return 0;
    }
    const bool chapter = a.has("chapter");
    if (chapter) {
      for (const char* f : {"function", "lr", "max-steps"})
        if (a.has(f)) throw ArgError(std::string("--chapter sets its own ") + f + "; drop --" + f);
      cfg = fennec_tools::chapter_config();
    }
    const std::string which = chapter ? "ravine" : a.str("function", "all");
    if (which == "all") {
      for (const fennec_tools::TestFunction& f : fennec_tools::test_functions()) fns.push_back(&f);
    } else {
      const fennec_tools::TestFunction* f = fennec_tools::find_test_function(which);
      if (!f) throw ArgError("--function: unknown function '" + which + "' (ravine, saddle, rosenbrock, all)");
      fns.push_back(f);
    }
    cfg.tolerance = a.positive("tol", 1e-6);
    if (!chapter) {
      cfg.max_steps = a.integer("max-steps", 10000, 1, 10000000);
      cfg.fixed_lr = a.has("lr") ? a.positive("lr", 1.0) : 0;
    }
    if (a.has("optimizers")) {
      cfg.optimizers.clear();
      const std::string list = a.str("optimizers", "");
      std::size_t start = 0;
      while (true) {
        const std::size_t comma = list.find(',', start);
        const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        fennec::Result<fennec::OptimizerKind> k = fennec::parse_optimizer(name.c_str());
        if (!k.is_ok()) throw ArgError("--optimizers: unknown optimizer '" + name + "'");
        cfg.optimizers.push_back(k.value());
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    svg = a.str("svg", "");
    csv = a.str("csv", "");
  } catch (const ArgError& e) {
    std::fprintf(stderr, "fennec-optstudy: error: %s\nRun 'fennec-optstudy --help' for usage.\n", e.what());
    return 2;
  }
  std::vector<std::vector<fennec_tools::OptRun>> runs;
  for (const fennec_tools::TestFunction* f : fns) {
    runs.push_back(fennec_tools::study_function(*f, cfg));
    std::fputs(fennec_tools::format_opt_table(*f, cfg, runs.back()).c_str(), stdout);
    std::printf("\n");
  }
  std::string error;
  if (!svg.empty()) {
    if (!fennec_tools::write_opt_svg(fns, cfg, runs, svg, error)) {
      std::fprintf(stderr, "fennec-optstudy: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("figure: %s\n", svg.c_str());
  }
  if (!csv.empty()) {
    if (!fennec_tools::write_opt_csv(fns, runs, csv, error)) {
      std::fprintf(stderr, "fennec-optstudy: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("table: %s\n", csv.c_str());
  }
  return 0;
}
