#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the committed same-seed checksums from the documented algorithms alone.

The C++ tests pin the exact bits of Fennec's random streams and initialisers with FNV-1a 64
checksums (tests/core/test_rng.cpp, tests/portable/same_seed.hpp and test_same_seed.cpp). Those
numbers were first recorded from the library itself; this script derives them again without it,
from the algorithms as include/fennec/rng.hpp, init.hpp and plan.hpp document them:

  * seeding: splitmix64 twice; s0, s1 = low, high word of the first output, s2, s3 of the second
  * xoshiro128** 1.1 (Blackman & Vigna) for next_u32
  * uniform01 = ((u32 >> 5) * 2^26 + (u32 >> 6)) / 2^53; uniform(lo, hi) = lo + (hi - lo) * u
  * below(n): Lemire's nearly divisionless rejection
  * normal: Marsaglia's polar method (u returned first, v kept as the spare), with the portable
    log: frexp range reduction to [sqrt(1/2), sqrt(2)), 2 atanh(f) as an odd series to f^25,
    ln 2 split in a high and a low part; normal(mean, sigma) = mean + sigma * normal()
  * initialisers on a (fan_out x fan_in) matrix, drawn row by row in double, rounded to float:
    normal(a, b) and uniform(a, b) as given; xavier sd = sqrt(1/fan_in), glorot
    sqrt(2/(fan_in + fan_out)), he sqrt(2/fan_in); the *_normal kinds draw sd * normal(), the
    *_uniform kinds uniform(-sd sqrt(3), sd sqrt(3))
  * the parameter block: per layer, the (units x fan_in) weights then the biases (zero after
    init_parameters), each padded with zeros to a multiple of 16 floats (64 bytes)

Python floats are IEEE doubles and every operation below is one correctly rounded IEEE
operation, in the order the C++ writes it, so the bits match exactly.

Usage: make_golden.py            print the checksums
       make_golden.py --check ROOT  also compare them with the constants in the C++ tests under
                                    the source tree ROOT; exit 1 on any difference
"""
import math
import re
import struct
import sys

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


class Rng:
    def __init__(self, seed):
        x = seed & M64

        def splitmix64():
            nonlocal x
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            return z ^ (z >> 31)

        a = splitmix64()
        b = splitmix64()
        self.s = [a & M32, a >> 32, b & M32, b >> 32]
        if not any(self.s):
            self.s[0] = 1
        self.spare = None

    @staticmethod
    def _rotl(v, k):
        return ((v << k) | (v >> (32 - k))) & M32

    def next_u32(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 11)
        return result

    def uniform01(self):
        hi = self.next_u32() >> 5
        lo = self.next_u32() >> 6
        return (float(hi) * 67108864.0 + float(lo)) * (1.0 / 9007199254740992.0)

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.uniform01()

    def below(self, n):
        m = self.next_u32() * n
        low = m & M32
        if low < n:
            threshold = ((1 << 32) - n) % n
            while low < threshold:
                m = self.next_u32() * n
                low = m & M32
        return m >> 32

    def normal(self, mean=None, sigma=None):
        if mean is not None:
            return mean + sigma * self.normal()
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            u = 2.0 * self.uniform01() - 1.0
            v = 2.0 * self.uniform01() - 1.0
            s = u * u + v * v
            if not (s >= 1.0 or s == 0.0):
                break
        scale = math.sqrt(-2.0 * portable_log(s) / s)
        self.spare = v * scale
        return u * scale


def portable_log(x):
    m, e = math.frexp(x)
    if m < 0.70710678118654752440:
        m *= 2.0
        e -= 1
    f = (m - 1.0) / (m + 1.0)
    s = f * f
    series = 1.0 / 25.0
    for k in range(23, 0, -2):
        series = 1.0 / k + s * series
    log_m = 2.0 * f * series
    ln2_hi = 6.93147180369123816490e-01
    ln2_lo = 1.90821492927058770002e-10
    return float(e) * ln2_hi + (float(e) * ln2_lo + log_m)


class Fnv1a:
    """FNV-1a 64 over the little-endian bytes of each value."""

    def __init__(self):
        self.h = 0xCBF29CE484222325

    def add_bytes(self, b):
        for byte in b:
            self.h = ((self.h ^ byte) * 0x100000001B3) & M64

    def u32(self, v):
        self.add_bytes(struct.pack("<I", v))

    def f64(self, d):
        self.add_bytes(struct.pack("<d", d))

    def f32(self, d):  # the double rounded to float, as static_cast<float> does
        self.add_bytes(struct.pack("<f", d))


def f32(v):
    """The value of the float nearest v (init hyper-parameters are floats)."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


