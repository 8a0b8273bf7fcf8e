// SPDX-License-Identifier: Apache-2.0
#include "common/mnist.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fennec_tools {
namespace {

bool is_regular(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool find_file(const std::string& dir, const std::string& base, std::string& path,
               std::string& error) {
  for (const char* ext : {"", ".gz"}) {
    const std::string p = dir + "/" + base + ext;
    if (is_regular(p)) {
      path = p;
      return true;
    }
  }
  error = dir + ": missing " + base + " (or " + base + ".gz)";
  return false;
}

}  // namespace

bool load_mnist_dir(const std::string& dir, MnistSet& out, std::string& error) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    error = dir + ": cannot access data directory: " + std::strerror(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = dir + ": not a directory";
    return false;
  }
  std::string tri, trl, tei, tel;
  if (!find_file(dir, "train-images-idx3-ubyte", tri, error) ||
      !find_file(dir, "train-labels-idx1-ubyte", trl, error) ||
      !find_file(dir, "t10k-images-idx3-ubyte", tei, error) ||
      !find_file(dir, "t10k-labels-idx1-ubyte", tel, error)) {
    return false;
  }
  if (!read_idx_expect(tri, 3, out.train_images, error) ||
      !read_idx_expect(trl, 1, out.train_labels, error) ||
      !read_idx_expect(tei, 3, out.test_images, error) ||
      !read_idx_expect(tel, 1, out.test_labels, error)) {
    return false;
  }
  out.train_images_path = tri;
  out.test_images_path = tei;
  out.rows = out.train_images.dims[1];
  out.cols = out.train_images.dims[2];
  if (out.test_images.dims[1] != out.rows || out.test_images.dims[2] != out.cols) {
    error = "image size mismatch: " + tri + " holds " + std::to_string(out.rows) + "x" +
            std::to_string(out.cols) + " images, " + tei + " holds " +
            std::to_string(out.test_images.dims[1]) + "x" + std::to_string(out.test_images.dims[2]);
    return false;
  }
  if (out.pixels() > 1u << 20) {
    error = tri + ": images of " + std::to_string(out.pixels()) + " pixels are too large";
    return false;
  }
  if (out.train_labels.count() != out.train_count()) {
    error = trl + ": " + std::to_string(out.train_labels.count()) + " labels for " +
            std::to_string(out.train_count()) + " training images";
    return false;
  }
  if (out.test_labels.count() != out.test_count()) {
    error = tel + ": " + std::to_string(out.test_labels.count()) + " labels for " +
            std::to_string(out.test_count()) + " test images";
    return false;
  }
  const std::uint8_t max_label =
      *std::max_element(out.train_labels.data.begin(), out.train_labels.data.end());
  out.classes = std::size_t{max_label} + 1;
  if (out.classes < 2) {
    error = trl + ": every label is 0; need at least 2 classes";
    return false;
  }
  const std::uint8_t max_test =
      *std::max_element(out.test_labels.data.begin(), out.test_labels.data.end());
  if (max_test >= out.classes) {
    error = tel + ": label " + std::to_string(max_test) + " is not among the " +
            std::to_string(out.classes) + " training classes";
    return false;
  }
  return true;
}

}  // namespace fennec_tools
