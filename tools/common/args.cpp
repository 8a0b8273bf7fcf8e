// SPDX-License-Identifier: Apache-2.0
#include "common/args.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

namespace fennec_tools {

namespace {

// CLI11 reports a value given to a plain flag (--no-progress=1) as a "disallowed flag override";
// every other parse error it raises is reported with CLI11's own sentence.
std::string translate_parse_error(const CLI::ParseError& e) {
  const std::string what = e.what();
  const std::string marker = " was given a disallowed flag override";
  const std::size_t at = what.find(marker);
  if (at != std::string::npos) return "--" + what.substr(0, at) + " takes no value";
  return what;
}

}  // namespace

Args::Args(int argc, char** argv, const std::vector<Flag>& flags, const Program& program,
           const std::vector<Positional>& positionals) {
  CLI::App app{program.summary, program.name};
  // Unknown flags and stray words are collected, not thrown, so the message can name them the
  // way the tools always have ("unknown flag --x", "unexpected argument 'x'").
  app.allow_extras(true);
  app.set_config("--config", "", "read flags from a TOML or INI file (name = value per line)");
  if (!program.footer.empty()) app.footer(program.footer);
  // std::map nodes never move, so CLI11 may keep pointers to these vectors while it parses.
  std::map<std::string, std::vector<std::string>> given;
  std::map<std::string, CLI::Option*> options;
  for (const Flag& f : flags) {
    if (f.name == "help") continue;  // CLI11's own -h, --help
    CLI::Option* o = nullptr;
    if (f.takes_value) {
      // expected(0, 1): "--lr" at the end or before another flag is recorded with no value, and
      // reported by the typed getters as "--lr needs a value"; TakeAll keeps repeats countable.
      o = app.add_option("--" + f.name, given[f.name], f.help)
              ->expected(0, 1)
              ->allow_extra_args(false)
              ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
              ->type_name(f.value_name.empty() ? "VALUE" : f.value_name);
    } else {
      o = app.add_flag("--" + f.name, f.help)->disable_flag_override();
    }
    options[f.name] = o;
  }
  // One CLI11 positional takes every word that is not a flag (CLI11 would give all of them to the
  // first of several positionals); they are matched to `positionals` in order below.
  std::vector<std::string> words;
  if (!positionals.empty()) {
    std::string names, descriptions;
    for (const Positional& p : positionals) {
      names += (names.empty() ? "" : "_") + p.name;
      descriptions += (descriptions.empty() ? "" : "\n") + p.name + ": " + p.help;
    }
    app.add_option(names, words, descriptions)->expected(0, CLI::detail::expected_max_vector_size);
  }
  help_ = app.help();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help_requested_ = true;
    values_["help"] = "";
    return;
  } catch (const CLI::ParseError& e) {
    throw ArgError(translate_parse_error(e));
  }
  for (const std::string& extra : app.remaining()) {
    if (extra.size() > 1 && extra[0] == '-') {
      const std::size_t eq = extra.find('=');
      throw ArgError("unknown flag " + extra.substr(0, eq));
    }
    throw ArgError("unexpected argument '" + extra + "' (flags start with --)");
  }
  for (const auto& [name, option] : options) {
    if (option->count() == 0) continue;
    if (option->count() > 1) throw ArgError("--" + name + " given twice");
    const std::vector<std::string>& v = given[name];
    values_[name] = v.empty() ? std::string() : v.front();
  }
  if (words.size() > positionals.size())
    throw ArgError("unexpected argument '" + words[positionals.size()] + "'");
  for (std::size_t i = words.size(); i < positionals.size(); ++i)
    if (positionals[i].required) throw ArgError("missing " + positionals[i].name);
  positional_ = words;
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

double parse_real(const std::string& text, const std::string& what) {
  if (text.empty()) throw ArgError(what + ": expected a number, got nothing");
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) {
    throw ArgError(what + ": expected a finite number, got '" + text + "'");
  }
  return v;
}

std::uint64_t parse_uint(const std::string& text, const std::string& what) {
  if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ') {
    throw ArgError(what + ": expected a non-negative integer, got '" + text + "'");
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || errno == ERANGE) {
    throw ArgError(what + ": expected a non-negative integer, got '" + text + "'");
  }
  return v;
}

double Args::real(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  if (str(name, "").empty()) throw ArgError("--" + name + " needs a value");
  return parse_real(str(name, ""), "--" + name);
}

double Args::positive(const std::string& name, double fallback) const {
  const double v = real(name, fallback);
  if (!(v > 0)) throw ArgError("--" + name + " must be > 0, got " + str(name, ""));
  return v;
}

double Args::non_negative(const std::string& name, double fallback) const {
  const double v = real(name, fallback);
  if (!(v >= 0)) throw ArgError("--" + name + " must be >= 0, got " + str(name, ""));
  return v;
}

std::uint64_t Args::integer(const std::string& name, std::uint64_t fallback, std::uint64_t lo,
                            std::uint64_t hi) const {
  if (!has(name)) return fallback;
  if (str(name, "").empty()) throw ArgError("--" + name + " needs a value");
  const std::uint64_t v = parse_uint(str(name, ""), "--" + name);
  if (v < lo || v > hi) {
    throw ArgError("--" + name + " must lie in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "], got " + std::to_string(v));
  }
  return v;
}

