// SPDX-License-Identifier: Apache-2.0
// Command-line parsing for Fennec's tools: --flag VALUE or --flag=VALUE, every value checked,
// every error a sentence naming the flag and what was wrong. Errors are thrown as ArgError at
// setup (before any training), caught in main and printed with the usage hint.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fennec/fennec.hpp>

namespace fennec_tools {

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  struct Flag {
    std::string name;   // without the leading "--"
    bool takes_value;
  };

  // Throws ArgError for unknown flags, missing values, repeated flags and positional arguments.
  Args(int argc, char** argv, const std::vector<Flag>& flags);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string str(const std::string& name, const std::string& fallback) const;

  double real(const std::string& name, double fallback) const;             // finite
  double positive(const std::string& name, double fallback) const;         // > 0, finite
  double non_negative(const std::string& name, double fallback) const;     // >= 0, finite
  std::uint64_t integer(const std::string& name, std::uint64_t fallback, std::uint64_t lo,
                        std::uint64_t hi) const;                            // in [lo, hi]
  // Comma-separated widths, each in [1, fennec::kMaxWidth]; "none" is an empty list, "" an error.
  std::vector<std::uint32_t> widths(const std::string& name, const std::string& fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

// Strict number parsing (whole string, finite). Throws ArgError naming `what`.
double parse_real(const std::string& text, const std::string& what);
std::uint64_t parse_uint(const std::string& text, const std::string& what);

// he | he_uniform | xavier | xavier_uniform | glorot | glorot_uniform | zeros | normal:SIGMA |
// uniform:A (U(-A, A)).
fennec::Init parse_init(const std::string& text, const std::string& what);
std::string init_label(const fennec::Init& init);  // "N(0, 0.01)", "Xavier", "He", ...
// A file the program will write at the end (--save, --checkpoint): checked at setup, so a typo
// does not cost a whole run. Throws ArgError unless `path` is not a directory and its directory
// exists and is writable.
void check_output_path(const std::string& path, const std::string& what);
// relu | leaky_relu | leaky_relu:ALPHA | tanh | sigmoid | identity
fennec::ActivationSpec parse_activation_spec(const std::string& text, const std::string& what);

}  // namespace fennec_tools
