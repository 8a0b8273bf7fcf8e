#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fennec-infer on the real data set: a model trained for one short epoch, evaluated on the IDX test
# split with every report (top-k, per class, confusion rows, heat map, probabilities), and again
# from .npy copies of the same images, which must give the same accuracy and confusion rows.
# Uses the release build from step 10.
set -euo pipefail
cmake --build --preset release --target fennec-train fennec-infer
bin=build/release/tools
out=build/release/ci-infer
data=/usr/share/datasets/fashion-mnist
py=/usr/bin/python3  # Debian's python3-numpy (a python3 earlier on PATH, e.g. pyenv's, may lack it)
mkdir -p "$out"
"$bin/fennec-train" --data "$data" --epochs 1 --train-samples 20000 --hidden 128 --no-progress \
  --save "$out/model.fennec" > "$out/train.log"
"$bin/fennec-infer" --model "$out/model.fennec" --data "$data" --confusion --top-k 3 --repeat 2000 \
  --plot "$out/confusion.svg" --output "$out/probs.csv" | tee "$out/idx.log"
"$py" - "$out" <<'PY'
import gzip, sys, xml.etree.ElementTree as E
import numpy as np
out = sys.argv[1]
log = open(out + "/idx.log").read().splitlines()
acc = [l for l in log if l.startswith("test accuracy: ")][0]
correct = int(acc.split("(")[1].split("/")[0])
assert correct >= 7500, acc
rows = [l.split() for l in log[log.index(next(l for l in log if l.startswith("confusion matrix"))) + 1:][:10]]
assert all(len(r) == 11 for r in rows), rows
m = np.array([[int(c) for c in r[1:]] for r in rows])
assert (m.sum(axis=1) == 1000).all(), m  # Fashion-MNIST's test split: 1000 images per class
assert np.trace(m) == correct, (np.trace(m), correct)
assert rows[9][0] == "Ankle_boot", rows[9][0]
assert sum(l.startswith("accuracy of class ") for l in log) == 10
assert any(l.startswith("top-3 accuracy: ") for l in log)
assert any(l.startswith("latency (batch 1, 2000 samples): median ") for l in log)
root = E.parse(out + "/confusion.svg").getroot()
assert root.tag.endswith("svg")
p = np.loadtxt(out + "/probs.csv", delimiter=",", skiprows=1)
assert p.shape == (10000, 13), p.shape
assert np.allclose(p[:, 3:].sum(axis=1), 1, atol=1e-5)
assert int((p[:, 1] == p[:, 2]).sum()) == correct
d = "/usr/share/datasets/fashion-mnist/"
x = np.frombuffer(gzip.open(d + "t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
y = np.frombuffer(gzip.open(d + "t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
np.save(out + "/x.npy", x)
np.save(out + "/y.npy", y.astype(np.int64))
print("idx report OK:", acc)
PY
"$bin/fennec-infer" --model "$out/model.fennec" --inputs "$out/x.npy" --labels "$out/y.npy" --confusion \
  --repeat 10 > "$out/npy.log"
diff <(grep -v -e '^model:' -e '^arena:' -e '^latency' -e '^top-' -e '^outputs:' -e '^confusion plot:' "$out/idx.log") \
     <(grep -v -e '^model:' -e '^arena:' -e '^latency' "$out/npy.log")
echo "fennec-infer OK: .npy and IDX agree; heat map $out/confusion.svg"
