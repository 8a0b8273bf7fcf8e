// SPDX-License-Identifier: Apache-2.0
#include "common/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "common/written_file.hpp"

namespace fennec_tools {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  // Trim trailing zeros for compactness.
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

}  // namespace

std::string svg_num(double v) { return num(v); }

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi) || target < 1) return ticks;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (double t = first; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (ticks.size() > 100) break;
  }
  return ticks;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Svg::Svg(double width, double height) : width_(width), height_(height) {}

void Svg::rect(double x, double y, double w, double h, const std::string& fill,
               const std::string& stroke, double stroke_width) {
  body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
           num(h) + "\" fill=\"" + xml_escape(fill) + "\"";
  if (stroke != "none") body_ += " stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(stroke_width) + "\"";
  body_ += "/>\n";
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& stroke, double width,
               const std::string& dash) {
  body_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
           num(y2) + "\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(width) + "\"";
  if (!dash.empty()) body_ += " stroke-dasharray=\"" + xml_escape(dash) + "\"";
  body_ += "/>\n";
}

void Svg::polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                   const std::string& stroke, double width, double opacity) {
  if (xs.empty() || xs.size() != ys.size()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" +
           num(width) + "\" stroke-linejoin=\"round\"";
  if (opacity < 1) body_ += " stroke-opacity=\"" + num(opacity) + "\"";
  body_ += " points=\"";
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) body_ += ' ';
    body_ += num(xs[i]) + "," + num(ys[i]);
  }
  body_ += "\"/>\n";
}

void Svg::dashed_polyline(const std::vector<double>& xs, const std::vector<double>& ys,
                          const std::string& stroke, double width, const std::string& dash) {
  if (xs.empty() || xs.size() != ys.size()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" +
           num(width) + "\" stroke-linejoin=\"round\"";
  if (!dash.empty()) body_ += " stroke-dasharray=\"" + xml_escape(dash) + "\"";
  body_ += " points=\"";
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i) body_ += ' ';
    body_ += num(xs[i]) + "," + num(ys[i]);
  }
  body_ += "\"/>\n";
}

void Svg::marker(double cx, double cy, std::size_t shape, double r, const std::string& fill) {
  const std::string f = xml_escape(fill);
  auto polygon = [&](std::initializer_list<double> pts) {
    body_ += "<polygon fill=\"" + f + "\" points=\"";
    bool x = true;
    for (double v : pts) {
      body_ += num(x ? cx + v * r : cy + v * r);
      body_ += x ? "," : " ";
      x = !x;
    }
    body_ += "\"/>\n";
  };
  auto bars = [&](double a, double b, double c, double d) {
    // Two strokes through the centre: a plus (axis-aligned) or a cross (diagonal).
    line(cx - a * r, cy - b * r, cx + a * r, cy + b * r, fill, 0.7 * r);
    line(cx - c * r, cy - d * r, cx + c * r, cy + d * r, fill, 0.7 * r);
  };
  switch (shape % 7) {
    case 0: circle(cx, cy, r, fill); break;
    case 1: polygon({-0.85, -0.85, 0.85, -0.85, 0.85, 0.85, -0.85, 0.85}); break;
    case 2: polygon({0, -1.15, 1.05, 0.75, -1.05, 0.75}); break;
    case 3: polygon({0, -1.2, 1.0, 0, 0, 1.2, -1.0, 0}); break;
    case 4: polygon({0, 1.15, 1.05, -0.75, -1.05, -0.75}); break;
    case 5: bars(1.1, 0, 0, 1.1); break;
    default: bars(0.85, 0.85, 0.85, -0.85); break;
  }
}

void Svg::circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke) {
  body_ += "<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(r) + "\" fill=\"" +
           xml_escape(fill) + "\"";
  if (stroke != "none") body_ += " stroke=\"" + xml_escape(stroke) + "\"";
  body_ += "/>\n";
}

void Svg::text(double x, double y, const std::string& s, double size, const std::string& anchor,
               double rotate, const std::string& weight, const std::string& fill) {
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) +
           "\" text-anchor=\"" + xml_escape(anchor) + "\" fill=\"" + xml_escape(fill) + "\"";
  if (weight != "normal") body_ += " font-weight=\"" + xml_escape(weight) + "\"";
  if (rotate != 0) body_ += " transform=\"rotate(" + num(rotate) + " " + num(x) + " " + num(y) + ")\"";
  body_ += ">" + xml_escape(s) + "</text>\n";
}

