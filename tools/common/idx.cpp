// SPDX-License-Identifier: Apache-2.0
#include "common/idx.hpp"

#if FENNEC_TOOLS_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

namespace fennec_tools {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

#if FENNEC_TOOLS_HAVE_ZLIB
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;
#endif

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Reads up to `n` bytes; returns how many arrived. Sets `error` on a read/decompression error.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t read(void* dst, std::size_t n, std::string& error) = 0;
};

class PlainSource : public Source {
 public:
  explicit PlainSource(std::FILE* f) : f_(f) {}
  std::size_t read(void* dst, std::size_t n, std::string& error) override {
    const std::size_t got = std::fread(dst, 1, n, f_);
    if (got < n && std::ferror(f_)) error = std::strerror(errno);
    return got;
  }

 private:
  std::FILE* f_;
};

#if FENNEC_TOOLS_HAVE_ZLIB
class GzSource : public Source {
 public:
  GzSource(gzFile f, std::string path) : f_(f), path_(std::move(path)) {}
  std::size_t read(void* dst, std::size_t n, std::string& error) override {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t total = 0;
    while (total < n) {
      const std::size_t want = std::min<std::size_t>(n - total, 1u << 24);
      const int got = gzread(f_, out + total, static_cast<unsigned>(want));
      if (got < 0) {
        error = "corrupt gzip data (zlib: " + zlib_message() + ")";
        return total;
      }
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    if (total < n) {
      int code = 0;
      gzerror(f_, &code);
      // A stream cut short reports Z_BUF_ERROR ("unexpected end of file").
      if (code != Z_OK && code != Z_STREAM_END) {
        error = "truncated or corrupt gzip data (zlib: " + zlib_message() + ")";
      }
    }
    return total;
  }

 private:
  // zlib prefixes its message with the file name, which the caller adds anyway.
  std::string zlib_message() {
    int code = 0;
    std::string m = gzerror(f_, &code);
    if (m.compare(0, path_.size() + 2, path_ + ": ") == 0) m = m.substr(path_.size() + 2);
    return m;
  }

  gzFile f_;
  std::string path_;
};
#endif

std::string fmt_u64(std::uint64_t v) { return std::to_string(v); }

}  // namespace

