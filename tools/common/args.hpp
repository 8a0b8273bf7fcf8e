// SPDX-License-Identifier: Apache-2.0
// Command-line parsing for Fennec's tools, on CLI11 (header-only, Debian libcli11-dev): --flag VALUE,
// --flag=VALUE, -h/--help generated from the flags' descriptions, positional arguments, and
// --config FILE (TOML or INI: `lr = 0.01`). CLI11 does the syntax; the values keep Fennec's own
// checks, so every error is a sentence naming the flag and the bad value. Errors are thrown as
// ArgError at setup (before any data is read), caught in main and printed with the usage hint.
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

struct ArgFlag {
  std::string name;          // without the leading "--"; "help" is always there (-h, --help)
  bool takes_value;
  std::string help = "";     // one line for the generated --help
  std::string value_name = "";  // e.g. "FILE", "N", "X" (default "VALUE")
};
struct ArgPositional {
  std::string name;  // e.g. "IN"
  std::string help = "";
  bool required = true;
};
// What --help prints around the generated list of flags.
struct ArgProgram {
  std::string name;         // "fennec-train"
  std::string summary = ""; // printed first
  std::string footer = "";  // printed last: defaults, exit codes, examples
};

class Args {
 public:
  using Flag = ArgFlag;
  using Positional = ArgPositional;
  using Program = ArgProgram;

  // Throws ArgError for unknown flags, missing values, repeated flags, a value given to a flag that
  // takes none, and positional arguments beyond `positionals`. -h/--help stops parsing and sets
  // help_requested() (and has("help")).
  Args(int argc, char** argv, const std::vector<Flag>& flags, const Program& program = Program{},
       const std::vector<Positional>& positionals = {});

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The flag's value; "" when it was given empty (--save=) or without a value (--lr at the end).
  std::string str(const std::string& name, const std::string& fallback) const;
  bool help_requested() const { return help_requested_; }
  // The generated help: usage line, positionals, every flag with its description, the footer.
  const std::string& help() const { return help_; }
  // Positional arguments in order (at most positionals.size()).
  const std::vector<std::string>& positional() const { return positional_; }

  double real(const std::string& name, double fallback) const;             // finite
  double positive(const std::string& name, double fallback) const;         // > 0, finite
  double non_negative(const std::string& name, double fallback) const;     // >= 0, finite
  std::uint64_t integer(const std::string& name, std::uint64_t fallback, std::uint64_t lo,
                        std::uint64_t hi) const;                            // in [lo, hi]
  // Comma-separated widths, each in [1, fennec::kMaxWidth]; "none" is an empty list, "" an error.
  std::vector<std::uint32_t> widths(const std::string& name, const std::string& fallback) const;

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string help_;
  bool help_requested_ = false;
};

// --NAME as an ISA (auto, ref, sse2, avx2, avx512, neon, neon64, ...), the same spelling for every
// tool; `fallback` when the flag is absent. Throws ArgError with the library's list of names.
fennec::Isa isa_flag(const Args& args, fennec::Isa fallback, const std::string& name = "isa");
// --threads N in [1, fennec::kMaxThreads] (1 when absent), the same for every tool; a build
// without threads refuses N > 1 here, before any work.
unsigned threads_flag(const Args& args);

// Strict number parsing (whole string, finite). Throws ArgError naming `what`.
double parse_real(const std::string& text, const std::string& what);
std::uint64_t parse_uint(const std::string& text, const std::string& what);

// he | he_uniform | xavier | xavier_uniform | glorot | glorot_uniform | zeros | normal:SIGMA |
// uniform:A (U(-A, A)).
fennec::Init parse_init(const std::string& text, const std::string& what);
std::string init_label(const fennec::Init& init);  // "N(0, 0.01^2)" (a variance), "Xavier N(0, 1/fan_in)", ...
// A file the program will write at the end (--save, --checkpoint): checked at setup, so a typo
// does not cost a whole run. Throws ArgError unless `path` is not a directory and its directory
// exists and is writable.
void check_output_path(const std::string& path, const std::string& what);
// relu | leaky_relu | leaky_relu:ALPHA | tanh | sigmoid | identity
fennec::ActivationSpec parse_activation_spec(const std::string& text, const std::string& what);

}  // namespace fennec_tools
