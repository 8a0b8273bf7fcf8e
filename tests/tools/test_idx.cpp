// SPDX-License-Identifier: Apache-2.0
// IDX reader: valid plain and gzip files, and every malformed-header class it must refuse.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "common/idx.hpp"
#include "tools/tools_test_util.hpp"

using fennec_tools::IdxArray;
using fennec_tools::read_idx;
using fennec_tools::read_idx_expect;
using fennec_tools::write_idx;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return v;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  // fwrite's buffer must not be null even for 0 bytes (an empty vector's data() may be).
  if (!b.empty()) REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::vector<std::uint8_t> b;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  int c;
  while ((c = std::fgetc(f)) != EOF) b.push_back(static_cast<std::uint8_t>(c));
  std::fclose(f);
  return b;
}

void write_gz(const std::string& path, const std::vector<std::uint8_t>& b) {
  gzFile g = gzopen(path.c_str(), "wb");
  REQUIRE(g);
  REQUIRE(gzwrite(g, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(g) == Z_OK);
}

// Header bytes: 00 00 type ndims, then big-endian dims.
std::vector<std::uint8_t> header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  std::vector<std::uint8_t> h{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    h.push_back(static_cast<std::uint8_t>(d >> 24));
    h.push_back(static_cast<std::uint8_t>(d >> 16));
    h.push_back(static_cast<std::uint8_t>(d >> 8));
    h.push_back(static_cast<std::uint8_t>(d));
  }
  return h;
}

std::string expect_error(const std::string& path) {
  IdxArray a;
  std::string error;
  CHECK_FALSE(read_idx(path, a, error));
  CHECK(a.data.empty());
  CHECK(a.dims.empty());
  INFO(error);
  CHECK(error.find(path) != std::string::npos);  // every message names the file
  return error;
}

}  // namespace

TEST_CASE("idx: plain and gzip files round-trip", "[tools][idx]") {
  tools_test::TempDir dir("idx-valid");
  const auto data = pattern(5 * 3 * 4);
  for (bool gz : {false, true}) {
    const std::string path = dir.file(gz ? "a.idx.gz" : "a.idx");
    std::string error;
    REQUIRE(write_idx(path, {5, 3, 4}, data.data(), gz, error));
    IdxArray a;
    REQUIRE(read_idx(path, a, error));
    CHECK(a.dims == std::vector<std::uint32_t>{5, 3, 4});
    CHECK(a.count() == 5);
    CHECK(a.item_size() == 12);
    CHECK(a.data == data);
    REQUIRE(read_idx_expect(path, 3, a, error));
    CHECK_FALSE(read_idx_expect(path, 1, a, error));
    CHECK(error.find("expected 1 dimensions, the file has 3") != std::string::npos);
  }
  // 1-D label file.
  const std::string labels = dir.file("labels");
  std::string error;
  REQUIRE(write_idx(labels, {7}, data.data(), false, error));
  IdxArray a;
  REQUIRE(read_idx_expect(labels, 1, a, error));
  CHECK(a.count() == 7);
  CHECK(a.item_size() == 1);
}

TEST_CASE("idx: missing and empty files", "[tools][idx]") {
  tools_test::TempDir dir("idx-missing");
  CHECK(expect_error(dir.file("nope")).find("cannot open") != std::string::npos);
  write_bytes(dir.file("empty"), {});
  CHECK(expect_error(dir.file("empty")).find("too short") != std::string::npos);
  write_bytes(dir.file("two"), {0, 0});
  CHECK(expect_error(dir.file("two")).find("too short") != std::string::npos);
}

TEST_CASE("idx: wrong magic and element type", "[tools][idx]") {
  tools_test::TempDir dir("idx-magic");
  auto png = std::vector<std::uint8_t>{0x89, 'P', 'N', 'G', 0, 0, 0, 1, 0};
  write_bytes(dir.file("png"), png);
  CHECK(expect_error(dir.file("png")).find("not an IDX file") != std::string::npos);
  auto f32 = header(0x0D, {2});
  f32.resize(f32.size() + 8, 0);
  write_bytes(dir.file("f32"), f32);
  CHECK(expect_error(dir.file("f32")).find("type 0x0d is not supported") != std::string::npos);
  write_gz(dir.file("png.gz"), png);
  CHECK(expect_error(dir.file("png.gz")).find("not an IDX file") != std::string::npos);
}

