// SPDX-License-Identifier: Apache-2.0
// CSV data set: a header row, a named label column, numeric features. The spellings spreadsheets
// and pandas write are read (CRLF, a byte-order mark, quoted names, blank lines, spaces), and every
// malformed class is refused with the file, the line and the column: ragged and truncated rows,
// empty and non-numeric cells, NaN, infinity, values beyond float32, labels that are not classes,
// header problems, no data. A refused call leaves its output as it was.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/csv_samples.hpp"
#include "common/sample_set.hpp"
#include "tools/tools_test_util.hpp"

using fennec_tools::parse_csv_samples;
using fennec_tools::SampleSet;

namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Refused with a message starting "data.csv" and containing `message`; `out` untouched.
void refused(const std::string& text, const std::string& message, const std::string& label = "label",
             std::size_t max_classes = 10) {
  SampleSet s;
  s.count = 99;
  std::string error;
  INFO(text);
  CHECK_FALSE(parse_csv_samples(text.data(), text.size(), "data.csv", label, max_classes, s, error));
  INFO(error);
  CHECK(error.rfind("data.csv", 0) == 0);
  CHECK(has(error, message));
  CHECK(s.count == 99);
  CHECK(s.values.empty());
}

}  // namespace

TEST_CASE("csv: a header, a named label column anywhere, numeric features", "[tools][csv][samples]") {
  const std::string text =
      "\xEF\xBB\xBF"
      "\"ax\", ay,label ,az\r\n"
      "0.5, -1e-3, 2, 7\r\n"
      "\r\n"
      "1,2,0,3\r\n"
      "  -4.25 ,0x10,  1,1e3";  // no newline after the last row
  SampleSet s;
  std::string error;
  REQUIRE(parse_csv_samples(text.data(), text.size(), "data.csv", "label", 10, s, error));
  CHECK(s.count == 3);
  CHECK(s.width == 3);
  CHECK(s.classes == 3);
  CHECK_FALSE(s.holds_bytes());
  CHECK(s.source == "data.csv");
  const std::vector<float> expect = {0.5f, -1e-3f, 7.f, 1.f, 2.f, 3.f, -4.25f, 16.f, 1000.f};
  float x[9];
  std::int32_t y[3];
  s.range(0, 3, x, y);
  for (std::size_t i = 0; i < 9; ++i) CHECK(x[i] == expect[i]);
  CHECK(y[0] == 2);
  CHECK(y[1] == 0);
  CHECK(y[2] == 1);

  // Another label column name; a label written as 3.0 is the integer 3.
  const std::string other = "t,class\n0.25,3.0\n";
  REQUIRE(parse_csv_samples(other.data(), other.size(), "o.csv", "class", 4, s, error));
  CHECK(s.count == 1);
  CHECK(s.labels[0] == 3);
  CHECK(s.values[0] == 0.25f);
}

TEST_CASE("csv: ragged and truncated rows, bad cells, NaN and values beyond float32", "[tools][csv][samples]") {
  const std::string head = "a,b,label\n";
  refused(head + "1,2,0\n3,4\n5,6,1\n", "data.csv:3: 2 cells, the header has 3");
  refused(head + "1,2,0\n3,4,1,9\n", "data.csv:3: 4 cells, the header has 3");
  refused(head + "1,2,0\n3,4", "data.csv:3: 2 cells, the header has 3 (truncated file?)");
  refused(head + "1,2,0\n3,4,\n", "data.csv:3, column 'label': empty cell");
  refused(head + "1,,0\n", "data.csv:2, column 'b': empty cell");
  refused(head + "1,2,0\n1,abc,0\n", "data.csv:3, column 'b': 'abc' is not a number");
  refused(head + "1,2 3,0\n", "column 'b': '2 3' is not a number");
  refused(head + "1;2;0\n", "data.csv:2: 1 cells, the header has 3");
  refused(head + std::string("1,\x01\xff,0\n"), "column 'b': '?" "?' is not a number");
  refused(head + "nan,2,0\n", "data.csv:2, column 'a': NaN (every value must be finite)");
  refused(head + "1,-NaN,0\n", "column 'b': NaN");
  refused(head + "1,inf,0\n", "column 'b': 'inf' is beyond the float32 range");
  refused(head + "1,-1e39,0\n", "column 'b': '-1e39' is beyond the float32 range");
  refused(head + "1,1e999,0\n", "'1e999' is beyond the float32 range");
  const std::string longcell(100, '7');
  refused(head + "1,x" + longcell + ",0\n", "'x" + longcell.substr(0, 39) + "...' is not a number");
}

TEST_CASE("csv: labels that are not classes", "[tools][csv][samples]") {
  const std::string head = "a,label\n";
  refused(head + "1,1.5\n", "data.csv:2, column 'label': label '1.5' is not a class: labels are integers in [0, 10)");
  refused(head + "1,-1\n", "label '-1' is not a class");
  refused(head + "1,0\n2,10\n", "data.csv:3, column 'label': label '10' is not a class");
  refused(head + "1,3\n", "labels are integers in [0, 3)", "label", 3);
  refused(head + "1,cat\n", "column 'label': 'cat' is not a number");
}

TEST_CASE("csv: header problems and files without data", "[tools][csv][samples]") {
  refused("", "data.csv: empty file (expected a header row naming the columns");
  refused("\n\n  \n", "empty file");
  refused("a,b,label\n", "data.csv: no data rows after the header");
  refused("a,b,label\n\n\n", "no data rows");
  refused("a,b,c\n1,2,3\n", "data.csv:1: no label column 'label' in the header (columns: a, b, c); name it with --label-column");
  refused("a,b,y\n1,2,3\n", "no label column 'target'", "target");
  refused("a,a,label\n1,2,3\n", "data.csv:1: header names column 'a' twice");
  refused("a,,label\n1,2,3\n", "data.csv:1: header column 2 has no name");
  refused("0.5,1,2\n1,2,3\n", "the first row must be a header naming the columns; column 1 is the number '0.5'");
  refused("label\n1\n", "the header has only the label column");
}

TEST_CASE("csv: read from a file through load_samples", "[tools][csv][samples]") {
  tools_test::TempDir dir("csv");
  const std::string path = dir.file("d.csv");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fputs("x1,x2,label\n0,1,1\n2,3,0\n", f);
    std::fclose(f);
  }
  SampleSet s;
  std::string error;
  REQUIRE(fennec_tools::load_samples(path, "", "label", 2, s, error));
  CHECK(s.count == 2);
  CHECK(s.classes == 2);
  CHECK_FALSE(fennec_tools::load_samples(path, dir.file("y.npy"), "label", 2, s, error));
  CHECK(has(error, "a CSV file holds its labels in a column (--label-column NAME), not in a second file"));
  CHECK_FALSE(fennec_tools::load_samples(dir.file("none.csv"), "", "label", 2, s, error));
  CHECK(has(error, dir.file("none.csv") + ": cannot open"));
  CHECK_FALSE(fennec_tools::load_samples(dir.str() + "/.csv", "", "label", 2, s, error));
  CHECK(s.count == 2);
}
