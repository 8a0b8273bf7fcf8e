// SPDX-License-Identifier: Apache-2.0
// The preamble shared by model files and checkpoints (lib/io/file_preamble.hpp).
#include "io/file_preamble.hpp"

#include <cstring>

#include "fennec/file_kind.hpp"

namespace fennec::io_detail {

Status read_preamble(Input& in, const PreambleFormat& format, unsigned char* h, Preamble* out) {
  FENNEC_RETURN_IF_ERROR(in.read(h, format.fixed_header_bytes, format.header_what));
  FENNEC_ENSURE(std::memcmp(h, format.magic, 8) == 0, StatusCode::kCorruptData,
                "not a Fennec %s (bad magic): expected %s, got %s", format.name, format.expected,
                file_kind_name(detect_file_kind(h, format.fixed_header_bytes)));
  out->version = load_u32(h + 8);
  FENNEC_ENSURE(out->version != 0, StatusCode::kCorruptData, "%s version 0 is invalid", format.name);
  FENNEC_ENSURE(out->version <= format.newest_version, StatusCode::kUnsupported,
                "%s version %lu is newer than this library (%lu)", format.name,
                static_cast<unsigned long>(out->version),
                static_cast<unsigned long>(format.newest_version));
  FENNEC_RETURN_IF_ERROR(decode_spec_fixed(h + kPreambleBytes, &out->spec));
  out->header_bytes = load_u32(h + 12);
  const std::uint64_t expected = format.header_bytes(out->version, out->spec.num_layers);
  FENNEC_ENSURE(out->header_bytes == expected, StatusCode::kCorruptData,
                "header length %lu, expected %llu for %lu layers",
                static_cast<unsigned long>(out->header_bytes),
                static_cast<unsigned long long>(expected),
                static_cast<unsigned long>(out->spec.num_layers));
  return Status::ok();
}

}  // namespace fennec::io_detail