TEST_CASE("idx: wrong dimensions", "[tools][idx]") {
  tools_test::TempDir dir("idx-dims");
  auto zero_ndims = header(0x08, {});
  write_bytes(dir.file("nd0"), zero_ndims);
  CHECK(expect_error(dir.file("nd0")).find("0 dimensions") != std::string::npos);
  auto many = header(0x08, {1, 1, 1, 1, 1});
  many.push_back(0);
  write_bytes(dir.file("nd5"), many);
  CHECK(expect_error(dir.file("nd5")).find("5 dimensions") != std::string::npos);
  auto zero_dim = header(0x08, {3, 0});
  write_bytes(dir.file("d0"), zero_dim);
  CHECK(expect_error(dir.file("d0")).find("dimension 1 is 0") != std::string::npos);
  // Dimensions whose product is 2^64 (would wrap to 0 in u64): caught by the running cap.
  auto wrap = header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 2, 2});
  write_bytes(dir.file("wrap"), wrap);
  CHECK(expect_error(dir.file("wrap")).find("more than") != std::string::npos);
  // Plausible header, 16 GB of claimed data in a 20-byte file: refused before allocating.
  auto huge = header(0x08, {60000, 28, 28});
  huge[5] = 0x7F;  // first dim 0x7F00EA60
  write_bytes(dir.file("huge"), huge);
  CHECK(expect_error(dir.file("huge")).find("more than") != std::string::npos);
  // The header announces 3 dims but the file ends after 2.
  auto short_dims = header(0x08, {4, 4, 4});
  short_dims.resize(12);
  write_bytes(dir.file("shortdims"), short_dims);
  CHECK(expect_error(dir.file("shortdims")).find("truncated IDX header") != std::string::npos);
}

TEST_CASE("idx: truncated and over-long files, plain and gzip", "[tools][idx]") {
  tools_test::TempDir dir("idx-trunc");
  const auto data = pattern(10 * 6);
  std::string error;
  REQUIRE(write_idx(dir.file("ok"), {10, 6}, data.data(), false, error));
  auto bytes = read_bytes(dir.file("ok"));

  auto cut = bytes;
  cut.resize(cut.size() - 1);
  write_bytes(dir.file("cut"), cut);
  CHECK(expect_error(dir.file("cut")).find("truncated") != std::string::npos);
  write_gz(dir.file("cut.gz"), cut);
  CHECK(expect_error(dir.file("cut.gz")).find("truncated") != std::string::npos);

  auto longer = bytes;
  longer.push_back(42);
  write_bytes(dir.file("long"), longer);
  CHECK(expect_error(dir.file("long")).find("trailing data") != std::string::npos);

  // A gzip stream cut in the middle of its compressed data.
  REQUIRE(write_idx(dir.file("ok.gz"), {10, 6}, data.data(), true, error));
  auto gz = read_bytes(dir.file("ok.gz"));
  for (std::size_t keep : {gz.size() - 1, gz.size() - 8, gz.size() / 2, std::size_t{12}}) {
    auto g = gz;
    g.resize(keep);
    write_bytes(dir.file("cutgz.gz"), g);
    INFO("kept " << keep << " of " << gz.size() << " gzip bytes");
    expect_error(dir.file("cutgz.gz"));
  }
  // Corrupt compressed payload (flip bytes in the middle of the deflate stream).
  auto bad = gz;
  for (std::size_t i = 12; i < bad.size() - 8; ++i) bad[i] ^= 0x5A;
  write_bytes(dir.file("bad.gz"), bad);
  expect_error(dir.file("bad.gz"));
}

