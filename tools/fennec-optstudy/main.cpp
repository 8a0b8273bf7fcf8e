// SPDX-License-Identifier: Apache-2.0
// fennec-optstudy: SGD, momentum, AdaGrad, RMSProp and Adam on a ravine, a saddle and the
// Rosenbrock function, using Fennec's optimizer_step. Prints steps to the tolerance and final
// values; writes an SVG of contours and trajectories.
#include <cstdio>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "fennec-optstudy/optstudy.hpp"

namespace {
const char* const kUsage =
    "usage: fennec-optstudy [--function ravine|saddle|rosenbrock|all] [--tol 1e-6]\n"
    "                       [--max-steps 10000] [--lr X] [--optimizers sgd,momentum,adagrad,rmsprop,adam]\n"
    "                       [--svg FILE]\n"
    "Minimises 2-D test functions from a fixed start with each optimizer. Without --lr each\n"
    "optimizer gets the learning rate (10^(k/8), 1e-5..1) that reaches the tolerance in the fewest\n"
    "steps. Prints steps and final f - f*; --svg draws contours and trajectories.\n";
}  // namespace

int main(int argc, char** argv) {
  fennec_tools::OptStudyConfig cfg;
  std::vector<const fennec_tools::TestFunction*> fns;
  std::string svg;
  try {
    fennec_tools::Args a(argc, argv,
                         {{"function", true}, {"tol", true}, {"max-steps", true}, {"lr", true},
                          {"optimizers", true}, {"svg", true}, {"help", false}});
    if (a.has("help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    const std::string which = a.str("function", "all");
    if (which == "all") {
      for (const fennec_tools::TestFunction& f : fennec_tools::test_functions()) fns.push_back(&f);
    } else {
      const fennec_tools::TestFunction* f = fennec_tools::find_test_function(which);
      if (!f) throw fennec_tools::ArgError("--function: unknown function '" + which + "' (ravine, saddle, rosenbrock, all)");
      fns.push_back(f);
    }
    cfg.tolerance = a.positive("tol", 1e-6);
    cfg.max_steps = a.integer("max-steps", 10000, 1, 10000000);
    cfg.fixed_lr = a.positive("lr", 1.0);
    if (!a.has("lr")) cfg.fixed_lr = 0;
    if (a.has("optimizers")) {
      cfg.optimizers.clear();
      const std::string list = a.str("optimizers", "");
      std::size_t start = 0;
      while (true) {
        const std::size_t comma = list.find(',', start);
        const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        fennec::Result<fennec::OptimizerKind> k = fennec::parse_optimizer(name.c_str());
        if (!k.is_ok()) throw fennec_tools::ArgError("--optimizers: unknown optimizer '" + name + "'");
        cfg.optimizers.push_back(k.value());
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    svg = a.str("svg", "");
  } catch (const fennec_tools::ArgError& e) {
    std::fprintf(stderr, "fennec-optstudy: error: %s\nRun 'fennec-optstudy --help' for usage.\n", e.what());
    return 2;
  }
  std::vector<std::vector<fennec_tools::OptRun>> runs;
  for (const fennec_tools::TestFunction* f : fns) {
    runs.push_back(fennec_tools::study_function(*f, cfg));
    std::fputs(fennec_tools::format_opt_table(*f, cfg, runs.back()).c_str(), stdout);
    std::printf("\n");
  }
  if (!svg.empty()) {
    std::string error;
    if (!fennec_tools::write_opt_svg(fns, cfg, runs, svg, error)) {
      std::fprintf(stderr, "fennec-optstudy: error: %s\n", error.c_str());
      return 1;
    }
    std::printf("figure: %s\n", svg.c_str());
  }
  return 0;
}