void Svg::path(const std::string& d, const std::string& stroke, double width,
               const std::string& extra_attributes) {
  body_ += "<path fill=\"none\" stroke=\"" + xml_escape(stroke) + "\" stroke-width=\"" + num(width) +
           "\" d=\"" + xml_escape(d) + "\"" + (extra_attributes.empty() ? "" : " " + extra_attributes) +
           "/>\n";
}

std::string Svg::str() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width_) + "\" height=\"" +
         num(height_) + "\" viewBox=\"0 0 " + num(width_) + " " + num(height_) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
         "<rect x=\"0\" y=\"0\" width=\"" + num(width_) + "\" height=\"" + num(height_) +
         "\" fill=\"white\"/>\n" + body_ + "</svg>\n";
}

bool Svg::write(const std::string& path, std::string& error) const {
  std::FILE* f = create_written_file(path, error);
  if (!f) return false;
  const std::string s = str();
  std::fwrite(s.data(), 1, s.size(), f);
  return close_written_file(f, path, error);
}

void Panel::axes(Svg& svg, int x_ticks, int y_ticks, const std::string& xlabel,
                 const std::string& ylabel, double font) const {
  svg.rect(x, y, w, h, "none", "#444", 1);
  for (double t : nice_ticks(xlo, xhi, x_ticks)) {
    const double p = px(t);
    svg.line(p, y + h, p, y + h + 4, "#444", 1);
    svg.text(p, y + h + 5 + font, tick_label(t), font, "middle");
  }
  for (double t : nice_ticks(ylo, yhi, y_ticks)) {
    const double p = py(t);
    svg.line(x - 4, p, x, p, "#444", 1);
    svg.text(x - 6, p + font * 0.35, tick_label(t), font, "end");
  }
  if (!xlabel.empty()) svg.text(x + w / 2, y + h + 2 * font + 10, xlabel, font, "middle");
  if (!ylabel.empty()) svg.text(x - 3.6 * font - 6, y + h / 2, ylabel, font, "middle", -90);
}

void Panel::log_y_axes(Svg& svg, int x_ticks, const std::string& xlabel, const std::string& ylabel,
                       double font) const {
  svg.rect(x, y, w, h, "none", "#444", 1);
  const int first = static_cast<int>(std::ceil(ylo - 1e-9)), last = static_cast<int>(std::floor(yhi + 1e-9));
  const int step = std::max(1, static_cast<int>(std::ceil((last - first) / 6.0)));
  for (int e = first; e <= last; e += step) {
    const double p = py(e);
    if (e != first && e != last) svg.line(x, p, x + w, p, "#e2e2e2", 1);
    svg.line(x - 4, p, x, p, "#444", 1);
    svg.text(x - 6, p + font * 0.35, e == 0 ? "1" : e == 1 ? "10" : "1e" + std::to_string(e), font, "end");
  }
  for (double t : nice_ticks(xlo, xhi, x_ticks)) {
    const double p = px(t);
    svg.line(p, y + h, p, y + h + 4, "#444", 1);
    svg.text(p, y + h + 5 + font, tick_label(t), font, "middle");
  }
  if (!xlabel.empty()) svg.text(x + w / 2, y + h + 2 * font + 10, xlabel, font, "middle");
  if (!ylabel.empty()) svg.text(x - 3.6 * font - 6, y + h / 2, ylabel, font, "middle", -90);
}

const char* series_dash(std::size_t i) {
  static const char* const kDashes[] = {"", "7 3", "2 2.5", "9 3 2 3", "4 4", "12 3", "2 2 6 2"};
  return kDashes[i % (sizeof kDashes / sizeof kDashes[0])];
}

double series_key(Svg& svg, double x, double y, std::size_t i, const std::string& label, double font) {
  svg.line(x, y - font * 0.35, x + 30, y - font * 0.35, series_colour(i), 2, series_dash(i));
  svg.marker(x + 15, y - font * 0.35, i, 3.5, series_colour(i));
  svg.text(x + 36, y, label, font);
  return x + 36 + 0.6 * font * static_cast<double>(label.size());
}

const char* series_colour(std::size_t i) {
  static const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                         "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  return kColours[i % (sizeof kColours / sizeof kColours[0])];
}

}  // namespace fennec_tools
