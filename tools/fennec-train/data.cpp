// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/data.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/mnist.hpp"
#include "fennec-train/options.hpp"

namespace fennec_train {

namespace {

// The most classes a file's labels may name: the output layer has one unit per class.
constexpr std::size_t kMaxClasses = 1u << 16;

bool find(const std::string& dir, const std::string& base, std::string& path, std::string& error) {
  struct stat st;
  for (const char* ext : {"", ".gz"}) {
    path = dir + "/" + base + ext;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return true;
  }
  error = "--val " + dir + ": missing " + base + " (or " + base + ".gz)";
  return false;
}

bool load_val_dir(const std::string& dir, std::size_t rows, std::size_t cols, TrainData& out, std::string& error) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "--val " + dir + ": not a directory" + (errno ? std::string(": ") + std::strerror(errno) : "");
    return false;
  }
  std::string images_path, labels_path;
  if (!find(dir, "t10k-images-idx3-ubyte", images_path, error) ||
      !find(dir, "t10k-labels-idx1-ubyte", labels_path, error))
    return false;
  fennec_tools::IdxArray images, labels;
  if (!fennec_tools::read_idx_expect(images_path, 3, images, error) ||
      !fennec_tools::read_idx_expect(labels_path, 1, labels, error))
    return false;
  if (images.dims[1] != rows || images.dims[2] != cols) {
    error = "image size mismatch: " + images_path + " holds " + std::to_string(images.dims[1]) + "x" +
            std::to_string(images.dims[2]) + " images, the training images are " + std::to_string(rows) + "x" +
            std::to_string(cols);
    return false;
  }
  if (labels.count() != images.count() || images.count() == 0) {
    error = labels_path + ": " + std::to_string(labels.count()) + " labels for " + std::to_string(images.count()) +
            " validation images";
    return false;
  }
  const std::size_t classes = out.train.classes;
  const std::uint8_t max_label = *std::max_element(labels.data.begin(), labels.data.end());
  if (max_label >= classes) {
    error = labels_path + ": label " + std::to_string(max_label) + " is not among the " + std::to_string(classes) +
            " training classes";
    return false;
  }
  out.val_path = images_path;
  return fennec_tools::samples_from_idx(std::move(images), std::move(labels), images_path, labels_path, classes,
                                        out.val, error);
}

bool load_idx(const Options& o, TrainData& out, std::string& error) {
  fennec_tools::MnistSet m;
  if (!fennec_tools::load_mnist_dir(o.data, m, error)) return false;
  const std::size_t rows = m.rows, cols = m.cols;
  // load_mnist_dir has checked the counts and the classes; these only move the arrays.
  if (!fennec_tools::samples_from_idx(std::move(m.train_images), std::move(m.train_labels), m.train_images_path,
                                      o.data + "/train-labels-idx1-ubyte", kMaxClasses, out.train, error) ||
      !fennec_tools::samples_from_idx(std::move(m.test_images), std::move(m.test_labels), m.test_images_path,
                                      o.data + "/t10k-labels-idx1-ubyte", m.classes, out.test, error))
    return false;
  out.shape = "images of " + std::to_string(rows) + "x" + std::to_string(cols);
  errno = 0;
  return o.val_dir.empty() || load_val_dir(o.val_dir, rows, cols, out, error);
}

bool load_files(const Options& o, TrainData& out, std::string& error) {
  if (!fennec_tools::load_samples(o.train_inputs, o.train_labels, o.label_column, kMaxClasses, out.train, error))
    return false;
  if (out.train.classes < 2) {
    error = out.train.source + ": every label is 0; need at least 2 classes";
    return false;
  }
  if (!o.test_inputs.empty()) {
    if (!fennec_tools::load_samples(o.test_inputs, o.test_labels, o.label_column, out.train.classes, out.test, error))
      return false;
    if (out.test.width != out.train.width) {
      error = o.test_inputs + ": " + std::to_string(out.test.width) + " features per sample, the training set " +
              o.train_inputs + " has " + std::to_string(out.train.width);
      return false;
    }
  }
  out.shape = "samples of " + std::to_string(out.train.width) + " features";
  out.noun = "samples";
  return true;
}

}  // namespace

bool load_train_data(const Options& o, TrainData& out, std::string& error) {
  return o.train_inputs.empty() ? load_idx(o, out, error) : load_files(o, out, error);
}

}  // namespace fennec_train