std::vector<std::uint32_t> Args::widths(const std::string& name,
                                        const std::string& fallback) const {
  const std::string text = str(name, fallback);
  std::vector<std::uint32_t> out;
  // An empty value is a typo more often than a wish for a linear model: that one is spelled out.
  if (text.empty())
    throw ArgError("--" + name + " needs widths, e.g. 512,256 ('none' for no hidden layer)");
  if (text == "none") return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                             : comma - start);
    const std::uint64_t v = parse_uint(item, "--" + name + " (in '" + text + "')");
    if (v < 1 || v > fennec::kMaxWidth) {
      throw ArgError("--" + name + ": width " + item + " must lie in [1, " +
                     std::to_string(fennec::kMaxWidth) + "]");
    }
    out.push_back(static_cast<std::uint32_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.size() + 1 > fennec::kMaxLayers) {
    throw ArgError("--" + name + ": at most " + std::to_string(fennec::kMaxLayers - 1) +
                   " hidden layers");
  }
  return out;
}

fennec::Init parse_init(const std::string& text, const std::string& what) {
  using fennec::Init;
  if (text == "he" || text == "he_normal") return Init::he_normal();
  if (text == "he_uniform") return Init::he_uniform();
  if (text == "xavier" || text == "xavier_normal") return Init::xavier_normal();
  if (text == "xavier_uniform") return Init::xavier_uniform();
  if (text == "glorot" || text == "glorot_normal") return Init::glorot_normal();
  if (text == "glorot_uniform") return Init::glorot_uniform();
  if (text == "zeros") return Init::zeros();
  const std::size_t colon = text.find(':');
  if (colon != std::string::npos) {
    const std::string kind = text.substr(0, colon);
    const std::string arg = text.substr(colon + 1);
    if (kind == "normal") {
      const double s = parse_real(arg, what + " normal:SIGMA");
      if (!(s >= 0)) throw ArgError(what + ": normal:SIGMA needs SIGMA >= 0, got " + arg);
      return Init::normal(0.f, static_cast<float>(s));
    }
    if (kind == "uniform") {
      const double a = parse_real(arg, what + " uniform:A");
      if (!(a > 0)) throw ArgError(what + ": uniform:A needs A > 0, got " + arg);
      return Init::uniform(static_cast<float>(-a), static_cast<float>(a));
    }
  }
  throw ArgError(what + ": unknown initialiser '" + text +
                 "' (he, he_uniform, xavier, xavier_uniform, glorot, glorot_uniform, zeros, "
                 "normal:SIGMA, uniform:A)");
}

std::string init_label(const fennec::Init& init) {
  char buf[64];
  switch (init.kind) {
    case fennec::InitKind::kNormal:
      // N(mean, variance), as in "N(0, 1/fan_in)" beside it: the Init holds sigma, so the label
      // squares it ("N(0, 0.01^2)"); sigma = 1 is the variance 1 and reads "N(0, 1)".
      if (init.b == 1.0f) {
        std::snprintf(buf, sizeof buf, "N(%g, 1)", static_cast<double>(init.a));
      } else {
        std::snprintf(buf, sizeof buf, "N(%g, %g^2)", static_cast<double>(init.a), static_cast<double>(init.b));
      }
      return buf;
    case fennec::InitKind::kUniform:
      std::snprintf(buf, sizeof buf, "U(%g, %g)", static_cast<double>(init.a),
                    static_cast<double>(init.b));
      return buf;
    case fennec::InitKind::kXavierNormal: return "Xavier N(0, 1/fan_in)";
    case fennec::InitKind::kXavierUniform: return "Xavier uniform";
    case fennec::InitKind::kGlorotNormal: return "Glorot N(0, 2/(fan_in+fan_out))";
    case fennec::InitKind::kGlorotUniform: return "Glorot uniform";
    case fennec::InitKind::kHeNormal: return "He N(0, 2/fan_in)";
    case fennec::InitKind::kHeUniform: return "He uniform";
    case fennec::InitKind::kZeros: return "zeros";
    case fennec::InitKind::kConstant:
      std::snprintf(buf, sizeof buf, "constant %g", static_cast<double>(init.a));
      return buf;
  }
  return "?";
}

void check_output_path(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw ArgError(what + ": '" + path + "' is a directory, not a file name");
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0)
    throw ArgError(what + ": cannot use directory '" + dir + "' for " + path + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) throw ArgError(what + ": '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw ArgError(what + ": cannot write to directory '" + dir + "': " + std::strerror(errno));
}

fennec::ActivationSpec parse_activation_spec(const std::string& text, const std::string& what) {
  // The library's parser, so the command line and a file's fennec.activations metadata accept
  // exactly the same strings.
  fennec::Result<fennec::ActivationSpec> r = fennec::parse_activation_spec(text.data(), text.size());
  if (!r.is_ok()) throw ArgError(what + ": " + r.status().message());
  return r.value();
}

fennec::Isa isa_flag(const Args& args, fennec::Isa fallback, const std::string& name) {
  if (!args.has(name)) return fallback;
  const std::string text = args.str(name, "");
  if (text.empty()) throw ArgError("--" + name + " needs a value");
  fennec::Result<fennec::Isa> isa = fennec::parse_isa(text.c_str());
  if (!isa.is_ok()) throw ArgError("--" + name + ": " + isa.status().message());
  return isa.value();
}

unsigned threads_flag(const Args& args) {
  const auto n = static_cast<unsigned>(args.integer("threads", 1, 1, fennec::kMaxThreads));
  if (n > 1 && !fennec::kBuildHasThreads) throw ArgError("--threads: this build of Fennec has no threads (FENNEC_THREADS=OFF)");
  return n;
}

}  // namespace fennec_tools
