// SPDX-License-Identifier: Apache-2.0
// A fennec::ByteReader that serves a byte range a few bytes at a time, so a loader's streaming
// path (short reads, reads split across fields) runs. Shared by the io tests and the fuzz
// targets: no heap, no Catch2.
#pragma once

#include <cstddef>
#include <cstring>

#include "fennec/io.hpp"

namespace fennec_test {

struct ChunkedReader {
  const unsigned char* data;
  std::size_t size;
  std::size_t chunk;  // the most bytes one read call returns
  std::size_t pos = 0;

  fennec::ByteReader reader() {
    fennec::ByteReader r;
    r.context = this;
    r.read = [](void* self, void* out, std::size_t n, std::size_t* got) {
      ChunkedReader& c = *static_cast<ChunkedReader*>(self);
      std::size_t k = c.size - c.pos;
      if (k > n) k = n;
      if (k > c.chunk) k = c.chunk;
      if (k) std::memcpy(out, c.data + c.pos, k);
      c.pos += k;
      *got = k;
      return fennec::Status::ok();
    };
    return r;
  }
};

}  // namespace fennec_test