TEST_CASE("idx: every single-byte truncation of a small gzip file is refused", "[tools][idx]") {
  tools_test::TempDir dir("idx-allcuts");
  const auto data = pattern(4 * 5);
  std::string error;
  REQUIRE(write_idx(dir.file("ok.gz"), {4, 5}, data.data(), true, error));
  const auto gz = read_bytes(dir.file("ok.gz"));
  for (std::size_t keep = 0; keep < gz.size(); ++keep) {
    auto g = gz;
    g.resize(keep);
    write_bytes(dir.file("c.gz"), g);
    IdxArray a;
    INFO("kept " << keep);
    CHECK_FALSE(read_idx(dir.file("c.gz"), a, error));
  }
}

// `cat a.gz b.gz`, pigz and bgzip write several gzip members; zcat reads them as one stream.
TEST_CASE("idx: a multi-member gzip file reads as the concatenation of its members", "[tools][idx]") {
  tools_test::TempDir dir("idx-members");
  const auto data = pattern(6 * 7 * 3);
  std::string error;
  REQUIRE(write_idx(dir.file("plain"), {6, 7, 3}, data.data(), false, error));
  const auto plain = read_bytes(dir.file("plain"));
  for (std::size_t members : {2, 3, 7}) {
    std::vector<std::uint8_t> joined;
    const std::size_t step = plain.size() / members;
    for (std::size_t m = 0; m < members; ++m) {
      const std::size_t a = m * step, b = m + 1 == members ? plain.size() : a + step;
      write_gz(dir.file("part.gz"), std::vector<std::uint8_t>(plain.begin() + a, plain.begin() + b));
      const auto part = read_bytes(dir.file("part.gz"));
      joined.insert(joined.end(), part.begin(), part.end());
    }
    write_bytes(dir.file("multi.gz"), joined);
    INFO(members << " members");
    IdxArray a;
    REQUIRE(read_idx(dir.file("multi.gz"), a, error));
    CHECK(a.dims == std::vector<std::uint32_t>{6, 7, 3});
    CHECK(a.data == data);
  }
}

// An 8 KB file (8 MiB of one byte, compressed) whose header claims 1 GiB (gzip trailer forged to
// agree): the reader must find the
// data short before it has allocated and zeroed anything like the claimed size. Read in a child
// whose peak resident memory (from wait4) must stay far below 1 GiB above what it started with.
TEST_CASE("idx: a small gzip file claiming 1 GiB is refused without allocating the claim", "[tools][idx]") {
  tools_test::TempDir dir("idx-bomb");
  auto bytes = header(0x08, {1024, 1024, 1024});
  bytes.resize(bytes.size() + (8u << 20), 0x55);
  write_gz(dir.file("bomb.gz"), bytes);
  auto gz = read_bytes(dir.file("bomb.gz"));
  const std::uint32_t claimed = static_cast<std::uint32_t>(16 + (1ull << 30));
  for (int i = 0; i < 4; ++i) gz[gz.size() - 4 + i] = static_cast<std::uint8_t>(claimed >> (8 * i));
  write_bytes(dir.file("bomb.gz"), gz);
  const std::string path = dir.file("bomb.gz");
  // The child starts with this process's resident pages (large under a sanitizer): measure above
  // this process's peak.
  struct rusage self;
  REQUIRE(::getrusage(RUSAGE_SELF, &self) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    IdxArray a;
    std::string error;
    const bool ok = read_idx(path, a, error);
    ::_exit(!ok && error.find(path) != std::string::npos && a.data.empty() ? 0 : 1);
  }
  int status = 0;
  struct rusage ru;
  REQUIRE(::wait4(child, &status, 0, &ru) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  INFO("child peak RSS " << ru.ru_maxrss << " KiB, this process's " << self.ru_maxrss << " KiB");
  CHECK(ru.ru_maxrss < self.ru_maxrss + 256 * 1024);
  // The same file with an honest trailer is refused too (short data), as is an honest bomb cut off.
  write_gz(dir.file("short.gz"), bytes);
  CHECK(expect_error(dir.file("short.gz")).find("truncated") != std::string::npos);
}
