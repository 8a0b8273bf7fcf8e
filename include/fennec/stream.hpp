// SPDX-License-Identifier: Apache-2.0
// Byte streams (where bytes go, where they come from, in-memory and counting ones) and CRC-32:
// what every Fennec file format reads and writes through. No file system, no heap: a file helper
// (fennec/io_file.hpp) or the caller's own medium (flash, UART, a socket) supplies the function.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"

namespace fennec {

// Where bytes go. `write` must take all `size` bytes or fail (kIoError, kOutOfMemory).
struct ByteWriter {
  Status (*write)(void* context, const void* data, std::size_t size) = nullptr;
  void* context = nullptr;
};

// Where bytes come from. `read` stores up to `size` bytes at `data` and their count in `*got`;
// a count below `size` means the input ended. Errors of the medium are kIoError.
struct ByteReader {
  Status (*read)(void* context, void* data, std::size_t size, std::size_t* got) = nullptr;
  void* context = nullptr;
};

// Writes into a caller buffer. A write that does not fit fails with kOutOfMemory and writes
// nothing; `size` counts the bytes accepted so far.
class MemoryWriter {
 public:
  MemoryWriter(void* buffer, std::size_t capacity)
      : data_(static_cast<unsigned char*>(buffer)), capacity_(capacity) {}
  ByteWriter writer();
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  static Status write(void* self, const void* data, std::size_t size);
  unsigned char* data_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

// Counts bytes without storing them (to size a buffer).
class CountingWriter {
 public:
  ByteWriter writer();
  std::uint64_t size() const { return size_; }

 private:
  static Status write(void* self, const void* data, std::size_t size);
  std::uint64_t size_ = 0;
};

// Reads from a caller buffer (flash, a memory-mapped file, a test vector).
class MemoryReader {
 public:
  MemoryReader(const void* data, std::size_t size)
      : data_(static_cast<const unsigned char*>(data)), size_(size) {}
  ByteReader reader();
  std::size_t position() const { return position_; }

 private:
  static Status read(void* self, void* data, std::size_t size, std::size_t* got);
  const unsigned char* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

// CRC-32 (reflected polynomial 0xEDB88320, the zlib / PNG / gzip one). Chain calls by passing the
// previous result as `crc`; start from 0.
std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace fennec
