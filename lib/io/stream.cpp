// SPDX-License-Identifier: Apache-2.0
// CRC-32 and the in-memory streams of fennec/stream.hpp.
#include "fennec/stream.hpp"

#include <cstring>

namespace fennec {

// ---- CRC-32 ----
namespace {

struct CrcTable {
  std::uint32_t v[256];
};

constexpr CrcTable make_crc_table() {
  CrcTable t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t.v[i] = c;
  }
  return t;
}

constexpr CrcTable kCrcTable = make_crc_table();

}  // namespace

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = ~crc;
  for (std::size_t i = 0; i < size; ++i) c = kCrcTable.v[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return ~c;
}

// ---- memory streams ----
Status MemoryWriter::write(void* self, const void* data, std::size_t size) {
  MemoryWriter& w = *static_cast<MemoryWriter*>(self);
  FENNEC_ENSURE(size <= w.capacity_ - w.size_, StatusCode::kOutOfMemory,
                "memory writer: %zu bytes do not fit (%zu of %zu used)", size, w.size_, w.capacity_);
  if (size) std::memcpy(w.data_ + w.size_, data, size);
  w.size_ += size;
  return Status::ok();
}

ByteWriter MemoryWriter::writer() {
  ByteWriter w;
  w.write = &MemoryWriter::write;
  w.context = this;
  return w;
}

Status CountingWriter::write(void* self, const void*, std::size_t size) {
  CountingWriter& w = *static_cast<CountingWriter*>(self);
  w.size_ += size;
  return Status::ok();
}

ByteWriter CountingWriter::writer() {
  ByteWriter w;
  w.write = &CountingWriter::write;
  w.context = this;
  return w;
}

Status MemoryReader::read(void* self, void* data, std::size_t size, std::size_t* got) {
  MemoryReader& r = *static_cast<MemoryReader*>(self);
  const std::size_t left = r.size_ - r.position_;
  const std::size_t n = size < left ? size : left;
  if (n) std::memcpy(data, r.data_ + r.position_, n);
  r.position_ += n;
  *got = n;
  return Status::ok();
}

ByteReader MemoryReader::reader() {
  ByteReader r;
  r.read = &MemoryReader::read;
  r.context = this;
  return r;
}

}  // namespace fennec
