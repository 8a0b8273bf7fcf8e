// SPDX-License-Identifier: Apache-2.0
// Builds safetensors files with any tensor names, dtypes and order (what PyTorch's save_file
// writes for a state_dict), for the tests of name mapping, dtypes and refusals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace fennec_test {

struct StTensor {
  std::string name, dtype;
  std::vector<std::size_t> shape;
  std::vector<unsigned char> raw;  // little-endian element bytes
};

template <class T>
StTensor st_tensor(const std::string& name, const char* dtype, std::vector<std::size_t> shape,
                   const std::vector<T>& values) {
  StTensor t{name, dtype, std::move(shape), std::vector<unsigned char>(values.size() * sizeof(T))};
  if (!values.empty()) std::memcpy(t.raw.data(), values.data(), t.raw.size());  // little-endian host
  return t;
}

// The file holding `ts` in the given order (data in the same order, no padding), with
// `metadata` (key, value pairs written as they are: no escaping) in __metadata__ when not empty.
inline std::vector<unsigned char> st_file(const std::vector<StTensor>& ts,
                                          const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata.size(); ++i)
      json += (i ? ",\"" : "\"") + metadata[i].first + "\":\"" + metadata[i].second + "\"";
    json += "}";
  }
  std::size_t offset = 0;
  for (const StTensor& t : ts) {
    if (json.size() > 1) json += ",";
    json += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) json += (i ? "," : "") + std::to_string(t.shape[i]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.raw.size()) + "]}";
    offset += t.raw.size();
  }
  json += "}";
  std::vector<unsigned char> b(8 + json.size() + offset);
  const std::uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
  std::memcpy(b.data() + 8, json.data(), json.size());
  std::size_t at = 8 + json.size();
  for (const StTensor& t : ts) {
    if (!t.raw.empty()) std::memcpy(b.data() + at, t.raw.data(), t.raw.size());
    at += t.raw.size();
  }
  return b;
}

// A 3-4-2 network's tensors under `stem0` and `stem1` ("0" and "2" for an nn.Sequential with
// an activation between), with fixed values, as T (float for F32, double for F64).
template <class T>
std::vector<StTensor> st_net_3_4_2(const std::string& stem0, const std::string& stem1, const char* dtype) {
  std::vector<T> w0(12), b0(4), w1(8), b1(2);
  for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = static_cast<T>(0.1 * double(i) - 0.5);
  for (std::size_t i = 0; i < b0.size(); ++i) b0[i] = static_cast<T>(0.05 * double(i));
  for (std::size_t i = 0; i < w1.size(); ++i) w1[i] = static_cast<T>(0.3 - 0.07 * double(i));
  for (std::size_t i = 0; i < b1.size(); ++i) b1[i] = static_cast<T>(-0.2 * double(i + 1));
  return {st_tensor(stem0 + ".weight", dtype, {4, 3}, w0), st_tensor(stem0 + ".bias", dtype, {4}, b0),
          st_tensor(stem1 + ".weight", dtype, {2, 4}, w1), st_tensor(stem1 + ".bias", dtype, {2}, b1)};
}

}  // namespace fennec_test
