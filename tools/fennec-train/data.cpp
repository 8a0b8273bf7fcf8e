// SPDX-License-Identifier: Apache-2.0
#include "fennec-train/data.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fennec_train {

namespace {

bool find(const std::string& dir, const std::string& base, std::string& path, std::string& error) {
  struct stat st;
  for (const char* ext : {"", ".gz"}) {
    path = dir + "/" + base + ext;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return true;
  }
  error = "--val " + dir + ": missing " + base + " (or " + base + ".gz)";
  return false;
}

bool load_val_dir(const std::string& dir, TrainData& out, std::string& error) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "--val " + dir + ": not a directory" + (errno ? std::string(": ") + std::strerror(errno) : "");
    return false;
  }
  std::string images, labels;
  if (!find(dir, "t10k-images-idx3-ubyte", images, error) || !find(dir, "t10k-labels-idx1-ubyte", labels, error))
    return false;
  if (!fennec_tools::read_idx_expect(images, 3, out.val_images, error) ||
      !fennec_tools::read_idx_expect(labels, 1, out.val_labels, error))
    return false;
  out.val_images_path = images;
  const fennec_tools::MnistSet& s = out.set;
  if (out.val_images.dims[1] != s.rows || out.val_images.dims[2] != s.cols) {
    error = "image size mismatch: " + images + " holds " + std::to_string(out.val_images.dims[1]) + "x" +
            std::to_string(out.val_images.dims[2]) + " images, the training images are " +
            std::to_string(s.rows) + "x" + std::to_string(s.cols);
    return false;
  }
  if (out.val_labels.count() != out.val_images.count() || out.val_images.count() == 0) {
    error = labels + ": " + std::to_string(out.val_labels.count()) + " labels for " +
            std::to_string(out.val_images.count()) + " validation images";
    return false;
  }
  const std::uint8_t max_label = *std::max_element(out.val_labels.data.begin(), out.val_labels.data.end());
  if (max_label >= s.classes) {
    error = labels + ": label " + std::to_string(max_label) + " is not among the " + std::to_string(s.classes) +
            " training classes";
    return false;
  }
  return true;
}

}  // namespace

bool load_train_data(const std::string& data_dir, const std::string& val_dir, TrainData& out,
                     std::string& error) {
  if (!fennec_tools::load_mnist_dir(data_dir, out.set, error)) return false;
  errno = 0;
  return val_dir.empty() || load_val_dir(val_dir, out, error);
}

}  // namespace fennec_train
