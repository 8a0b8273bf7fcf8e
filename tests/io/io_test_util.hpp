// SPDX-License-Identifier: Apache-2.0
// Helpers for the io tests (test code: may allocate).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/test_util.hpp"
#include "fennec/io.hpp"
#include "support/chunked_reader.hpp"

namespace io_test {

using Bytes = std::vector<unsigned char>;

inline fennec::ModelSpec small_spec() {
  return fennec::ModelSpec(5)
      .dense(7, fennec::ActivationSpec::relu())
      .dense(4, fennec::ActivationSpec::leaky_relu(0.125f), fennec::Init::glorot_uniform())
      .dense(3, fennec::ActivationSpec::identity(), fennec::Init::normal(0.f, 0.5f))
      .with_loss(fennec::Loss::kSoftmaxCrossEntropy);
}

inline fennec::ModelSpec mnist_spec() {
  return fennec::ModelSpec(784)
      .dense(512, fennec::ActivationSpec::relu())
      .dense(256, fennec::ActivationSpec::relu())
      .dense(10, fennec::ActivationSpec::identity());
}

// A bound, initialised model with its own arena.
struct OwnedModel {
  fennec_test::OwnedArena arena;
  fennec::Model model;
  OwnedModel(const fennec::ModelSpec& spec, fennec::ModelOptions options, std::uint64_t seed = 42)
      : arena(fennec::plan(spec, options).total() + fennec::kArenaAlignment) {
    fennec::Result<fennec::Model> m = fennec::Model::bind(spec, options, arena.arena);
    REQUIRE(m.is_ok());
    model = std::move(m).value();
    fennec::Rng rng(seed);
    REQUIRE(model.init_parameters(rng).is_ok());
    // Non-zero biases so a bias/weight swap cannot pass a round trip.
    for (std::size_t i = 0; i < model.num_layers(); ++i) {
      fennec::VectorView b = model.bias(i);
      for (std::size_t k = 0; k < b.size; ++k) b[k] = static_cast<float>(rng.normal(0.0, 0.1));
    }
  }
};

inline fennec::ModelOptions inference(std::size_t batch = 4) {
  fennec::ModelOptions o;
  o.mode = fennec::Mode::kInference;
  o.max_batch = batch;
  return o;
}

inline fennec::ModelOptions training(fennec::OptimizerKind k, std::size_t batch = 4) {
  fennec::ModelOptions o;
  o.mode = fennec::Mode::kTraining;
  o.max_batch = batch;
  o.optimizer = k;
  return o;
}

// Writes through a ByteWriter into a vector.
struct VectorSink {
  Bytes bytes;
  fennec::ByteWriter writer() {
    fennec::ByteWriter w;
    w.context = this;
    w.write = [](void* self, const void* data, std::size_t n) {
      auto* s = static_cast<VectorSink*>(self);
      const auto* p = static_cast<const unsigned char*>(data);
      s->bytes.insert(s->bytes.end(), p, p + n);
      return fennec::Status::ok();
    };
    return w;
  }
};

// Serves `bytes` `chunk` bytes at a time (callback/stream read mode).
struct ChunkSource : fennec_test::ChunkedReader {
  ChunkSource(const Bytes* bytes, std::size_t chunk) : ChunkedReader{bytes->data(), bytes->size(), chunk} {}
};

inline Bytes save(const fennec::Model& m) {
  VectorSink sink;
  fennec::ByteWriter w = sink.writer();
  REQUIRE(fennec::save_model(m, w).is_ok());
  return sink.bytes;
}

// Parameters (padding included) as bytes, for bit-identity.
inline Bytes param_bytes(const fennec::Model& m) { return fennec_test::bytes_of(m.parameters()); }

inline Bytes read_file(const std::string& path) {
  Bytes b;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  unsigned char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) b.insert(b.end(), buf, buf + n);
  std::fclose(f);
  return b;
}

inline void write_file(const std::string& path, const Bytes& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!b.empty()) REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
  std::fclose(f);
}

// A fresh scratch directory per test binary run, removed at exit (forked children leave with
// _exit and do not remove it).
inline std::string temp_dir() {
  // Plain char storage: it outlives every static std::string, so the exit hook can use it.
  static char path[64] = "/tmp/fennec-io-test-XXXXXX";
  static const bool made = [] {
    REQUIRE(mkdtemp(path) != nullptr);
    std::atexit([] {
      char cmd[96];
      std::snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
      if (std::system(cmd) != 0) std::fputs("could not remove the io test directory\n", stderr);
    });
    return true;
  }();
  (void)made;
  return path;
}

inline void put_u32(Bytes& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put_u64(Bytes& b, std::size_t off, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<unsigned char>(v >> (8 * i));
}
// Recompute the trailing CRC-32 after editing a Fennec file (so the edit, not the CRC, is tested).
inline void fix_crc(Bytes& b) {
  put_u32(b, b.size() - 4, fennec::crc32(b.data(), b.size() - 4));
}

}  // namespace io_test
