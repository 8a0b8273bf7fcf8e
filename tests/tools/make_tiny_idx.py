#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a tiny MNIST-layout data set for running fennec-train on an emulated target.

make_tiny_idx.py DIR [--gzip]: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte (".gz" added
with --gzip). 256 training and 64 test images of 8x8 pixels, 4 classes: class c lights the
pixels of quadrant c, plus a little deterministic noise, so a few steps already lower the loss.
"""
import gzip
import os
import struct
import sys


def images_and_labels(count, seed):
    state = seed
    pixels, labels = bytearray(), bytearray()
    for i in range(count):
        c = i % 4
        labels.append(c)
        for r in range(8):
            for col in range(8):
                state = (state * 1103515245 + 12345) & 0x7FFFFFFF
                lit = (r // 4) * 2 + (col // 4) == c
                pixels.append((200 if lit else 0) + (state >> 16) % 40)
    return bytes(pixels), bytes(labels)


def idx(dims, data):
    return struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + data


def main():
    out = sys.argv[1]
    gz = "--gzip" in sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for prefix, count, seed in (("train", 256, 1), ("t10k", 64, 2)):
        px, lab = images_and_labels(count, seed)
        for name, blob in ((prefix + "-images-idx3-ubyte", idx([count, 8, 8], px)),
                           (prefix + "-labels-idx1-ubyte", idx([count], lab))):
            path = os.path.join(out, name + (".gz" if gz else ""))
            with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
                f.write(blob)


if __name__ == "__main__":
    main()
