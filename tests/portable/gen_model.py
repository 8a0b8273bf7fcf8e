#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates model_data.hpp: the Cortex-M4 example's 16-32-32-4 sensor classifier.

The task is synthetic but shaped like a real one: 16 features of an accelerometer window
(per-axis mean, deviation, peak, zero-crossings... already normalised) and 4 activities
(idle, walk, run, fall). Each class is a prototype vector plus correlated noise; the MLP
(ReLU, ReLU, identity logits) is trained here in float64 with Adam on softmax cross-entropy.

The header holds, all as exact float32 hex literals:
  - weights W_i (units x fan_in, row-major, as fennec::Model::weights) and biases b_i,
  - kNumCases held-out inputs, their true labels, and the logits the float32 network should
    produce, computed in float64 from the float32 weights and inputs (the oracle).

It also holds kModelFile: the same float32 network as a Fennec model file (version 1, the layout
documented in include/fennec/io.hpp), written here byte by byte with struct and zlib.crc32, for
fennec::load_model straight from flash. The layer records carry the spec's default initialiser
(He normal), so save_model of the loaded network reproduces the array byte for byte.

Run from this directory:  python3 gen_model.py > model_data.hpp
With --c it writes model_data.h instead: the model file and the cases for the C firmware
(main_c.c, which runs the classifier through the C API).
Deterministic (numpy default_rng with a fixed seed); needs numpy only.
"""
import struct
import sys
import zlib

import numpy as np

SEED = 20240604
SIZES = [16, 32, 32, 4]
CLASSES = ["idle", "walk", "run", "fall"]
NUM_TRAIN_PER_CLASS = 256
NUM_CASES = 16

# Enumerators of the Fennec model file (include/fennec/{activation,init,loss}.hpp).
ACT_IDENTITY, ACT_RELU = 0, 3
INIT_HE_NORMAL = 8
LOSS_SOFTMAX_CROSS_ENTROPY = 0


def make_data(rng, prototypes, mix, n_per_class):
    xs, ys = [], []
    for c in range(len(CLASSES)):
        noise = rng.standard_normal((n_per_class, SIZES[0])) @ mix
        xs.append(prototypes[c] + noise)
        ys.append(np.full(n_per_class, c))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    perm = rng.permutation(len(y))
    return x[perm], y[perm]


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        z = h @ w.T + b
        h = np.maximum(z, 0.0) if i + 1 < len(params) else z
    return h


def train(rng, x, y):
    params = []
    for fan_in, units in zip(SIZES[:-1], SIZES[1:]):
        w = rng.standard_normal((units, fan_in)) * np.sqrt(2.0 / fan_in)  # He normal
        params.append([w, np.zeros(units)])
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    lr, b1, b2, eps = 3e-3, 0.9, 0.999, 1e-8
    onehot = np.eye(len(CLASSES))[y]
    for t in range(1, 401):
        # forward, keeping activations
        acts = [x]
        for i, (w, b) in enumerate(params):
            z = acts[-1] @ w.T + b
            acts.append(np.maximum(z, 0.0) if i + 1 < len(params) else z)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        dz = (p - onehot) / len(y)
        for i in reversed(range(len(params))):
            w, b = params[i]
            gw = dz.T @ acts[i]
            gb = dz.sum(axis=0)
            if i > 0:
                dz = (dz @ w) * (acts[i] > 0)
            for j, g in enumerate((gw, gb)):
                m[i][j] = b1 * m[i][j] + (1 - b1) * g
                v[i][j] = b2 * v[i][j] + (1 - b2) * g * g
                mh = m[i][j] / (1 - b1**t)
                vh = v[i][j] / (1 - b2**t)
                params[i][j] = params[i][j] - lr * mh / (np.sqrt(vh) + eps)
    return params


def f32_literal(v):
    v = float(np.float32(v))
    if v == 0.0:
        return "0.0f"
    return v.hex() + "f"


def emit_array(out, name, values, per_line=4):
    values = list(values)
    out.append(f"inline constexpr float {name}[{len(values)}] = {{")
    for i in range(0, len(values), per_line):
        out.append("    " + ", ".join(f32_literal(v) for v in values[i:i + per_line]) + ",")
    out.append("};")


def fennec_model_file(params32):
    """Fennec model file version 1 (include/fennec/io.hpp): little-endian, no padding."""
    layers = []
    for i, (w, _) in enumerate(params32):
        act = ACT_RELU if i + 1 < len(params32) else ACT_IDENTITY
        # units, activation, alpha, init kind, init a, init b
        layers.append(struct.pack("<IIfIff", w.shape[0], act, 0.0, INIT_HE_NORMAL, 0.0, 0.0))
    count = sum(w.size + b.size for w, b in params32)
    header_bytes = 40 + 24 * len(layers)
    head = b"FENNECMF" + struct.pack("<IIIIIIQ", 1, header_bytes, SIZES[0], len(layers),
                                      LOSS_SOFTMAX_CROSS_ENTROPY, 0, count)
    body = head + b"".join(layers)
    assert len(body) == header_bytes
    for w, b in params32:  # W_i row-major (units x fan_in), then b_i
        body += w.astype("<f4").tobytes(order="C") + b.astype("<f4").tobytes()
    assert len(body) == header_bytes + 4 * count
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def emit_bytes(out, name, data, per_line=16, prefix=""):
    out.append(f"{prefix}inline constexpr unsigned char {name}[{len(data)}] = {{")
    for i in range(0, len(data), per_line):
        out.append("    " + ", ".join(f"0x{c:02x}" for c in data[i:i + per_line]) + ",")
    out.append("};")


def build():
    """The trained float32 network, its held-out cases and their oracle logits and tolerances."""
    rng = np.random.default_rng(SEED)
    prototypes = rng.uniform(-1.0, 1.0, (len(CLASSES), SIZES[0]))
    mix = rng.standard_normal((SIZES[0], SIZES[0])) * 0.18
    x_train, y_train = make_data(rng, prototypes, mix, NUM_TRAIN_PER_CLASS)
    x_test, y_test = make_data(rng, prototypes, mix, 64)

    params = train(rng, x_train, y_train)
    # The shipped network is the float32 one; the oracle evaluates exactly those numbers in float64.
    params32 = [(w.astype(np.float32), b.astype(np.float32)) for w, b in params]
    params64 = [(w.astype(np.float64), b.astype(np.float64)) for w, b in params32]
    x_test32 = x_test.astype(np.float32)
    logits_test = forward(params64, x_test32.astype(np.float64))
    accuracy = float((logits_test.argmax(axis=1) == y_test).mean())

    cases = x_test32[:NUM_CASES]
    labels = y_test[:NUM_CASES]
    expected = logits_test[:NUM_CASES]
    # Tolerance per logit: the first-order worst-case bound on float32 evaluation error,
    # L * (n + 1) * u * (|W_L| ... |W_1| |x| + biases), with u = 2^-24, n = widest fan-in and L
    # layers (every product, sum and FMA rounded the worst way), plus half an ulp for storing the
    # expected value as float32. Holds for any summation order and with or without FMA.
    magnitude = np.abs(cases.astype(np.float64))
    for w, b in params64:
        magnitude = magnitude @ np.abs(w).T + np.abs(b)
    u = 2.0 ** -24
    tolerance = len(params64) * (max(SIZES[:-1]) + 1) * u * magnitude + u * np.abs(expected)

    model_file = fennec_model_file(params32)
    return dict(params32=params32, accuracy=accuracy, y_test=y_test, cases=cases, labels=labels,
                expected=expected, tolerance=tolerance, model_file=model_file)


def emit_cpp(d):
    params32, accuracy, y_test = d["params32"], d["accuracy"], d["y_test"]
    cases, labels, expected, tolerance = d["cases"], d["labels"], d["expected"], d["tolerance"]
    out = []
    out.append("// SPDX-License-Identifier: Apache-2.0")
    out.append("// Generated by tests/portable/gen_model.py; do not edit. Regenerate with")
    out.append("//   python3 gen_model.py > model_data.hpp")
    out.append(f"// 16-32-32-4 sensor classifier ({', '.join(CLASSES)}), ReLU/ReLU/identity, seed {SEED}.")
    out.append(f"// Held-out accuracy of the float32 network (float64 evaluation, {len(y_test)} samples): "
               f"{accuracy:.4f}.")
    out.append("// Expected logits: float64 evaluation of the float32 weights and inputs below.")
    out.append(f"// Smallest gap between the top two expected logits of a case: {np.min(np.diff(np.sort(expected, axis=1)[:, -2:], axis=1)):.3f}.")
    out.append("#pragma once")
    out.append("")
    out.append("#include <cstdint>")
    out.append("")
    out.append("namespace sensor_model {")
    out.append("")
    out.append(f"inline constexpr std::uint32_t kSizes[{len(SIZES)}] = {{{', '.join(map(str, SIZES))}}};")
    out.append(f"inline constexpr int kNumLayers = {len(SIZES) - 1};")
    out.append(f"inline constexpr int kNumCases = {NUM_CASES};")
    out.append("")
    for i, (w, b) in enumerate(params32):
        emit_array(out, f"kW{i}", w.reshape(-1))
        emit_array(out, f"kB{i}", b)
        out.append("")
    out.append("inline constexpr const float* kWeights[kNumLayers] = {kW0, kW1, kW2};")
    out.append("inline constexpr const float* kBiases[kNumLayers] = {kB0, kB1, kB2};")
    out.append("")
    emit_array(out, "kInputs", cases.reshape(-1))
    out.append(f"inline constexpr std::int32_t kLabels[kNumCases] = {{{', '.join(str(int(c)) for c in labels)}}};")
    emit_array(out, "kExpectedLogits", expected.reshape(-1))
    out.append("// |logit - expected| <= tolerance: the worst-case float32 error bound (see gen_model.py).")
    emit_array(out, "kLogitTolerance", tolerance.reshape(-1))
    out.append("")
    model_file = d["model_file"]
    out.append(f"// The network above as a Fennec model file (include/fennec/io.hpp, version 1): "
               f"{len(model_file)} bytes,")
    out.append(f"// CRC-32 0x{struct.unpack('<I', model_file[-4:])[0]:08x}. const, so it stays in flash: "
               "fennec::load_model(kModelFile,")
    out.append("// sizeof(kModelFile), options, arena) reads it (no file system) and "
               "fennec::load_model_in_place")
    out.append("// runs from it (execute in place: its floats are read from flash, hence 4-byte aligned).")
    emit_bytes(out, "kModelFile", model_file, prefix="alignas(4) ")
    out.append("")
    out.append("}  // namespace sensor_model")
    sys.stdout.write("\n".join(out) + "\n")




def emit_c(d):
    """model_data.h: what the C firmware (main_c.c) needs, in C99: the model file and the cases."""
    cases, labels, expected, tolerance = d["cases"], d["labels"], d["expected"], d["tolerance"]
    model_file = d["model_file"]
    out = []
    out.append("// SPDX-License-Identifier: Apache-2.0")
    out.append("/* Generated by tests/portable/gen_model.py; do not edit. Regenerate with")
    out.append(" *   python3 gen_model.py --c > model_data.h")
    out.append(f" * The 16-32-32-4 sensor classifier of model_data.hpp for C: its Fennec model file "
               f"({len(model_file)} bytes)")
    out.append(" * and the held-out cases with their float64-oracle logits and float32 error bounds. */")
    out.append("#ifndef FENNEC_SENSOR_MODEL_DATA_H")
    out.append("#define FENNEC_SENSOR_MODEL_DATA_H")
    out.append("")
    out.append("#include <stdint.h>")
    out.append("")
    out.append(f"#define SENSOR_INPUTS {SIZES[0]}")
    out.append(f"#define SENSOR_CLASSES {SIZES[-1]}")
    out.append(f"#define SENSOR_NUM_CASES {NUM_CASES}")
    out.append(f"#define SENSOR_MODEL_FILE_BYTES {len(model_file)}")
    out.append("")
    c_out = []
    emit_bytes(c_out, "sensor_model_file", model_file)
    emit_array(c_out, "sensor_inputs", cases.reshape(-1))
    emit_array(c_out, "sensor_expected_logits", expected.reshape(-1))
    emit_array(c_out, "sensor_logit_tolerance", tolerance.reshape(-1))
    out.extend(line.replace("inline constexpr ", "static const ") for line in c_out)
    out.append(f"static const int32_t sensor_labels[SENSOR_NUM_CASES] = "
               f"{{{', '.join(str(int(c)) for c in labels)}}};")
    out.append("")
    out.append("#endif")
    sys.stdout.write("\n".join(out) + "\n")


def main():
    data = build()
    if sys.argv[1:] == ["--c"]:
        emit_c(data)
    else:
        emit_cpp(data)


if __name__ == "__main__":
    main()
