// SPDX-License-Identifier: Apache-2.0
#include "fennec-initstudy/initstudy.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/args.hpp"
#include "common/svg.hpp"
#include "common/written_file.hpp"

namespace fennec_tools {
namespace {

std::string status_text(const char* what, const fennec::Status& s) {
  return std::string(what) + ": " + s.message() + " (" + fennec::status_code_name(s.code()) + ")";
}

struct Moments {
  double mean = 0, std = 0, min = 0, max = 0;
};

Moments moments(const float* v, std::size_t n) {
  Moments m;
  if (n == 0) return m;
  double sum = 0, lo = v[0], hi = v[0];
  for (std::size_t i = 0; i < n; ++i) {
    sum += v[i];
    lo = std::min<double>(lo, v[i]);
    hi = std::max<double>(hi, v[i]);
  }
  m.mean = sum / static_cast<double>(n);
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += (v[i] - m.mean) * (v[i] - m.mean);
  m.std = std::sqrt(ss / static_cast<double>(n));
  m.min = lo;
  m.max = hi;
  return m;
}

// Copy a view's rows into a contiguous vector (views may be strided).
std::vector<float> gather(fennec::ConstMatrixView m) {
  std::vector<float> out(m.rows * m.cols);
  for (std::size_t r = 0; r < m.rows; ++r) std::memcpy(out.data() + r * m.cols, m.row(r), m.cols * sizeof(float));
  return out;
}

double quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

bool is_relu(const fennec::ActivationSpec& a) { return a.kind == fennec::Activation::kRelu; }

// A layer whose 0.1%..99.9% range is narrower than this many bins of the figure's shared range
// gets its own (zoomed) x range.
constexpr double kZoomBins = 2.0;

// Counts of `v` over [lo, hi) in `bins` bins (values beyond it, the 0.1% tails, left out; exact
// zeros too when `skip_zeros`). Returns how many values were counted.
std::uint64_t bin_values(const std::vector<float>& v, bool skip_zeros, double lo, double hi,
                         std::vector<std::uint64_t>& hist, std::size_t bins) {
  hist.assign(bins, 0);
  std::uint64_t counted = 0;
  for (float a : v) {
    if (skip_zeros && a == 0.0f) continue;
    const double t = (a - lo) / (hi - lo) * static_cast<double>(bins);
    if (t < 0 || t > static_cast<double>(bins)) continue;
    std::size_t b = static_cast<std::size_t>(t);
    if (b >= bins) b = bins - 1;  // the upper bound itself (tanh = 1 exactly)
    ++hist[b];
    ++counted;
  }
  return counted;
}

// One line of a per-layer chart on a log scale.
struct LayerSeries {
  std::string label;
  std::vector<double> values;  // one per layer, layer 1 first
  std::size_t style;           // series_colour / series_dash / marker index
};

// Lines per layer on a log10 y axis fitted to the positive values of all series; a value <= 0
// (a layer that died completely) is drawn on the axis floor, and the chart says so.
void layer_log_chart(Svg& svg, double x, double y, double w, double h, std::size_t layers,
                     const std::vector<LayerSeries>& series, const std::string& title,
                     const std::string& ylabel) {
  double lmin = 0, lmax = 0;
  bool first = true, clamped = false;
  for (const LayerSeries& s : series)
    for (double v : s.values) {
      if (!(v > 0) || !std::isfinite(v)) continue;
      const double e = std::log10(v);
      lmin = first ? e : std::min(lmin, e);
      lmax = first ? e : std::max(lmax, e);
      first = false;
    }
  lmin = std::floor(lmin - 0.05);
  lmax = std::ceil(lmax + 0.05);
  if (lmax - lmin < 1) lmax = lmin + 1;
  const Panel p{x, y, w, h, 0.5, static_cast<double>(layers) + 0.5, lmin, lmax};
  p.log_y_axes(svg, static_cast<int>(std::min<std::size_t>(layers, 10)), "layer", ylabel, 10);
  for (const LayerSeries& s : series) {
    std::vector<double> xs, ys;
    for (std::size_t l = 0; l < s.values.size(); ++l) {
      const double v = s.values[l];
      const bool positive = v > 0 && std::isfinite(v);
      clamped |= !positive;
      xs.push_back(p.px(static_cast<double>(l + 1)));
      ys.push_back(p.py(positive ? std::log10(v) : lmin));
    }
    svg.dashed_polyline(xs, ys, series_colour(s.style), 2, series_dash(s.style));
    for (std::size_t i = 0; i < xs.size(); ++i) svg.marker(xs[i], ys[i], s.style, 3.2, series_colour(s.style));
  }
  svg.text(p.x + p.w / 2, p.y - 8, title, 12, "middle", 0, "bold");
  if (clamped) svg.text(p.x + 4, p.y + p.h - 4, "0 drawn on the axis floor", 9, "start", 0, "normal", "#A33");
}

std::string fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

bool run_init_study(const InitStudyConfig& cfg, InitStudyResult& out, std::string& error) {
  out = InitStudyResult{};
  if (cfg.layers < 1 || cfg.layers > fennec::kMaxLayers || cfg.width < 1 ||
      cfg.width > fennec::kMaxWidth || cfg.batch < 1 || cfg.bins < 2) {
    error = "layers must lie in [1, 32], width in [1, 2^20], batch >= 1, bins >= 2";
    return false;
  }
  out.title = std::string(fennec::activation_name(cfg.activation.kind)) + ", " + init_label(cfg.init);

  fennec::ModelSpec spec(static_cast<std::uint32_t>(cfg.width));
  for (std::size_t i = 0; i < cfg.layers; ++i)
    spec.dense(static_cast<std::uint32_t>(cfg.width), cfg.activation, cfg.init);
  // The loss is never evaluated (the study feeds its own upstream gradient); MSE fits any width.
  spec.with_loss(fennec::Loss::kMse);
  fennec::Status s = fennec::validate(spec);
  if (!s.is_ok()) {
    error = status_text("model", s);
    return false;
  }
  fennec::ModelOptions opts;
  opts.mode = fennec::Mode::kTraining;  // keeps every layer's output (layer_output) for the study
  opts.max_batch = cfg.batch;
  opts.optimizer = fennec::OptimizerKind::kSgd;
  opts.isa = cfg.isa;
  const std::size_t io_bytes = fennec::arena_round_up(cfg.batch * cfg.width * sizeof(float));
  const std::size_t capacity = fennec::plan(spec, opts).total() + 2 * io_bytes + fennec::kArenaAlignment;
  std::vector<unsigned char> buffer(capacity);
  fennec::Arena arena(buffer.data(), buffer.size());
  fennec::Result<fennec::Model> bound = fennec::Model::bind(spec, opts, arena);
  if (!bound.is_ok()) {
    error = status_text("binding the model", bound.status());
    return false;
  }
  fennec::Model& model = bound.value();
  out.isa = fennec::isa_name(model.isa());
  fennec::Rng rng(cfg.seed);
  s = model.init_parameters(rng);
  if (!s.is_ok()) {
    error = status_text("initialising parameters", s);
    return false;
  }
  fennec::Result<float*> xr = arena.allocate_array<float>(cfg.batch * cfg.width, "inputs");
  fennec::Result<float*> gr = arena.allocate_array<float>(cfg.batch * cfg.width, "input gradient");
  if (!xr.is_ok() || !gr.is_ok()) {
    error = status_text("arena", xr.is_ok() ? gr.status() : xr.status());
    return false;
  }
  float* x = xr.value();
  for (std::size_t i = 0; i < cfg.batch * cfg.width; ++i) x[i] = static_cast<float>(rng.normal());
  const fennec::ConstMatrixView xv(x, cfg.batch, cfg.width);

  // Timed forward passes (one warm-up first).
  std::vector<double> ms;
  for (std::size_t run = 0; run <= cfg.timing_runs; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    fennec::Result<fennec::ConstMatrixView> y = model.forward(xv);
    const auto t1 = std::chrono::steady_clock::now();
    if (!y.is_ok()) {
      error = status_text("forward", y.status());
      return false;
    }
    if (run > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  if (!ms.empty()) {
    std::sort(ms.begin(), ms.end());
    out.forward_ms_best = ms.front();
    out.forward_ms_median = ms[ms.size() / 2];
  }

  out.layers.resize(cfg.layers);
  if (cfg.gradients) {
    fennec::MatrixView dl = model.output_gradient(cfg.batch);
    for (std::size_t r = 0; r < dl.rows; ++r)
      for (std::size_t c = 0; c < dl.cols; ++c) dl(r, c) = 1.0f;
    const fennec::MatrixView dx(gr.value(), cfg.batch, cfg.width);
    fennec::BackwardObserver observer;
    observer.context = &out;
    observer.on_output_gradient = [](void* ctx, std::size_t layer, fennec::ConstMatrixView g) {
      std::vector<InitLayerStats>& layers = static_cast<InitStudyResult*>(ctx)->layers;
      // RMS rather than std: the unit upstream gradient has std 0 but a magnitude of 1.
      const Moments m = moments(g.data, g.size());
      layers[layer].out_grad_rms = std::sqrt(m.mean * m.mean + m.std * m.std);
    };
    s = model.backward(xv, dl, dx, &observer);
    if (!s.is_ok()) {
      error = status_text("backward", s);
      return false;
    }
    out.input_grad_std = moments(dx.data, dx.size()).std;
  }

  // Statistics, then one histogram range shared by all layers so the panels compare directly.
  const bool relu = is_relu(cfg.activation);
  out.hist_skips_zeros = relu;
  std::vector<std::vector<float>> values(cfg.layers);
  std::vector<std::pair<double, double>> tails(cfg.layers, {0.0, 0.0});
  double lo = 0, hi = 0;
  for (std::size_t l = 0; l < cfg.layers; ++l) {
    values[l] = gather(model.layer_output(l));
    const std::vector<float>& v = values[l];
    InitLayerStats& st = out.layers[l];
    const Moments m = moments(v.data(), v.size());
    st.mean = m.mean;
    st.std = m.std;
    st.min = m.min;
    st.max = m.max;
    std::size_t zeros = 0, sat = 0;
    for (float a : v) {
      zeros += a == 0.0f;
      if (cfg.activation.kind == fennec::Activation::kTanh) sat += std::fabs(a) > 0.99f;
      if (cfg.activation.kind == fennec::Activation::kSigmoid) sat += a < 0.01f || a > 0.99f;
    }
    st.zero_fraction = static_cast<double>(zeros) / static_cast<double>(v.size());
    st.saturated_fraction = static_cast<double>(sat) / static_cast<double>(v.size());
    if (cfg.gradients) {
      const fennec::MatrixView g = model.weight_gradient(l);
      const std::vector<float> gv = gather(g);
      const Moments gm = moments(gv.data(), gv.size());
      st.grad_mean = gm.mean;
      st.grad_std = gm.std;
    }
    // The layer's 0.1%..99.9% range (of the non-zero values for ReLU): the shared range covers
    // every layer's, and a layer far narrower than the shared bins is zoomed below.
    std::vector<float> src;
    for (float a : v)
      if (!(relu && a == 0.0f)) src.push_back(a);
    if (!src.empty()) {
      tails[l] = {quantile(src, 0.001), quantile(src, 0.999)};
      lo = std::min(lo, tails[l].first);
      hi = std::max(hi, tails[l].second);
    }
  }
  switch (cfg.activation.kind) {
    case fennec::Activation::kTanh: lo = -1; hi = 1; break;
    case fennec::Activation::kSigmoid: lo = 0; hi = 1; break;
    case fennec::Activation::kRelu: lo = 0; break;
    case fennec::Activation::kIdentity: hi = std::max(std::fabs(lo), std::fabs(hi)); lo = -hi; break;
    default: break;
  }
  if (!(hi > lo)) hi = lo + 1;
  out.hist_lo = lo;
  out.hist_hi = hi;
  for (std::size_t l = 0; l < cfg.layers; ++l) {
    InitLayerStats& st = out.layers[l];
    const std::uint64_t counted = bin_values(values[l], relu, lo, hi, st.hist, cfg.bins);
    st.hist_lo = lo;
    st.hist_hi = hi;
    // A layer whose values all fall in one or two bins of the shared range shows nothing of its
    // distribution's shape: it gets its own x range, and the figure says so.
    const double shared_bin = (hi - lo) / static_cast<double>(cfg.bins);
    double zlo = relu ? 0.0 : tails[l].first, zhi = tails[l].second;
    if (counted > 0 && zhi > zlo && zhi - zlo < kZoomBins * shared_bin) {
      const double pad = 0.02 * (zhi - zlo);
      if (!relu) zlo -= pad;
      zhi += pad;
      bin_values(values[l], relu, zlo, zhi, st.hist, cfg.bins);
      st.hist_lo = zlo;
      st.hist_hi = zhi;
      st.hist_zoomed = true;
    }
  }
  return true;
}

std::string format_init_table(const InitStudyConfig& cfg, const InitStudyResult& r) {
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %zu layers x %zu units, batch %zu, inputs N(0,1), seed %llu, isa %s\n",
                r.title.c_str(), cfg.layers, cfg.width, cfg.batch,
                static_cast<unsigned long long>(cfg.seed), r.isa.c_str());
  s += buf;
  s += "layer        mean         std     zeros   |a|~bound";
  if (cfg.gradients) s += "  dL/da rms     dW mean      dW std";
  s += "\n";
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    const InitLayerStats& st = r.layers[l];
    std::snprintf(buf, sizeof buf, "%5zu  %10.3g  %10.3g  %7.1f%%  %9.1f%%", l + 1, st.mean, st.std,
                  100 * st.zero_fraction, 100 * st.saturated_fraction);
    s += buf;
    if (cfg.gradients) {
      std::snprintf(buf, sizeof buf, "  %10.3g  %10.3g  %10.3g", st.out_grad_rms, st.grad_mean, st.grad_std);
      s += buf;
    }
    s += "\n";
  }
  if (cfg.gradients) {
    std::snprintf(buf, sizeof buf, "dL/dx std %.3g (upstream gradient 1 on every output)\n", r.input_grad_std);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "forward pass (%zu x %zu, batch %zu): best %.2f ms, median %.2f ms of %zu\n",
                cfg.layers, cfg.width, cfg.batch, r.forward_ms_best, r.forward_ms_median, cfg.timing_runs);
  s += buf;
  return s;
}

double shared_histogram_top(const InitStudyConfig& cfg, const InitStudyResult& r) {
  std::uint64_t peak = 1;
  for (const InitLayerStats& st : r.layers)
    for (std::uint64_t c : st.hist) peak = std::max(peak, c);
  return std::max(1e-6, static_cast<double>(peak) / static_cast<double>(cfg.batch * cfg.width) * 1.08);
}

bool write_init_svg(const InitStudyConfig& cfg, const InitStudyResult& r, const std::string& path,
                    std::string& error) {
  const std::size_t n = r.layers.size();
  const std::size_t cols = std::min<std::size_t>(6, n + 2);
  const std::size_t slots = n + 2;  // the per-layer chart takes two slots
  const std::size_t rows = (slots + cols - 1) / cols;
  const double pw = 170, ph = 120, gapx = 62, gapy = 84, left = 58, top = 112;
  const double width = left + cols * (pw + gapx);
  const double height = top + rows * (ph + gapy) - gapy + 64;
  Svg svg(width, height);
  svg.text(width / 2, 28, "Activations per layer: " + r.title, 18, "middle", 0, "bold");
  char sub[320];
  std::snprintf(sub, sizeof sub,
                "%zu layers x %zu units, batch %zu of N(0,1) inputs; y = fraction of the layer's values, "
                "one scale for all layers; x shared%s",
                cfg.layers, cfg.width, cfg.batch, r.hist_skips_zeros ? ", exact zeros left out" : "");
  svg.text(width / 2, 50, sub, 12, "middle", 0, "normal", "#555");
  bool any_zoom = false;
  for (const InitLayerStats& st : r.layers) any_zoom |= st.hist_zoomed;
  if (any_zoom) {
    svg.text(width / 2, 68,
             "shaded panels: the layer's values would fill one or two bars of the shared x range, so "
             "the panel shows the layer's own range (read its ticks)",
             12, "middle", 0, "normal", "#A33");
  }

  const double total = static_cast<double>(cfg.batch * cfg.width);
  const double ymax = shared_histogram_top(cfg, r);
  for (std::size_t l = 0; l < n; ++l) {
    const InitLayerStats& st = r.layers[l];
    const std::size_t cx = l % cols, cy = l / cols;
    const Panel p{left + cx * (pw + gapx), top + cy * (ph + gapy), pw, ph, st.hist_lo, st.hist_hi, 0, ymax};
    if (st.hist_zoomed) svg.rect(p.x, p.y, p.w, p.h, "#FFF4E5");
    const double bw = (st.hist_hi - st.hist_lo) / static_cast<double>(st.hist.size());
    for (std::size_t b = 0; b < st.hist.size(); ++b) {
      if (!st.hist[b]) continue;
      const double f = static_cast<double>(st.hist[b]) / total;
      const double x0 = p.px(st.hist_lo + b * bw), x1 = p.px(st.hist_lo + (b + 1) * bw);
      svg.rect(x0, p.py(f), std::max(0.5, x1 - x0 - 0.5), p.py(0) - p.py(f), "#0072B2");
    }
    p.axes(svg, st.hist_zoomed ? 3 : 4, 3, "", l % cols == 0 ? "fraction" : "", 9);
    svg.text(p.x + pw / 2, p.y - 22, "layer " + std::to_string(l + 1) + (st.hist_zoomed ? " (x zoomed)" : ""),
             12, "middle", 0, "bold", st.hist_zoomed ? "#A33" : "#222");
    const std::string stats = "mean " + fmt("%.2g", st.mean) + "  std " + fmt("%.2g", st.std);
    svg.text(p.x + pw / 2, p.y - 8, stats, 10, "middle", 0, "normal", "#333");
    // Below the x axis, where no bar can be under the text.
    double ty = p.y + ph + 27;
    if (cfg.gradients) {
      svg.text(p.x + pw / 2, ty, "dL/da rms " + fmt("%.2g", st.out_grad_rms) + ", dW std " + fmt("%.2g", st.grad_std),
               9, "middle", 0, "normal", "#A33");
      ty += 11;
    }
    if (r.hist_skips_zeros) {
      svg.text(p.x + pw / 2, ty, "exact zeros: " + fmt("%.0f%%", 100 * st.zero_fraction), 9, "middle", 0, "normal", "#A33");
    }
  }
  // Activation std (and, with gradients, the gradient flow) per layer, log scale.
  {
    const std::size_t slot = n;
    const std::size_t cx = std::min(slot % cols, cols - 2), cy = slot / cols + (slot % cols > cols - 2 ? 1 : 0);
    const double x0 = left + cx * (pw + gapx), y0 = top + cy * (ph + gapy);
    std::vector<LayerSeries> series(1);
    series[0] = {"std of activations", {}, 0};
    for (const InitLayerStats& st : r.layers) series[0].values.push_back(st.std);
    if (cfg.gradients) {
      series.push_back({"RMS of dL/da (gradient flow)", {}, 1});
      for (const InitLayerStats& st : r.layers) series[1].values.push_back(st.out_grad_rms);
    }
    const double cw = 2 * pw + gapx - 20;
    layer_log_chart(svg, x0, y0, cw, ph, n, series,
                    cfg.gradients ? "per layer, log scale" : "std of activations per layer, log scale", "");
    double kx = x0;
    for (const LayerSeries& ls : series) kx = series_key(svg, kx, y0 + ph + 44, ls.style, ls.label, 10) + 14;
  }
  return svg.write(path, error);
}

bool write_init_csv(const InitStudyConfig& cfg, const InitStudyResult& r, const std::string& path,
                    std::string& error) {
  std::FILE* f = create_written_file(path, error);
  if (!f) return false;
  std::fprintf(f, "# %s; %zu layers x %zu units, batch %zu, seed %llu; histogram over [%g, %g) in %zu bins (zoomed layers: their own range)%s\n",
               r.title.c_str(), cfg.layers, cfg.width, cfg.batch,
               static_cast<unsigned long long>(cfg.seed), r.hist_lo, r.hist_hi, cfg.bins,
               r.hist_skips_zeros ? ", exact zeros left out" : "");
  std::fprintf(f, "layer,mean,std,min,max,zero_fraction,saturated_fraction,grad_mean,grad_std,output_grad_rms,hist_lo,hist_hi,hist_zoomed");
  for (std::size_t b = 0; b < cfg.bins; ++b) std::fprintf(f, ",bin%zu", b);
  std::fprintf(f, "\n");
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    const InitLayerStats& st = r.layers[l];
    std::fprintf(f, "%zu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d", l + 1, st.mean,
                 st.std, st.min, st.max, st.zero_fraction, st.saturated_fraction, st.grad_mean,
                 st.grad_std, st.out_grad_rms, st.hist_lo, st.hist_hi, st.hist_zoomed ? 1 : 0);
    for (std::uint64_t c : st.hist) std::fprintf(f, ",%llu", static_cast<unsigned long long>(c));
    std::fprintf(f, "\n");
  }
  return close_written_file(f, path, error);
}

const std::vector<InitCaseSpec>& init_study_cases() {
  static const std::vector<InitCaseSpec> kCases = {
      {"tanh", "normal:0.01", "tanh-normal0.01"}, {"tanh", "normal:1", "tanh-normal1"},
      {"tanh", "xavier", "tanh-xavier"},          {"relu", "normal:0.01", "relu-normal0.01"},
      {"relu", "xavier", "relu-xavier"},          {"relu", "he", "relu-he"},
      {"sigmoid", "xavier", "sigmoid-xavier"},
  };
  return kCases;
}

bool write_init_summary_svg(const std::vector<InitCase>& cases, const std::string& path,
                            std::string& error) {
  std::size_t layers = 0;
  bool any_gradients = false;
  for (const InitCase& c : cases) {
    layers = std::max(layers, c.result.layers.size());
    any_gradients |= c.cfg.gradients;
  }
  const double pw = 430, ph = 300, left = 70, gap = 90, top = 84;
  const std::size_t key_rows = (cases.size() + 2) / 3;
  const double width = left + 2 * pw + gap + 30;
  const double height = top + ph + 66 + 20.0 * static_cast<double>(key_rows) + 10;
  Svg svg(width, height);
  svg.text(width / 2, 28, "Initialisation and activation: every case, layer by layer", 18, "middle", 0, "bold");
  if (!cases.empty()) {
    const InitStudyConfig& c = cases.front().cfg;
    char sub[256];
    std::snprintf(sub, sizeof sub,
                  "%zu layers x %zu units, batch %zu of N(0,1) inputs; gradients from dL/d(last output) = 1",
                  c.layers, c.width, c.batch);
    svg.text(width / 2, 50, sub, 12, "middle", 0, "normal", "#555");
  }
  std::vector<LayerSeries> stds, grads;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    LayerSeries s{cases[i].result.title, {}, i}, g{cases[i].result.title, {}, i};
    for (const InitLayerStats& st : cases[i].result.layers) {
      s.values.push_back(st.std);
      g.values.push_back(st.out_grad_rms);
    }
    stds.push_back(std::move(s));
    if (cases[i].cfg.gradients) grads.push_back(std::move(g));
  }
  layer_log_chart(svg, left, top, pw, ph, layers, stds, "std of the activations (log scale)", "std");
  if (any_gradients) {
    layer_log_chart(svg, left + pw + gap, top, pw, ph, layers, grads,
                    "gradient flow: RMS of dL/da (log scale)", "RMS of dL/da");
    svg.text(left + pw + gap + pw / 2, top + ph + 48, "backward runs from the last layer to the first",
             10, "middle", 0, "normal", "#555");
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const double kx = left + static_cast<double>(i % 3) * ((2 * pw + gap) / 3);
    const double ky = top + ph + 72 + 20.0 * static_cast<double>(i / 3);
    series_key(svg, kx, ky, i, cases[i].result.title, 11);
  }
  return svg.write(path, error);
}

bool write_init_summary_csv(const std::vector<InitCase>& cases, const std::string& path,
                            std::string& error) {
  std::FILE* f = create_written_file(path, error);
  if (!f) return false;
  std::fprintf(f, "case,activation,init,layer,std,output_grad_rms\n");
  for (const InitCase& c : cases) {
    for (std::size_t l = 0; l < c.result.layers.size(); ++l) {
      const InitLayerStats& st = c.result.layers[l];
      // The init label holds a comma ("N(0, 0.01^2)"): quoted as CSV wants.
      std::fprintf(f, "%s,%s,\"%s\",%zu,%.9g,%.9g\n", c.id.c_str(), fennec::activation_name(c.cfg.activation.kind),
                   init_label(c.cfg.init).c_str(), l + 1, st.std, c.cfg.gradients ? st.out_grad_rms : 0.0);
    }
  }
  return close_written_file(f, path, error);
}

}  // namespace fennec_tools
