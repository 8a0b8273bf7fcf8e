// SPDX-License-Identifier: Apache-2.0
// NumPy .npy files (np.save), versions 1.0 and 2.0, C order.
//
// Layout: "\x93NUMPY", major and minor version bytes, the header length (u16 little-endian in
// version 1, u32 in version 2), the header (a Python dict literal with exactly the keys 'descr',
// 'fortran_order' and 'shape'), then the elements. Accepted element types: float32 ('<f4') and
// the integers u1 i1 u2 i2 u4 i4 u8 i8, little-endian ('<', or '|' for one byte). Everything is
// validated before the data is used: magic, version, header syntax and keys, type, order, each
// dimension and their product (with overflow checks and the IDX reader's 1 GiB cap), and the file
// size, which must be exactly header plus data (truncation and trailing bytes are both refused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fennec_tools {

inline constexpr std::size_t kNpyMaxDims = 8;
// Largest header accepted (numpy itself refuses headers above 10,000 bytes by default).
inline constexpr std::size_t kNpyMaxHeaderBytes = 1u << 16;

enum class NpyType { kF32, kU8, kI8, kU16, kI16, kU32, kI32, kU64, kI64 };

const char* npy_type_name(NpyType t);  // "float32", "uint8", ...
std::size_t npy_type_size(NpyType t);

struct NpyArray {
  NpyType type = NpyType::kF32;
  std::vector<std::uint64_t> shape;  // () for a scalar
  std::vector<std::uint8_t> data;    // the elements as stored (little-endian), C order

  std::uint64_t elements() const;
  bool is_integer() const { return type != NpyType::kF32; }
  // Element i of an integer array, widened; i < elements().
  std::int64_t integer(std::size_t i) const;
  // Element i of a float32 array; i < elements().
  float real(std::size_t i) const;
};

// Parses the bytes of a .npy file. On failure returns false, leaves `out` unchanged and sets
// `error` to a message starting with `name` (the file) and saying what is wrong where.
bool parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& name, NpyArray& out,
               std::string& error);

// Reads and parses `path`.
bool read_npy(const std::string& path, NpyArray& out, std::string& error);

// Writes a version 1.0 file; for tests and tools. `data` holds elements() values of `type`.
bool write_npy(const std::string& path, NpyType type, const std::vector<std::uint64_t>& shape,
               const void* data, std::string& error);

}  // namespace fennec_tools
