# SPDX-License-Identifier: Apache-2.0
"""Fashion-MNIST as IDX files (Debian dataset-fashion-mnist: /usr/share/datasets/fashion-mnist,
gzip-compressed), the shifted copy the device fine-tunes on, and the pixel scaling both sides use.

Run as a script it writes, into OUT, plain (uncompressed) IDX files the Fennec example program
reads: the test set as it is, and the brightness-shifted training subset and test set.
Both PyTorch and Fennec scale a pixel p to float32(p) / 255, so they see identical inputs.
"""
import argparse
import gzip
import os
import struct

import numpy as np
import torch

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
# The shift: every pixel brightened by this many grey levels (saturating at 255), as a sensor
# with a raised black level or stronger lighting would see the same garments.
BRIGHTNESS_SHIFT = 96


def read_idx(path):
    """An IDX file (plain or .gz) as a numpy array of its u8 values."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", blob[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {blob[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, blob[4:4 + 4 * ndim])
    values = np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {values.size} values, dimensions {dims} need {int(np.prod(dims))}")
    return values.reshape(dims)


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.tobytes())


def find(data_dir, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{data_dir}: no {stem} or {stem}.gz (Debian: apt-get install dataset-fashion-mnist)")


def load_split(data_dir, split):
    """(images u8 (N, 28, 28), labels u8 (N,)) of split 'train' or 't10k'."""
    images = read_idx(find(data_dir, f"{split}-images-idx3-ubyte"))
    labels = read_idx(find(data_dir, f"{split}-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{data_dir}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
    return images, labels


def brighten(images):
    return np.minimum(images.astype(np.int32) + BRIGHTNESS_SHIFT, 255).astype(np.uint8)


def to_inputs(images):
    """(N, 784) float32 inputs: float32(p) / 255, the scaling the Fennec program uses too."""
    return torch.from_numpy(images.reshape(images.shape[0], -1).astype(np.float32)) / 255.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DIR, help="Fashion-MNIST IDX directory (plain or .gz)")
    ap.add_argument("--out", required=True, help="directory for the plain IDX files")
    ap.add_argument("--shift-train", type=int, default=10000,
                    help="training images of the shifted set the device fine-tunes on (default 10000)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "t10k")
    n = min(args.shift_train, train_images.shape[0])
    # The last n training images: the PyTorch run trains on the whole set, the device sees these
    # images again but shifted (new conditions, familiar garments).
    write_idx(os.path.join(args.out, "test-images.idx"), test_images)
    write_idx(os.path.join(args.out, "test-labels.idx"), test_labels)
    write_idx(os.path.join(args.out, "shifted-train-images.idx"), brighten(train_images[-n:]))
    write_idx(os.path.join(args.out, "shifted-train-labels.idx"), train_labels[-n:])
    write_idx(os.path.join(args.out, "shifted-test-images.idx"), brighten(test_images))
    write_idx(os.path.join(args.out, "shifted-test-labels.idx"), test_labels)
    print(f"wrote {args.out}: test set {test_images.shape[0]}, shifted (+{BRIGHTNESS_SHIFT} grey levels) "
          f"train {n} and test {test_images.shape[0]}")


if __name__ == "__main__":
    main()
