// SPDX-License-Identifier: Apache-2.0
#include "common/csv_samples.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "common/file_bytes.hpp"

namespace fennec_tools {
namespace {

// One cell of a line: [begin, end) with the surrounding spaces trimmed.
struct Cell {
  const char* begin;
  const char* end;
  std::string str() const { return std::string(begin, end); }
  bool empty() const { return begin == end; }
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Splits [p, end) at commas into `cells` (reused between lines).
void split(const char* p, const char* end, std::vector<Cell>& cells) {
  cells.clear();
  for (;;) {
    const char* comma = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(end - p)));
    const char* stop = comma ? comma : end;
    const char* b = p;
    const char* e = stop;
    while (b < e && is_space(*b)) ++b;
    while (e > b && is_space(e[-1])) --e;
    cells.push_back({b, e});
    if (!comma) break;
    p = comma + 1;
  }
}

// A cell shown in a message: at most 40 characters, bytes outside printable ASCII as '?' (the
// file may hold anything, the terminal should not get it).
std::string shown(const Cell& c) {
  std::string s;
  for (const char* p = c.begin; p < c.end && s.size() < 40; ++p)
    s += (*p >= 0x20 && *p < 0x7f) ? *p : '?';
  if (c.end - c.begin > 40) s += "...";
  return "'" + s + "'";
}

}  // namespace

bool parse_csv_samples(const char* text, std::size_t size, const std::string& name,
                       const std::string& label_column, std::size_t max_classes, SampleSet& out,
                       std::string& error) {
  const char* p = text;
  const char* const end = text + size;
  if (size >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  std::size_t line_no = 0;
  // The next non-blank line into [line, line_end); false at the end of the text.
  const char* line = nullptr;
  const char* line_end = nullptr;
  auto next_line = [&]() {
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      line = p;
      line_end = nl ? nl : end;
      p = nl ? nl + 1 : end;
      ++line_no;
      if (line_end > line && line_end[-1] == '\r') --line_end;
      const char* q = line;
      while (q < line_end && is_space(*q)) ++q;
      if (q < line_end) return true;
    }
    return false;
  };
  auto at = [&](const std::string& column) {
    return name + ":" + std::to_string(line_no) + (column.empty() ? "" : ", column '" + column + "'") + ": ";
  };

  if (!next_line()) {
    error = name + ": empty file (expected a header row naming the columns, then one row per sample)";
    return false;
  }
  std::vector<Cell> cells;
  split(line, line_end, cells);
  std::vector<std::string> columns;
  std::size_t label_index = cells.size();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    Cell c = cells[i];
    if (c.end - c.begin >= 2 && *c.begin == '"' && c.end[-1] == '"') {
      ++c.begin;
      --c.end;
    }
    if (c.empty()) {
      error = at("") + "header column " + std::to_string(i + 1) + " has no name";
      return false;
    }
    const std::string col = c.str();
    for (const std::string& seen : columns) {
      if (seen == col) {
        error = at("") + "header names column '" + col + "' twice";
        return false;
      }
    }
    // A header of numbers is a file without one: its first sample would be taken as names.
    char* num_end = nullptr;
    std::strtod(col.c_str(), &num_end);
    if (num_end == col.c_str() + col.size()) {
      error = at("") + "the first row must be a header naming the columns; column " + std::to_string(i + 1) +
              " is the number " + shown(c);
      return false;
    }
    if (col == label_column) label_index = i;
    columns.push_back(col);
  }
  if (label_index == cells.size()) {
    std::string list;
    for (const std::string& c : columns) list += (list.empty() ? "" : ", ") + c;
    error = at("") + "no label column '" + label_column + "' in the header (columns: " + list +
            "); name it with --label-column";
    return false;
  }
  const std::size_t width = columns.size() - 1;
  if (width == 0) {
    error = at("") + "the header has only the label column; at least one feature column is needed";
    return false;
  }

  SampleSet set;
  set.width = width;
  set.source = name;
  std::int32_t max_label = -1;
  std::string cell_text;
  while (next_line()) {
    split(line, line_end, cells);
    if (cells.size() != columns.size()) {
      error = at("") + std::to_string(cells.size()) + " cells, the header has " + std::to_string(columns.size()) +
              (p == end && line_end == end ? " (truncated file?)" : "");
      return false;
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const Cell& c = cells[i];
      if (c.empty()) {
        error = at(columns[i]) + "empty cell (every cell must hold a number)";
        return false;
      }
      cell_text.assign(c.begin, c.end);
      errno = 0;
      char* num_end = nullptr;
      const double v = std::strtod(cell_text.c_str(), &num_end);
      if (num_end != cell_text.c_str() + cell_text.size()) {
        error = at(columns[i]) + shown(c) + " is not a number";
        return false;
      }
      if (std::isnan(v)) {
        error = at(columns[i]) + "NaN (every value must be finite)";
        return false;
      }
      if (std::isinf(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
        error = at(columns[i]) + shown(c) + " is beyond the float32 range";
        return false;
      }
      if (i == label_index) {
        if (v != std::floor(v) || v < 0 || v >= static_cast<double>(max_classes)) {
          error = at(columns[i]) + "label " + shown(c) + " is not a class: labels are integers in [0, " +
                  std::to_string(max_classes) + ")";
          return false;
        }
        const std::int32_t label = static_cast<std::int32_t>(v);
        set.labels.push_back(label);
        if (label > max_label) max_label = label;
      } else {
        set.values.push_back(static_cast<float>(v));
      }
    }
  }
  set.count = set.labels.size();
  if (set.count == 0) {
    error = name + ": no data rows after the header";
    return false;
  }
  set.classes = static_cast<std::size_t>(max_label) + 1;
  out = std::move(set);
  return true;
}

bool load_csv_samples(const std::string& path, const std::string& label_column,
                      std::size_t max_classes, SampleSet& out, std::string& error) {
  std::vector<std::uint8_t> bytes;
  if (!read_file_bytes(path, kIdxMaxBytes, bytes, error)) return false;
  return parse_csv_samples(reinterpret_cast<const char*>(bytes.data()), bytes.size(), path, label_column,
                           max_classes, out, error);
}

}  // namespace fennec_tools
