// SPDX-License-Identifier: Apache-2.0
// The safetensors names replaced in 0.2.0 still work for one release: each deprecated forwarder
// gives what the function it forwards to gives, refusals included. The deprecation warning is
// silenced in this file only, so nothing else in the tree can call an old name unnoticed.
#include <string>

#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

TEST_CASE("safetensors: the names before 0.2.0 still work", "[io][safetensors][deprecated]") {
  const ModelSpec spec = ModelSpec(5).dense(4, ActivationSpec::relu()).dense(3, ActivationSpec::identity());
  OwnedModel src(spec, inference());
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_safetensors(src.model, w).is_ok());
  const Bytes& b = sink.bytes;

  Result<std::size_t> count = validate_safetensors(b.data(), b.size());
  REQUIRE(count.is_ok());
  CHECK(count.value() == read_safetensors_info(b.data(), b.size()).value().tensors);
  CHECK(count.value() == 4);
  const Result<std::size_t> short_count = validate_safetensors(b.data(), b.size() - 1);
  const Result<SafetensorsInfo> short_info = read_safetensors_info(b.data(), b.size() - 1);
  CHECK(short_count.status().code() == short_info.status().code());
  CHECK(std::string(short_count.status().message()) == short_info.status().message());

  const SafetensorsImport imp;  // activations from the metadata
  OwnedModel old_name(spec, inference(), 7), new_name(spec, inference(), 8);
  REQUIRE(load_safetensors_parameters(b.data(), b.size(), old_name.model, imp).is_ok());
  REQUIRE(restore_safetensors_parameters(b.data(), b.size(), new_name.model, imp).is_ok());
  CHECK(param_bytes(old_name.model) == param_bytes(src.model));
  CHECK(param_bytes(new_name.model) == param_bytes(src.model));
}

#pragma GCC diagnostic pop