# --- initialisers --------------------------------------------------------------------------

def init_values(kind, a, b, rows, cols, rng):
    fan_in, fan_out = float(cols), float(rows)
    sd = {
        "xavier_normal": lambda: math.sqrt(1.0 / fan_in),
        "xavier_uniform": lambda: math.sqrt(1.0 / fan_in),
        "glorot_normal": lambda: math.sqrt(2.0 / (fan_in + fan_out)),
        "glorot_uniform": lambda: math.sqrt(2.0 / (fan_in + fan_out)),
        "he_normal": lambda: math.sqrt(2.0 / fan_in),
        "he_uniform": lambda: math.sqrt(2.0 / fan_in),
    }.get(kind, lambda: 0.0)()
    half_width = sd * math.sqrt(3.0)
    a, b = f32(a), f32(b)
    out = []
    for _ in range(rows):
        for _ in range(cols):
            if kind == "zeros":
                v = 0.0
            elif kind == "constant":
                v = a
            elif kind == "normal":
                v = rng.normal(a, b)
            elif kind == "uniform":
                v = rng.uniform(a, b)
            elif kind.endswith("_normal"):
                v = sd * rng.normal()
            else:
                v = rng.uniform(-half_width, half_width)
            out.append(v)
    return out


# --- the checksums of tests/core/test_rng.cpp ----------------------------------------------

def rng_seed42():
    rng = Rng(42)
    u, n, f = Fnv1a(), Fnv1a(), Fnv1a()
    for _ in range(256):
        u.u32(rng.next_u32())
    for _ in range(256):
        n.f64(rng.normal())
    for _ in range(64):
        f.f64(rng.uniform01())
    return {"kU32Checksum": u.h, "kNormalChecksum": n.h, "kUniformChecksum": f.h}


# --- the checksums of tests/portable/same_seed.hpp and test_same_seed.cpp ------------------

K_SEED = 0x5EEDF00DCAFE


def hash_u32_stream():
    rng, f = Rng(K_SEED), Fnv1a()
    for _ in range(4096):
        f.u32(rng.next_u32())
    return f.h


def hash_uniform01():
    rng, f = Rng(K_SEED + 1), Fnv1a()
    for _ in range(1024):
        f.f64(rng.uniform01())
    for _ in range(256):
        f.f64(rng.uniform(-2.5, 7.25))
    return f.h


def hash_normal():
    rng, f = Rng(K_SEED + 2), Fnv1a()
    for _ in range(1024):
        f.f64(rng.normal())
    for _ in range(256):
        f.f64(rng.normal(0.5, 3.0))
    return f.h


def hash_below():
    rng, f = Rng(K_SEED + 3), Fnv1a()
    for n in (1, 2, 3, 7, 10, 1000, 0x80000001, 0xFFFFFFFF):
        for _ in range(64):
            f.u32(rng.below(n))
    return f.h


def hash_portable_log():
    f = Fnv1a()
    edges = (1.0, 2.0, 0.5, 0.70710678118654752440, 1.4142135623730950488, 1e-300,
             4.9406564584124654e-324, 1.7976931348623157e308, 3.0, 10.0)
    for x in edges:
        f.f64(portable_log(x))
    rng = Rng(K_SEED + 4)
    for _ in range(512):
        u = rng.uniform01()
        if u == 0.0:
            u = 0.5
        f.f64(portable_log(u))
    return f.h


