// SPDX-License-Identifier: Apache-2.0
// A CSV table of numbers as a labelled data set: a header row naming the columns, then one sample
// per row; the column named `label_column` holds the class (an integer in [0, max_classes)),
// every other column a feature (a finite number, read as float32).
//
// Cells are separated by commas; spaces around a cell, a UTF-8 byte-order mark, CRLF line endings,
// blank lines and header names in double quotes are accepted. Everything else is an error naming
// the file, the line and the column: a row with more or fewer cells than the header (a truncated
// file ends in one), an empty or non-numeric cell, NaN or infinity, a value beyond float32, a label
// that is not an integer or out of range, duplicate or missing column names, no data rows.
#pragma once

#include <cstddef>
#include <string>

#include "common/sample_set.hpp"

namespace fennec_tools {

inline constexpr const char* kDefaultLabelColumn = "label";

// Parses CSV text; `name` (the file) starts every message. `out` is unchanged on failure.
bool parse_csv_samples(const char* text, std::size_t size, const std::string& name,
                       const std::string& label_column, std::size_t max_classes, SampleSet& out,
                       std::string& error);

// Reads and parses `path` (refused above the IDX reader's 1 GiB cap).
bool load_csv_samples(const std::string& path, const std::string& label_column,
                      std::size_t max_classes, SampleSet& out, std::string& error);

}  // namespace fennec_tools
