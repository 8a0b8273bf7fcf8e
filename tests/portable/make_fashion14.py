#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the Fashion-MNIST file the training firmware streams over semihosting.

Each 28x28 image is reduced to 14x14 by a 2x2 mean pool (rounded: (a+b+c+d+2)//4), kept as
uint8. Layout, little-endian:
  header   16 bytes: b"FM14", u32 record bytes (197), u32 training records, u32 test records
  records  196 pixel bytes then 1 label byte each: the first --train training images in the
           dataset's order, then the first --test test images
Reads Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Standard library only.
"""
import argparse
import gzip
import os
import struct

SRC = "/usr/share/datasets/fashion-mnist"


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got, n = struct.unpack(">II", data[:8])
    if got != magic:
        raise SystemExit(f"{path}: IDX magic {got:#x}, expected {magic:#x}")
    return n, data


def pooled(images, labels, count):
    n_img, img = images
    n_lab, lab = labels
    if count > n_img or n_img != n_lab:
        raise SystemExit(f"asked for {count} records, the set has {n_img} images and {n_lab} labels")
    out = bytearray()
    for i in range(count):
        base = 16 + i * 784
        px = img[base:base + 784]
        for r in range(0, 28, 2):
            top, bot = px[r * 28:r * 28 + 28], px[r * 28 + 28:r * 28 + 56]
            out += bytes((top[c] + top[c + 1] + bot[c] + bot[c + 1] + 2) >> 2 for c in range(0, 28, 2))
        out.append(lab[8 + i])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--source", default=SRC)
    ap.add_argument("out")
    a = ap.parse_args()
    s = a.source
    train = pooled(read_idx(os.path.join(s, "train-images-idx3-ubyte.gz"), 0x803),
                   read_idx(os.path.join(s, "train-labels-idx1-ubyte.gz"), 0x801), a.train)
    test = pooled(read_idx(os.path.join(s, "t10k-images-idx3-ubyte.gz"), 0x803),
                  read_idx(os.path.join(s, "t10k-labels-idx1-ubyte.gz"), 0x801), a.test)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"FM14" + struct.pack("<III", 197, a.train, a.test))
        f.write(train)
        f.write(test)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
