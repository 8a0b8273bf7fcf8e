// SPDX-License-Identifier: Apache-2.0
// The opening every Fennec f32 format shares (model file, checkpoint): 8-byte magic, u32 format
// version, u32 header_bytes, then the 24-byte fixed part of the spec record. One reader checks it
// for both formats, so each refuses the wrong kind of file, version 0, a version from the future
// and a header length that does not match its layer count in the same words, and a new check
// (or a new format of this family) is added in one place.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/status.hpp"
#include "io/io_util.hpp"

namespace fennec::io_detail {

// magic, version, header_bytes; the fixed spec part follows.
inline constexpr std::size_t kPreambleBytes = 16;

// What distinguishes one format of the family.
struct PreambleFormat {
  const char* magic;  // 8 bytes
  // What a file with the wrong magic should have been, in file_kind_name's words plus the magic
  // ("a Fennec model file (FENNECMF)"); spelled out, which costs less flash than a lookup.
  const char* expected;
  const char* name;         // "model file": starts the version messages
  const char* header_what;  // names the fixed header in a "truncated" message
  std::size_t fixed_header_bytes;  // read before the layer records (>= kPreambleBytes + spec)
  std::uint32_t newest_version;
  // The header_bytes a valid file of `version` with `num_layers` layers declares.
  std::uint64_t (*header_bytes)(std::uint32_t version, std::uint32_t num_layers);
};

struct Preamble {
  std::uint32_t version = 0;
  std::uint32_t header_bytes = 0;  // checked against format.header_bytes
  SpecFixed spec{};
};

// Reads format.fixed_header_bytes into `h` and checks the preamble and the fixed spec part. The
// rest of the fixed header (bytes kPreambleBytes + kSpecFixedBytes onwards) is the caller's. On
// failure `out` may be partly written.
Status read_preamble(Input& in, const PreambleFormat& format, unsigned char* h, Preamble* out);

}  // namespace fennec::io_detail