def hash_init():
    inits = [("zeros", 0, 0), ("constant", 0.125, 0), ("normal", 0.5, 2.0), ("uniform", -1.0, 3.0),
             ("xavier_normal", 0, 0), ("xavier_uniform", 0, 0), ("glorot_normal", 0, 0),
             ("glorot_uniform", 0, 0), ("he_normal", 0, 0), ("he_uniform", 0, 0)]
    f = Fnv1a()
    for i, (kind, a, b) in enumerate(inits):
        for v in init_values(kind, a, b, 17, 23, Rng(K_SEED + 100 + i)):
            f.f32(v)
    return f.h


def hash_model_init():
    # ModelSpec(16): dense 32 he_normal, 32 glorot_uniform, 7 xavier_normal, 4 uniform(-0.25, 0.5).
    layers = [(32, "he_normal", 0, 0), (32, "glorot_uniform", 0, 0), (7, "xavier_normal", 0, 0),
              (4, "uniform", -0.25, 0.5)]
    pad = lambda n: (n + 15) // 16 * 16
    rng, f, fan_in = Rng(K_SEED + 200), Fnv1a(), 16
    for units, kind, a, b in layers:
        w = init_values(kind, a, b, units, fan_in, rng)
        block = w + [0.0] * (pad(len(w)) - len(w)) + [0.0] * pad(units)  # weights, bias
        for v in block:
            f.f32(v)
        fan_in = units
    return f.h


def same_seed():
    return {"rng.next_u32": hash_u32_stream(), "rng.uniform01": hash_uniform01(),
            "rng.normal": hash_normal(), "rng.below": hash_below(),
            "portable_log": hash_portable_log(), "initialize(all kinds)": hash_init()}


# --- comparison with the committed constants -----------------------------------------------

def committed(root):
    """The constants as the C++ tests state them: {file: {name: value}}."""
    def read(rel):
        with open(f"{root}/{rel}", encoding="utf-8") as fh:
            return fh.read()

    out = {}
    text = read("tests/core/test_rng.cpp")
    out["tests/core/test_rng.cpp"] = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"constexpr std::uint64_t (k\w+Checksum) = (\d+)ULL;", text)}
    text = read("tests/portable/same_seed.hpp")
    out["tests/portable/same_seed.hpp"] = {
        m.group(1): int(m.group(2), 16)
        for m in re.finditer(r'\{"([^"]+)",\s*\w+,\s*0x([0-9a-fA-F]+)ULL\}', text)}
    text = read("tests/platform/test_same_seed.cpp")
    out["tests/platform/test_same_seed.cpp"] = {
        m.group(1): int(m.group(2), 16)
        for m in re.finditer(r"constexpr std::uint64_t (kModelInitHash) = 0x([0-9a-fA-F]+)ULL;", text)}
    return out


def main(argv):
    computed = {
        "tests/core/test_rng.cpp": rng_seed42(),
        "tests/portable/same_seed.hpp": same_seed(),
        "tests/platform/test_same_seed.cpp": {"kModelInitHash": hash_model_init()},
    }
    for path, values in computed.items():
        for name, value in values.items():
            print(f"{path}: {name} = 0x{value:016x} ({value})")
    if len(argv) < 3 or argv[1] != "--check":
        return 0
    stated = committed(argv[2])
    bad = 0
    for path, values in computed.items():
        if set(stated[path]) != set(values):
            print(f"MISMATCH {path}: constants found {sorted(stated[path])}, expected {sorted(values)}")
            bad += 1
            continue
        for name, value in values.items():
            if stated[path][name] != value:
                print(f"MISMATCH {path}: {name} is {stated[path][name]:#018x} in the test, "
                      f"{value:#018x} from the algorithms")
                bad += 1
    count = sum(len(v) for v in computed.values())
    print(f"{count - bad} of {count} committed checksums reproduced from the algorithms")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
