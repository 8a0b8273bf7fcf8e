// SPDX-License-Identifier: Apache-2.0
// The tools' data readers on arbitrary bytes: the .npy parser and the CSV data-set parser. Each
// must refuse or accept without a crash, a sanitizer report or an allocation beyond its caps, and
// what it accepts must be consistent (sizes match the shape, labels are classes, values finite).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/csv_samples.hpp"
#include "common/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string error;
  fennec_tools::NpyArray a;
  if (fennec_tools::parse_npy(data, size, "fuzz.npy", a, error)) {
    if (a.data.size() != a.elements() * fennec_tools::npy_type_size(a.type)) __builtin_trap();
    volatile double sink = 0;
    for (std::size_t i = 0; i < a.elements(); ++i)
      sink = sink + (a.is_integer() ? static_cast<double>(a.integer(i)) : static_cast<double>(a.real(i)));
  } else if (error.rfind("fuzz.npy: ", 0) != 0) {
    __builtin_trap();  // every refusal names the file
  }
  constexpr std::size_t kClasses = 1 + 7;
  fennec_tools::SampleSet s;
  if (fennec_tools::parse_csv_samples(reinterpret_cast<const char*>(data), size, "fuzz.csv", "label", kClasses, s,
                                      error)) {
    if (s.count == 0 || s.width == 0 || s.values.size() != s.count * s.width || s.labels.size() != s.count ||
        s.classes > kClasses)
      __builtin_trap();
    for (float v : s.values)
      if (!std::isfinite(v)) __builtin_trap();
    for (std::int32_t l : s.labels)
      if (l < 0 || static_cast<std::size_t>(l) >= s.classes) __builtin_trap();
  } else if (error.rfind("fuzz.csv", 0) != 0) {
    __builtin_trap();
  }
  return 0;
}
