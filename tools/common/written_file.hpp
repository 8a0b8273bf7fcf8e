// SPDX-License-Identifier: Apache-2.0
// Creating an output file and closing it with every write checked, for the tools' writers
// (.npy, SVG, CSV): one place that turns a failed open, write or close into "PATH: ..." text.
#pragma once

#include <cstdio>
#include <string>

namespace fennec_tools {

// `path` opened for writing, byte for byte (LF line ends on every host); null with
// "PATH: cannot create: REASON" in `error`.
std::FILE* create_written_file(const std::string& path, std::string& error);

// Closes `f` (always); false with "PATH: write failed" in `error` when any write to it or the
// close itself failed (a full disk shows at one or the other).
bool close_written_file(std::FILE* f, const std::string& path, std::string& error);

}  // namespace fennec_tools
