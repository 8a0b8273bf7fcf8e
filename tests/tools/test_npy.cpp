// SPDX-License-Identifier: Apache-2.0
// .npy reader and the npy data set: files np.save writes (versions 1.0 and 2.0, float32, uint8,
// integer labels) read back exactly, and every malformed class refused with a message naming the
// file and what is wrong: truncation at every length, bad magic, version, header syntax and keys,
// wrong dtype, Fortran order, trailing bytes, a shape claiming more than the cap, NaN and
// infinity in the inputs, labels out of range or of the wrong shape. A refused call leaves its
// output as it was.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common/npy.hpp"
#include "common/sample_set.hpp"
#include "tools/tools_test_util.hpp"

using fennec_tools::NpyArray;
using fennec_tools::NpyType;
using fennec_tools::parse_npy;
using fennec_tools::SampleSet;

namespace {

// A .npy file with `dict` as its header (padded as np.save pads it) and `data` after it.
std::vector<std::uint8_t> npy_bytes(const std::string& dict, const std::vector<std::uint8_t>& data,
                                    int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((preamble + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::vector<std::uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  for (std::size_t i = 0; i < preamble - 8; ++i) b.push_back(static_cast<std::uint8_t>(h.size() >> (8 * i)));
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<std::uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<std::uint8_t> b(v.size() * 4);
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  if (!b.empty()) REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

// parse_npy must refuse `b`, leave a previously filled array untouched, and name the file.
std::string refused(const std::vector<std::uint8_t>& b) {
  NpyArray a;
  a.type = NpyType::kU8;
  a.shape = {1};
  a.data = {42};
  std::string error;
  CHECK_FALSE(parse_npy(b.data(), b.size(), "x.npy", a, error));
  CHECK(a.type == NpyType::kU8);
  CHECK(a.shape == std::vector<std::uint64_t>{1});
  CHECK(a.data == std::vector<std::uint8_t>{42});
  INFO(error);
  CHECK(error.rfind("x.npy: ", 0) == 0);
  return error;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string kF32x2x3 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

}  // namespace

TEST_CASE("npy: files as np.save writes them, versions 1.0 and 2.0", "[tools][npy]") {
  const std::vector<float> v = {0.5f, -1.25f, 3e-8f, 7.f, -0.f, 1e30f};
  for (int major : {1, 2}) {
    const std::vector<std::uint8_t> b = npy_bytes(kF32x2x3, f32_bytes(v), major);
    NpyArray a;
    std::string error;
    INFO("version " << major << ".0");
    REQUIRE(parse_npy(b.data(), b.size(), "x.npy", a, error));
    CHECK(a.type == NpyType::kF32);
    CHECK(a.shape == std::vector<std::uint64_t>{2, 3});
    REQUIRE(a.elements() == 6);
    for (std::size_t i = 0; i < 6; ++i) CHECK(a.real(i) == v[i]);
  }
  // Spellings numpy has written over the years: no trailing comma, a 1-tuple, Python 2 longs,
  // double quotes, keys in another order.
  const std::vector<std::uint8_t> labels = {3, 0, 255};
  for (const char* dict : {"{'descr': '|u1', 'fortran_order': False, 'shape': (3,)}",
                           "{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"<u1\"}",
                           "{'fortran_order':False,'shape':(3,),'descr':'|u1',}"}) {
    NpyArray a;
    std::string error;
    const std::vector<std::uint8_t> b = npy_bytes(dict, labels);
    INFO(dict << ": " << error);
    REQUIRE(parse_npy(b.data(), b.size(), "y.npy", a, error));
    CHECK(a.type == NpyType::kU8);
    CHECK(a.shape == std::vector<std::uint64_t>{3});
    CHECK(a.integer(2) == 255);
  }
  // Signed labels keep their sign (and are then refused as classes).
  const std::vector<std::uint8_t> i64 = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const std::vector<std::uint8_t> b = npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", i64);
  NpyArray a;
  std::string error;
  REQUIRE(parse_npy(b.data(), b.size(), "y.npy", a, error));
  CHECK(a.integer(0) == -1);
}

TEST_CASE("npy: every truncation of a valid file is refused, and so are trailing bytes", "[tools][npy]") {
  const std::vector<std::uint8_t> whole = npy_bytes(kF32x2x3, f32_bytes({1, 2, 3, 4, 5, 6}));
  for (std::size_t n = 0; n < whole.size(); ++n) {
    INFO("first " << n << " of " << whole.size() << " bytes");
    const std::string e = refused(std::vector<std::uint8_t>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK((has(e, "truncated") || has(e, "too short") || has(e, "not a .npy file")));
  }
  CHECK(has(refused(std::vector<std::uint8_t>(whole.begin(), whole.end() - 1)),
            "truncated: the header describes 24 data bytes (6 float32), the file holds 23"));
  std::vector<std::uint8_t> longer = whole;
  longer.push_back(0);
  CHECK(has(refused(longer), "trailing data: the header describes 24 data bytes (6 float32), the file holds 25"));
}

TEST_CASE("npy: bad magic, version and header", "[tools][npy]") {
  const std::vector<std::uint8_t> data = f32_bytes({1, 2, 3, 4, 5, 6});
  std::vector<std::uint8_t> b = npy_bytes(kF32x2x3, data);
  b[1] = 'n';
  CHECK(has(refused(b), "not a .npy file"));
  b = npy_bytes(kF32x2x3, data);
  b[6] = 3;
  CHECK(has(refused(b), "version 3.0 is not supported (1.0 and 2.0"));
  b[6] = 1;
  b[7] = 1;
  CHECK(has(refused(b), "version 1.1 is not supported"));
  b = npy_bytes(kF32x2x3, data);
  b[8] = 0xff;
  b[9] = 0xff;  // 65535 header bytes in a 152-byte file
  CHECK(has(refused(b), "truncated: the header needs 65535 bytes"));
  b = npy_bytes(kF32x2x3, data, 2);
  b[10] = 1;  // version 2.0's u32 length: 65,536 + 118
  CHECK(has(refused(b), "is above the 65536 accepted"));

  struct Case {
    const char* dict;
    const char* message;
  };
  const Case cases[] = {
      {"", "expected '{' at the start of the header"},
      {"['descr', '<f4']", "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False}", "no 'shape' key"},
      {"{'descr': '<f4', 'shape': (2, 3)}", "no 'fortran_order' key"},
      {"{'fortran_order': False, 'shape': (2, 3)}", "no 'descr' key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "'descr' given twice"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", "neither True nor False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", "'shape' is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "other than a non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", "expected ',' or ')'"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", "expected ',' or '}'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}", "expected ':' after 'descr'"},
      {"{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}", "expected ':'"},
      {"{descr: '<f4'}", "expected a quoted key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk", "unexpected text after"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}", "more than 8 dimensions"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1)}", "is larger than"},
  };
  for (const Case& c : cases) {
    INFO(c.dict);
    const std::string e = refused(npy_bytes(c.dict, data));
    CHECK(has(e, "bad header: "));
    CHECK(has(e, c.message));
  }
}

TEST_CASE("npy: wrong dtype, Fortran order and shapes beyond the cap", "[tools][npy]") {
  const std::vector<std::uint8_t> data(48, 0);
  struct Case {
    const char* descr;
    const char* message;
  };
  const Case cases[] = {
      {"<f8", "dtype '<f8' (float64) is not supported: float32 ('<f4') or an integer type"},
      {"<f2", "(float16) is not supported"},
      {"|b1", "(bool) is not supported"},
      {"<c8", "dtype '<c8' is not supported"},
      {"<U3", "dtype '<U3' is not supported"},
      {">f4", "dtype '>f4' is not little-endian: save it with .astype('<f4')"},
      {">i8", "not little-endian"},
      {"f4", "dtype 'f4' is not supported"},
  };
  for (const Case& c : cases) {
    INFO(c.descr);
    CHECK(has(refused(npy_bytes(std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (2, 3), }",
                                data)),
              c.message));
  }
  CHECK(has(refused(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data)),
            "structured dtype"));
  CHECK(has(refused(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f32_bytes({1, 2, 3, 4, 5, 6}))),
            "Fortran (column-major) order is not supported: save np.ascontiguousarray(x)"));
  // 2^20 x 2^20 float32 is 4 TiB: refused from the header, before anything is read or allocated.
  CHECK(has(refused(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }", data)),
            "shape describes more than 1073741824 bytes"));
  // A zero dimension is a legal empty array (the data set refuses it as holding no samples).
  NpyArray a;
  std::string error;
  const std::vector<std::uint8_t> empty = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", {});
  CHECK(parse_npy(empty.data(), empty.size(), "e.npy", a, error));
  CHECK(a.elements() == 0);
}

TEST_CASE("npy data set: float32 and uint8 inputs with integer labels, as the IDX loader gives them",
          "[tools][npy][samples]") {
  tools_test::TempDir dir("npy-set");
  std::string error;
  // Two 2x2 float images, labels int64.
  const std::vector<float> xf = {0.1f, 0.2f, 0.3f, 0.4f, -1.f, 2.f, 3.f, 4.5f};
  const std::int64_t y64[2] = {4, 1};
  REQUIRE(fennec_tools::write_npy(dir.file("xf.npy"), NpyType::kF32, {2, 2, 2}, xf.data(), error));
  REQUIRE(fennec_tools::write_npy(dir.file("y.npy"), NpyType::kI64, {2}, y64, error));
  SampleSet s;
  REQUIRE(fennec_tools::load_samples(dir.file("xf.npy"), dir.file("y.npy"), "", 10, s, error));
  CHECK(s.count == 2);
  CHECK(s.width == 4);
  CHECK(s.classes == 5);
  CHECK_FALSE(s.holds_bytes());
  float x[8];
  std::int32_t y[2];
  s.range(0, 2, x, y);
  for (std::size_t i = 0; i < 8; ++i) CHECK(x[i] == xf[i]);
  CHECK(y[0] == 4);
  CHECK(y[1] == 1);
  const std::uint32_t order[2] = {1, 0};
  s.batch(order, 2, x, y);
  CHECK(x[0] == -1.f);
  CHECK(y[0] == 1);

  // uint8 images are kept as bytes and read scaled by 1/255, exactly as an IDX set is.
  const std::uint8_t xb[6] = {0, 255, 51, 7, 8, 9};
  const std::uint8_t yb[2] = {0, 2};
  REQUIRE(fennec_tools::write_npy(dir.file("xb.npy"), NpyType::kU8, {2, 3}, xb, error));
  REQUIRE(fennec_tools::write_npy(dir.file("yb.npy"), NpyType::kU8, {2}, yb, error));
  REQUIRE(fennec_tools::load_samples(dir.file("xb.npy"), dir.file("yb.npy"), "", 10, s, error));
  CHECK(s.holds_bytes());
  CHECK(s.width == 3);
  CHECK(s.classes == 3);
  s.range(0, 2, x, y);
  CHECK(x[1] == 1.0f);
  CHECK(x[2] == 51.0f * (1.0f / 255.0f));
  CHECK(y[1] == 2);

  fennec_tools::IdxArray images, labels;
  images.dims = {2, 1, 3};
  images.data.assign(xb, xb + 6);
  labels.dims = {2};
  labels.data.assign(yb, yb + 2);
  SampleSet from_idx;
  REQUIRE(fennec_tools::samples_from_idx(std::move(images), std::move(labels), "i", "l", 10, from_idx, error));
  CHECK(from_idx.bytes == s.bytes);
  CHECK(from_idx.labels == s.labels);
  CHECK(from_idx.width == s.width);
}

TEST_CASE("npy data set: NaN and infinity, wrong dtypes and shapes, labels out of range", "[tools][npy][samples]") {
  tools_test::TempDir dir("npy-bad");
  std::string error;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::int32_t y2[2] = {0, 1};
  REQUIRE(fennec_tools::write_npy(dir.file("y.npy"), NpyType::kI32, {2}, y2, error));
  SampleSet kept;
  kept.count = 99;
  auto expect = [&](const std::string& x, const std::string& y, const std::string& message) {
    SampleSet s = kept;
    std::string e;
    CHECK_FALSE(fennec_tools::load_samples(x, y, "", 10, s, e));
    INFO(e);
    CHECK(has(e, message));
    CHECK(s.count == 99);  // untouched
  };
  const float with_nan[6] = {1, 2, 3, 4, nan, 6};
  REQUIRE(fennec_tools::write_npy(dir.file("nan.npy"), NpyType::kF32, {2, 3}, with_nan, error));
  expect(dir.file("nan.npy"), dir.file("y.npy"),
         dir.file("nan.npy") + ": NaN at sample 1, feature 1 (element 4); every input must be finite");
  const float with_inf[6] = {1, -inf, 3, 4, 5, 6};
  REQUIRE(fennec_tools::write_npy(dir.file("inf.npy"), NpyType::kF32, {2, 3}, with_inf, error));
  expect(dir.file("inf.npy"), dir.file("y.npy"), "infinity at sample 0, feature 1");

  const std::int32_t xi[6] = {1, 2, 3, 4, 5, 6};
  REQUIRE(fennec_tools::write_npy(dir.file("xi.npy"), NpyType::kI32, {2, 3}, xi, error));
  expect(dir.file("xi.npy"), dir.file("y.npy"), "inputs of dtype int32 are not supported: float32");
  const float x6[6] = {1, 2, 3, 4, 5, 6};
  REQUIRE(fennec_tools::write_npy(dir.file("x1d.npy"), NpyType::kF32, {6}, x6, error));
  expect(dir.file("x1d.npy"), dir.file("y.npy"), "inputs of shape (6,); expected (samples, features)");
  REQUIRE(fennec_tools::write_npy(dir.file("x.npy"), NpyType::kF32, {2, 3}, x6, error));
  REQUIRE(fennec_tools::write_npy(dir.file("x0.npy"), NpyType::kF32, {0, 3}, x6, error));
  expect(dir.file("x0.npy"), dir.file("y.npy"), "inputs of shape (0, 3) hold no samples");

  const float yf[2] = {0, 1};
  REQUIRE(fennec_tools::write_npy(dir.file("yf.npy"), NpyType::kF32, {2}, yf, error));
  expect(dir.file("x.npy"), dir.file("yf.npy"), "labels of dtype float32 are not supported: an integer type");
  REQUIRE(fennec_tools::write_npy(dir.file("y3.npy"), NpyType::kI32, {3}, xi, error));
  expect(dir.file("x.npy"), dir.file("y3.npy"), "labels of shape (3,) for inputs of shape (2, 3)");
  REQUIRE(fennec_tools::write_npy(dir.file("y2d.npy"), NpyType::kI32, {2, 1}, y2, error));
  expect(dir.file("x.npy"), dir.file("y2d.npy"), "expected (2,)");
  const std::int64_t negative[2] = {0, -3};
  REQUIRE(fennec_tools::write_npy(dir.file("yneg.npy"), NpyType::kI64, {2}, negative, error));
  expect(dir.file("x.npy"), dir.file("yneg.npy"),
         dir.file("yneg.npy") + ": label -3 at index 1 is not a class: labels are integers in [0, 10)");
  const std::uint8_t big[2] = {10, 0};
  REQUIRE(fennec_tools::write_npy(dir.file("ybig.npy"), NpyType::kU8, {2}, big, error));
  expect(dir.file("x.npy"), dir.file("ybig.npy"), "label 10 at index 0 is not a class");

  expect(dir.file("x.npy"), "", ".npy inputs need their labels in a second .npy file (--labels y.npy)");
  expect(dir.file("x.npy"), dir.file("missing.npy"), dir.file("missing.npy") + ": cannot open");
  expect(dir.file("x.txt"), dir.file("y.npy"), "inputs must be a .npy or a .csv file");
  write_bytes(dir.file("cut.npy"), {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'});
  expect(dir.file("cut.npy"), dir.file("y.npy"), dir.file("cut.npy") + ": truncated: the header needs 100 bytes");
}
