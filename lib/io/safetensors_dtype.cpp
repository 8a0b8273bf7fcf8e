// SPDX-License-Identifier: Apache-2.0
// safetensors element types: the names and widths the format defines, and the conversion of the
// float ones Fennec imports (F32, F16, BF16, F64) to f32, byte by byte so data may sit at any
// alignment.
#include <cstring>

#include "io/io_util.hpp"
#include "io/safetensors_format.hpp"

namespace fennec {

namespace io_detail {

// Order fixed by the k* constants in the header.
const DtypeInfo kDtypes[] = {
    {"F32", 32},    {"F16", 16},     {"BF16", 16},   {"BOOL", 8},    {"U8", 8},
    {"I8", 8},      {"F8_E5M2", 8},  {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16},    {"I32", 32},     {"U32", 32},    {"F64", 64},    {"I64", 64},
    {"U64", 64},    {"C64", 64},
};
const int kDtypeCount = static_cast<int>(sizeof(kDtypes) / sizeof(kDtypes[0]));

int find_dtype(JsonSlice name) {
  for (int d = 0; d < kDtypeCount; ++d)
    if (json_decoded_equal(name, kDtypes[d].name)) return d;
  return -1;
}

double load_f64(const unsigned char* p) {
  std::uint64_t u = 0;
  for (int i = 7; i >= 0; --i) u = u << 8 | p[i];
  double d;
  std::memcpy(&d, &u, sizeof(d));
  return d;
}

float load_value(const unsigned char* p, int dtype) {
  if (dtype == kF32) return load_f32(p);
  if (dtype == kF64) return static_cast<float>(load_f64(p));  // round to nearest
  const std::uint16_t v = static_cast<std::uint16_t>(p[0] | p[1] << 8);
  return dtype == kF16 ? f16_to_f32(v) : bf16_to_f32(v);
}

}  // namespace io_detail

float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise (at most 10 shifts)
      std::uint32_t e = 113;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --e;
      }
      bits = sign | e << 23 | (mant & 0x3FFu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | mant << 13 | (mant ? 0x400000u : 0u);
  } else {
    bits = sign | (exp + 112) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu)) bits |= 0x400000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace fennec
