// SPDX-License-Identifier: Apache-2.0
// IDX files (the MNIST family's format), plain or gzip-compressed.
//
// Layout: magic 00 00 TT NN (TT = element type, NN = number of dimensions), NN big-endian u32
// dimensions, then the elements. Fennec's tools read unsigned bytes only (TT = 0x08), which is
// what every MNIST-family image and label file holds. Everything is validated before the data
// buffer is allocated: magic, type, dimension count and values, the byte count (with overflow
// checks and a hard cap), and, for a plain file, its size. A gzip file may hold several members
// (cat a.gz b.gz, pigz, bgzip), read as one stream as zcat does; its payload buffer grows as the
// data arrives, so a corrupt header cannot make the reader allocate far more than the data holds.
// The whole payload must be present and nothing may follow it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fennec_tools {

inline constexpr std::size_t kIdxMaxDims = 4;
// Largest payload accepted (1 GiB; Fashion-MNIST's training images are 47 MB).
inline constexpr std::uint64_t kIdxMaxBytes = 1ull << 30;

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // row-major, dims[0] * dims[1] * ... bytes

  std::size_t count() const { return dims.empty() ? 0 : dims[0]; }
  // Bytes per item: product of dims[1..].
  std::size_t item_size() const;
};

// Reads `path` (gzip detected from the content, not the name). On failure returns false and
// sets `error` to a message naming the file and what is wrong.
bool read_idx(const std::string& path, IdxArray& out, std::string& error);

// Reads an IDX file and checks it has exactly `ndims` dimensions.
bool read_idx_expect(const std::string& path, std::size_t ndims, IdxArray& out,
                     std::string& error);

// Writes an uncompressed (gzip = false) or gzip-compressed u8 IDX file; for tests and tools.
bool write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::uint8_t* data, bool gzip, std::string& error);

}  // namespace fennec_tools
