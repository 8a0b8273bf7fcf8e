// SPDX-License-Identifier: Apache-2.0
#include "common/sample_set.hpp"

#include <cmath>
#include <utility>

#include "common/csv_samples.hpp"
#include "common/file_names.hpp"
#include "common/npy.hpp"

namespace fennec_tools {
namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

void SampleSet::batch(const std::uint32_t* indices, std::size_t rows, float* x, std::int32_t* y) const {
  constexpr float kScale = 1.0f / 255.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t i = indices[r];
    float* dst = x + r * width;
    if (holds_bytes()) {
      const std::uint8_t* src = bytes.data() + i * width;
      for (std::size_t j = 0; j < width; ++j) dst[j] = static_cast<float>(src[j]) * kScale;
    } else {
      const float* src = values.data() + i * width;
      for (std::size_t j = 0; j < width; ++j) dst[j] = src[j];
    }
    y[r] = labels[i];
  }
}

void SampleSet::range(std::size_t first, std::size_t rows, float* x, std::int32_t* y) const {
  constexpr std::size_t kChunk = 256;
  std::uint32_t indices[kChunk];
  for (std::size_t done = 0; done < rows; done += kChunk) {
    const std::size_t n = rows - done < kChunk ? rows - done : kChunk;
    for (std::size_t r = 0; r < n; ++r) indices[r] = static_cast<std::uint32_t>(first + done + r);
    batch(indices, n, x + done * width, y + done);
  }
}

bool samples_from_idx(IdxArray&& images, IdxArray&& labels, const std::string& images_path,
                      const std::string& labels_path, std::size_t max_classes, SampleSet& out,
                      std::string& error) {
  if (labels.dims.size() != 1 || labels.count() != images.count()) {
    error = labels_path + ": " + std::to_string(labels.data.size()) + " labels for " +
            std::to_string(images.count()) + " images in " + images_path;
    return false;
  }
  SampleSet set;
  set.count = images.count();
  set.width = images.item_size();
  set.source = images_path;
  set.labels.resize(set.count);
  for (std::size_t i = 0; i < set.count; ++i) {
    const std::uint8_t l = labels.data[i];
    if (l >= max_classes) {
      error = labels_path + ": label " + std::to_string(l) + " of image " + std::to_string(i) +
              " is not among the " + std::to_string(max_classes) + " classes";
      return false;
    }
    set.labels[i] = l;
    if (std::size_t{l} + 1 > set.classes) set.classes = std::size_t{l} + 1;
  }
  set.bytes = std::move(images.data);
  out = std::move(set);
  return true;
}

bool load_npy_samples(const std::string& inputs_path, const std::string& labels_path,
                      std::size_t max_classes, SampleSet& out, std::string& error) {
  NpyArray x, y;
  if (!read_npy(inputs_path, x, error) || !read_npy(labels_path, y, error)) return false;
  if (x.type != NpyType::kF32 && x.type != NpyType::kU8) {
    error = inputs_path + ": inputs of dtype " + npy_type_name(x.type) +
            " are not supported: float32 (used as stored) or uint8 (scaled by 1/255)";
    return false;
  }
  if (x.shape.size() < 2) {
    error = inputs_path + ": inputs of shape " + shape_text(x.shape) +
            "; expected (samples, features) or (samples, rows, cols, ...)";
    return false;
  }
  SampleSet set;
  set.count = static_cast<std::size_t>(x.shape[0]);
  set.width = set.count ? static_cast<std::size_t>(x.elements() / x.shape[0]) : 0;
  set.source = inputs_path;
  if (set.count == 0 || set.width == 0) {
    error = inputs_path + ": inputs of shape " + shape_text(x.shape) + " hold no samples";
    return false;
  }
  if (!y.is_integer()) {
    error = labels_path + ": labels of dtype " + npy_type_name(y.type) +
            " are not supported: an integer type (uint8, int32, int64, ...)";
    return false;
  }
  if (y.shape.size() != 1 || y.shape[0] != x.shape[0]) {
    error = labels_path + ": labels of shape " + shape_text(y.shape) + " for inputs of shape " +
            shape_text(x.shape) + " in " + inputs_path + "; expected (" + std::to_string(set.count) + ",)";
    return false;
  }
  set.labels.resize(set.count);
  for (std::size_t i = 0; i < set.count; ++i) {
    const std::int64_t l = y.integer(i);
    if (l < 0 || static_cast<std::uint64_t>(l) >= max_classes) {
      error = labels_path + ": label " + std::to_string(l) + " at index " + std::to_string(i) +
              " is not a class: labels are integers in [0, " + std::to_string(max_classes) + ")";
      return false;
    }
    set.labels[i] = static_cast<std::int32_t>(l);
    if (static_cast<std::size_t>(l) + 1 > set.classes) set.classes = static_cast<std::size_t>(l) + 1;
  }
  if (x.type == NpyType::kU8) {
    set.bytes = std::move(x.data);
  } else {
    set.values.resize(set.count * set.width);
    for (std::size_t i = 0; i < set.values.size(); ++i) {
      const float v = x.real(i);
      if (!std::isfinite(v)) {
        error = inputs_path + ": " + (std::isnan(v) ? "NaN" : "infinity") + " at sample " +
                std::to_string(i / set.width) + ", feature " + std::to_string(i % set.width) +
                " (element " + std::to_string(i) + "); every input must be finite";
        return false;
      }
      set.values[i] = v;
    }
  }
  out = std::move(set);
  return true;
}

bool load_samples(const std::string& inputs_path, const std::string& labels_path,
                  const std::string& label_column, std::size_t max_classes, SampleSet& out,
                  std::string& error) {
  if (ends_with(inputs_path, ".npy")) {
    if (labels_path.empty()) {
      error = inputs_path + ": .npy inputs need their labels in a second .npy file (--labels y.npy)";
      return false;
    }
    return load_npy_samples(inputs_path, labels_path, max_classes, out, error);
  }
  if (ends_with(inputs_path, ".csv")) {
    if (!labels_path.empty()) {
      error = labels_path + ": a CSV file holds its labels in a column (--label-column NAME), not in a "
                            "second file";
      return false;
    }
    return load_csv_samples(inputs_path, label_column, max_classes, out, error);
  }
  error = inputs_path + ": inputs must be a .npy or a .csv file (an MNIST-family IDX directory is --data DIR)";
  return false;
}

}  // namespace fennec_tools
