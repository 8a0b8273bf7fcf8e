// SPDX-License-Identifier: Apache-2.0
// detect_file_kind / file_kind_name: each format Fennec reads is told by its first bytes, and a
// loader handed another format names what it got.
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fennec/io.hpp"
#include "fennec/quant_io.hpp"

using fennec::detect_file_kind;
using fennec::FileKind;

namespace {

std::vector<unsigned char> starting_with(const char* magic, std::size_t size = 48) {
  std::vector<unsigned char> b(size, 0);
  std::memcpy(b.data(), magic, 8);
  return b;
}

}  // namespace

TEST_CASE("file kind: every format is told from its first bytes", "[io][file_kind]") {
  CHECK(detect_file_kind(starting_with("FENNECMF").data(), 48) == FileKind::kModelFile);
  CHECK(detect_file_kind(starting_with("FENNECCK").data(), 48) == FileKind::kCheckpoint);
  CHECK(detect_file_kind(fennec::kQuantFileMagic, 8) == FileKind::kQuantizedModel);
  CHECK(detect_file_kind(starting_with(fennec::kQuantFileMagic).data(), 48) == FileKind::kQuantizedModel);

  // safetensors: u64 N, then N header bytes starting with '{'.
  std::vector<unsigned char> st(8 + 16, ' ');
  st[0] = 16;
  for (int i = 1; i < 8; ++i) st[i] = 0;
  st[8] = '{';
  CHECK(detect_file_kind(st.data(), st.size()) == FileKind::kSafetensors);
  st[0] = 17;  // N past the end: not safetensors (and not text: the zero bytes)
  CHECK(detect_file_kind(st.data(), st.size()) == FileKind::kUnknown);

  const char text[] = "label,x0,x1\n1,0.5,0.25\n";
  CHECK(detect_file_kind(text, sizeof text - 1) == FileKind::kText);
  CHECK(detect_file_kind(nullptr, 8) == FileKind::kUnknown);
  CHECK(detect_file_kind(text, 0) == FileKind::kUnknown);
  // Seven bytes of a magic are not the magic.
  CHECK(detect_file_kind("FENNECQ", 7) == FileKind::kText);
}

TEST_CASE("file kind: each kind has its own name, and the model loader says which it got", "[io][file_kind]") {
  CHECK(std::string(fennec::file_kind_name(FileKind::kModelFile)) == "a Fennec model file");
  CHECK(std::string(fennec::file_kind_name(FileKind::kCheckpoint)) == "a Fennec training checkpoint");
  CHECK(std::string(fennec::file_kind_name(FileKind::kSafetensors)) == "a safetensors file");
  CHECK(std::string(fennec::file_kind_name(FileKind::kText)) == "a text file");
  CHECK(std::string(fennec::file_kind_name(FileKind::kQuantizedModel)) == "a Fennec int8 model file");
  CHECK(std::string(fennec::file_kind_name(FileKind::kUnknown)) == "unrecognised data");
  CHECK(std::string(fennec::file_kind_name(static_cast<FileKind>(99))) == "unrecognised data");

  // An int8 file handed to the f32 loader: refused, and named.
  const std::vector<unsigned char> q8 = starting_with(fennec::kQuantFileMagic, 64);
  const fennec::Result<fennec::ModelFileInfo> info = fennec::read_model_info(q8.data(), q8.size());
  REQUIRE_FALSE(info.is_ok());
  CHECK(info.status().code() == fennec::StatusCode::kCorruptData);
  CHECK_THAT(std::string(info.status().message()), Catch::Contains("a Fennec int8 model file"));
}