std::size_t IdxArray::item_size() const {
  std::size_t n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

bool read_idx(const std::string& path, IdxArray& out, std::string& error) {
  out = IdxArray{};
  const std::string where = path + ": ";
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = where + "cannot open: " + std::strerror(errno);
    return false;
  }
  if (std::fseek(f.get(), 0, SEEK_END) != 0) {
    error = where + "cannot seek: " + std::strerror(errno);
    return false;
  }
  const long end = std::ftell(f.get());
  if (end < 0) {
    error = where + "cannot tell size: " + std::strerror(errno);
    return false;
  }
  const std::uint64_t file_size = static_cast<std::uint64_t>(end);
  std::rewind(f.get());

  unsigned char sniff[2] = {0, 0};
  const bool gzip = file_size >= 2 && std::fread(sniff, 1, 2, f.get()) == 2 && sniff[0] == 0x1f &&
                    sniff[1] == 0x8b;
  // Smallest gzip member: 10-byte header + 8-byte trailer. The trailer's size field is not used:
  // it describes the last member only (cat a.gz b.gz, pigz, bgzip write several), and it is
  // whatever the file says; the data itself decides, read as it arrives.
  if (gzip && file_size < 18) {
    error = where + "gzip file too short to hold a gzip trailer (truncated?)";
    return false;
  }
  std::rewind(f.get());

  std::unique_ptr<Source> src;
#if FENNEC_TOOLS_HAVE_ZLIB
  GzFile gz;
  if (gzip) {
    gz.reset(gzopen(path.c_str(), "rb"));
    if (!gz) {
      error = where + "cannot open gzip stream";
      return false;
    }
    gzbuffer(gz.get(), 1u << 16);
    src = std::make_unique<GzSource>(gz.get(), path);
  } else {
#else
  if (gzip) {
    error = where + "gzip-compressed, and these tools were built without zlib: decompress it first "
                    "(gunzip) or rebuild with zlib";
    return false;
  } else {
#endif
    src = std::make_unique<PlainSource>(f.get());
  }

  unsigned char head[4];
  std::string rerr;
  std::size_t got = src->read(head, 4, rerr);
  if (!rerr.empty()) {
    error = where + rerr;
    return false;
  }
  if (got < 4) {
    error = where + "file too short for an IDX header (" + fmt_u64(got) + " of 4 bytes)";
    return false;
  }
  if (head[0] != 0 || head[1] != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "not an IDX file: magic starts %02x %02x, expected 00 00",
                  head[0], head[1]);
    error = where + buf;
    return false;
  }
  if (head[2] != 0x08) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "IDX element type 0x%02x is not supported (only 0x08, u8)", head[2]);
    error = where + buf;
    return false;
  }
  const std::size_t ndims = head[3];
  if (ndims == 0 || ndims > kIdxMaxDims) {
    error = where + "IDX header has " + fmt_u64(ndims) + " dimensions (expected 1 to " +
            fmt_u64(kIdxMaxDims) + ")";
    return false;
  }
  unsigned char dimbuf[4 * kIdxMaxDims];
  got = src->read(dimbuf, 4 * ndims, rerr);
  if (!rerr.empty()) {
    error = where + rerr;
    return false;
  }
  if (got < 4 * ndims) {
    error = where + "truncated IDX header: " + fmt_u64(ndims) + " dimensions need " +
            fmt_u64(4 * ndims) + " bytes, file has " + fmt_u64(got);
    return false;
  }
  std::uint64_t bytes = 1;
  out.dims.resize(ndims);
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint32_t d = be32(dimbuf + 4 * i);
    if (d == 0) {
      error = where + "dimension " + fmt_u64(i) + " is 0";
      out = IdxArray{};
      return false;
    }
    // Both factors are <= 2^32, the running product <= kIdxMaxBytes: no overflow in u64.
    bytes *= d;
    if (bytes > kIdxMaxBytes) {
      error = where + "IDX dimensions describe more than " + fmt_u64(kIdxMaxBytes) +
              " bytes (corrupt header?)";
      out = IdxArray{};
      return false;
    }
    out.dims[i] = d;
  }
  const std::uint64_t header = 4 + 4 * ndims;
  if (!gzip && file_size != header + bytes) {
    error = where + (file_size < header + bytes ? "truncated: " : "trailing data: ") +
            "the header needs " + fmt_u64(header + bytes) + " bytes, the file has " +
            fmt_u64(file_size);
    out = IdxArray{};
    return false;
  }
  // The buffer grows with the data that actually arrives (a plain file's size was checked above;
  // a gzip stream's is known only by decompressing it), so a small file whose header claims a
  // gigabyte is refused when its data runs out, not after allocating and zeroing the claim.
  constexpr std::size_t kChunk = std::size_t{1} << 22;
  got = 0;
  while (got < bytes && rerr.empty()) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - got, kChunk));
    if (out.data.size() < got + want) {
      out.data.reserve(static_cast<std::size_t>(
          std::min<std::uint64_t>(bytes, std::max<std::uint64_t>(2 * out.data.size(), got + want))));
      out.data.resize(got + want);
    }
    const std::size_t n = src->read(out.data.data() + got, want, rerr);
    got += n;
    if (n < want) break;
  }
  out.data.resize(got);
  if (!rerr.empty() || got < bytes) {
    error = where + "truncated: expected " + fmt_u64(bytes) + " data bytes, read " + fmt_u64(got) +
            (rerr.empty() ? "" : " (" + rerr + ")");
    out = IdxArray{};
    return false;
  }
  unsigned char extra;
  got = src->read(&extra, 1, rerr);
  if (got != 0) {
    error = where + "trailing data after the " + fmt_u64(bytes) + " bytes the header describes";
    out = IdxArray{};
    return false;
  }
  if (!rerr.empty()) {
    error = where + rerr;
    out = IdxArray{};
    return false;
  }
  return true;
}

bool read_idx_expect(const std::string& path, std::size_t ndims, IdxArray& out,
                     std::string& error) {
  if (!read_idx(path, out, error)) return false;
  if (out.dims.size() != ndims) {
    error = path + ": expected " + fmt_u64(ndims) + " dimensions, the file has " +
            fmt_u64(out.dims.size());
    out = IdxArray{};
    return false;
  }
  return true;
}

bool write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::uint8_t* data, bool gzip, std::string& error) {
  if (dims.empty() || dims.size() > 255) {
    error = path + ": bad dimension count";
    return false;
  }
  std::vector<unsigned char> bytes{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  std::size_t n = 1;
  for (std::uint32_t d : dims) {
    bytes.push_back(static_cast<unsigned char>(d >> 24));
    bytes.push_back(static_cast<unsigned char>(d >> 16));
    bytes.push_back(static_cast<unsigned char>(d >> 8));
    bytes.push_back(static_cast<unsigned char>(d));
    n *= d;
  }
  bytes.insert(bytes.end(), data, data + n);
  if (gzip) {
#if FENNEC_TOOLS_HAVE_ZLIB
    GzFile gz(gzopen(path.c_str(), "wb"));
    if (!gz || gzwrite(gz.get(), bytes.data(), static_cast<unsigned>(bytes.size())) !=
                   static_cast<int>(bytes.size())) {
      error = path + ": cannot write gzip file";
      return false;
    }
    if (gzclose(gz.release()) != Z_OK) {
      error = path + ": cannot finish gzip file";
      return false;
    }
    return true;
#else
    error = path + ": cannot write a gzip file: these tools were built without zlib";
    return false;
#endif
  }
  File f(std::fopen(path.c_str(), "wb"));
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  if (std::fclose(f.release()) != 0) {
    error = path + ": cannot close: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace fennec_tools
