// SPDX-License-Identifier: Apache-2.0
// The weight-initialisation experiment: N(0,1) inputs through `layers` dense layers of `width`
// units; per layer the activations' statistics and histogram, optionally the gradients flowing
// back from a unit upstream gradient (dL/d(last output) = 1): dL/d(layer output) and dL/dW, and
// the forward pass's time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

namespace fennec_tools {

struct InitStudyConfig {
  std::size_t layers = 10;
  std::size_t width = 500;
  std::size_t batch = 1000;
  fennec::ActivationSpec activation = fennec::ActivationSpec::tanh();
  fennec::Init init = fennec::Init::normal(0.f, 0.01f);
  bool gradients = false;
  std::uint64_t seed = 1;
  std::size_t bins = 40;
  std::size_t timing_runs = 10;  // forward passes timed (after one warm-up)
  fennec::Isa isa = fennec::Isa::kAuto;
};

struct InitLayerStats {
  double mean = 0, std = 0, min = 0, max = 0;
  double zero_fraction = 0;       // exactly 0 (dead ReLUs)
  double saturated_fraction = 0;  // within 0.01 of the activation's bound (tanh +-1, sigmoid 0/1)
  // Counts over [hist_lo, hist_hi) in `bins` bins; exact zeros left out for ReLU. The range is the
  // figure's shared one unless that would put (nearly) every value in one bin: then it is this
  // layer's own 0.1%..99.9% range and hist_zoomed is set.
  std::vector<std::uint64_t> hist;
  double hist_lo = 0, hist_hi = 1;
  bool hist_zoomed = false;
  double grad_mean = 0, grad_std = 0;  // of dL/dW for this layer (with gradients)
  double out_grad_rms = 0;             // RMS of dL/d(this layer's output) (with gradients)
};

struct InitStudyResult {
  std::vector<InitLayerStats> layers;
  double hist_lo = 0, hist_hi = 1;  // the range shared by the layers that are not zoomed
  bool hist_skips_zeros = false;
  double input_grad_std = 0;  // std of dL/dx (with gradients)
  double forward_ms_best = 0, forward_ms_median = 0;
  std::string isa;
  std::string title;  // "tanh, N(0, 0.01^2)"
};

// The cases of --all: the chapter's five (tanh with N(0, 0.01^2), N(0, 1) and Xavier; ReLU with
// Xavier and He), the one it discusses without a figure (ReLU with N(0, 0.01^2): every unit
// dies out), and sigmoid with Xavier (activations look healthy, gradients still vanish).
struct InitCaseSpec {
  const char* activation;  // parse_activation_spec spelling
  const char* init;        // parse_init spelling
  const char* id;          // file name stem: "initstudy-<id>.svg"
};
const std::vector<InitCaseSpec>& init_study_cases();

// One finished case of a multi-case study, for the figures that overlay the cases.
struct InitCase {
  std::string id;
  InitStudyConfig cfg;
  InitStudyResult result;
};

// False with a message on invalid settings or a library error.
bool run_init_study(const InitStudyConfig& cfg, InitStudyResult& out, std::string& error);

// The top of the y axis (a fraction of the layer's values per bin) that every histogram panel of
// write_init_svg shares: the fullest bin of any layer, plus headroom. One scale for all layers
// lets a distribution that narrows or piles up read at a glance.
double shared_histogram_top(const InitStudyConfig& cfg, const InitStudyResult& r);

// Per-layer table as printed by the tool.
std::string format_init_table(const InitStudyConfig& cfg, const InitStudyResult& r);
bool write_init_svg(const InitStudyConfig& cfg, const InitStudyResult& r, const std::string& path,
                    std::string& error);
bool write_init_csv(const InitStudyConfig& cfg, const InitStudyResult& r, const std::string& path,
                    std::string& error);
// Two panels over all cases: the std of the activations per layer and the RMS of dL/da per layer
// (the gradient flow; cases run without gradients are left out of it), log scales, one line,
// dash and marker per case.
bool write_init_summary_svg(const std::vector<InitCase>& cases, const std::string& path,
                            std::string& error);
// The same numbers as rows: case,activation,init,layer,std,output_grad_rms.
bool write_init_summary_csv(const std::vector<InitCase>& cases, const std::string& path,
                            std::string& error);

}  // namespace fennec_tools
