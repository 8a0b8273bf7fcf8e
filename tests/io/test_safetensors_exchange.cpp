// SPDX-License-Identifier: Apache-2.0
// PyTorch exchange beyond nn.Sequential float32: float64 state_dicts (model.double()) convert on
// import, a prefix and an ordered list of layer names map custom modules and wrappers, and a
// BatchNorm1d state_dict maps to batch norm.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"
#include "support/safetensors_writer.hpp"

using namespace fennec;
using namespace io_test;

namespace {

using fennec_test::st_file;
using fennec_test::st_net_3_4_2;
using fennec_test::st_tensor;
using fennec_test::StTensor;

const ActivationSpec kActs[2] = {ActivationSpec::relu(), ActivationSpec::identity()};

SafetensorsImport two_layers() {
  SafetensorsImport imp;
  imp.activations = kActs;
  imp.num_activations = 2;
  return imp;
}

Result<Model> load(const Bytes& b, const SafetensorsImport& imp, fennec_test::OwnedArena& arena) {
  return load_safetensors(b.data(), b.size(), imp, inference(), arena.arena);
}

std::string message_of(const Bytes& b, const SafetensorsImport& imp) {
  return read_safetensors_spec(b.data(), b.size(), imp).status().message();
}

}  // namespace

TEST_CASE("safetensors: F64 tensors load rounded to the nearest float", "[io][safetensors][pytorch]") {
  const Bytes f64 = st_file(st_net_3_4_2<double>("0", "2", "F64"));
  const Bytes f32 = st_file(st_net_3_4_2<float>("0", "2", "F32"));
  fennec_test::OwnedArena a(1 << 14), b(1 << 14);
  Result<Model> m64 = load(f64, two_layers(), a);
  Result<Model> m32 = load(f32, two_layers(), b);
  REQUIRE(m64);
  REQUIRE(m32);
  // static_cast<float>(double) is round-to-nearest, as the float32 file's values were made.
  CHECK(param_bytes(m64.value()) == param_bytes(m32.value()));
  CHECK(m64->weights(0)(0, 1) == static_cast<float>(0.1 * 1.0 - 0.5));

  // A finite double beyond float's range would load as Inf: refused, nothing loaded.
  std::vector<StTensor> big = st_net_3_4_2<double>("0", "2", "F64");
  const double huge = 1e300;
  std::memcpy(big[2].raw.data() + 8 * 5, &huge, 8);
  const Bytes bad = st_file(big);
  fennec_test::OwnedArena c(1 << 14);
  Result<Model> r = load(bad, two_layers(), c);
  CHECK(r.status().code() == StatusCode::kUnsupported);
  CHECK(std::string(r.status().message()) == "tensor '2.weight' element 5 is 1e+300, outside float's range");
  CHECK(c.arena.used() == 0);
}

TEST_CASE("safetensors: a prefix maps a wrapper's state_dict", "[io][safetensors][pytorch]") {
  const Bytes wrapped = st_file(st_net_3_4_2<float>("layers.0", "layers.2", "F32"));
  const Bytes plain = st_file(st_net_3_4_2<float>("0", "2", "F32"));
  CHECK(message_of(wrapped, two_layers()).find("tensor 'layers.0.weight' is not '<i>.weight'") == 0);
  SafetensorsImport imp = two_layers();
  imp.prefix = "layers.";
  fennec_test::OwnedArena a(1 << 14), b(1 << 14);
  Result<Model> mw = load(wrapped, imp, a);
  REQUIRE(mw);
  Result<Model> mp = load(plain, two_layers(), b);
  REQUIRE(mp);
  CHECK(param_bytes(mw.value()) == param_bytes(mp.value()));
  imp.prefix = "net.";
  CHECK(message_of(wrapped, imp) == "tensor 'layers.0.weight' is not 'net.<i>.weight' or '.bias'");
}

TEST_CASE("safetensors: an ordered list of layer names maps a custom module", "[io][safetensors][pytorch]") {
  // class Net(nn.Module): fc1 = Linear(3, 4), fc2 = Linear(4, 2); written in reverse order, so
  // the order comes from the list, not from the file.
  std::vector<StTensor> ts = st_net_3_4_2<float>("fc1", "fc2", "F32");
  std::swap(ts[0], ts[2]);
  std::swap(ts[1], ts[3]);
  const Bytes custom = st_file(ts);
  const Bytes plain = st_file(st_net_3_4_2<float>("0", "2", "F32"));
  CHECK(read_safetensors_spec(custom.data(), custom.size(), two_layers()).status().code() ==
        StatusCode::kUnsupported);
  const char* names[] = {"fc1", "fc2"};
  SafetensorsImport imp = two_layers();
  imp.layer_names = names;
  imp.num_layer_names = 2;
  fennec_test::OwnedArena a(1 << 14), b(1 << 14);
  Result<Model> mc = load(custom, imp, a);
  REQUIRE(mc);
  Result<Model> mp = load(plain, two_layers(), b);
  REQUIRE(mp);
  CHECK(param_bytes(mc.value()) == param_bytes(mp.value()));

  // With a prefix too: model.fc1.weight ...
  const Bytes nested = st_file(st_net_3_4_2<float>("model.fc1", "model.fc2", "F32"));
  imp.prefix = "model.";
  fennec_test::OwnedArena c(1 << 14);
  Result<Model> mn = load(nested, imp, c);
  REQUIRE(mn);
  CHECK(param_bytes(mn.value()) == param_bytes(mp.value()));
  imp.prefix = nullptr;

  // A name not in the list, a listed layer missing, an empty list.
  const char* wrong[] = {"fc1", "out"};
  imp.layer_names = wrong;
  CHECK(message_of(custom, imp) == "tensor 'fc2.weight' is not '<listed layer>.weight' or '.bias'");
  const char* three[] = {"fc1", "fc2", "fc3"};
  imp.layer_names = three;
  imp.num_layer_names = 3;
  CHECK(read_safetensors_spec(custom.data(), custom.size(), imp).status().code() == StatusCode::kShapeMismatch);
  CHECK(message_of(custom, imp) == "3 layer names given, the file has tensors for 2 of them");
  imp.num_layer_names = 0;
  CHECK(read_safetensors_spec(custom.data(), custom.size(), imp).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("safetensors: a BatchNorm1d state_dict maps to batch norm (refused by inference-only builds)",
          "[io][safetensors][pytorch]") {
  // nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)), as
  // state_dict() orders it (num_batches_tracked is an I64 scalar). The import itself is tested in
  // test_safetensors_batchnorm.cpp.
  std::vector<StTensor> ts = st_net_3_4_2<float>("0", "3", "F32");
  const std::vector<float> ones(4, 1.f), zeros(4, 0.f);
  ts.insert(ts.begin() + 2, {st_tensor("1.weight", "F32", {4}, ones), st_tensor("1.bias", "F32", {4}, zeros),
                             st_tensor("1.running_mean", "F32", {4}, zeros),
                             st_tensor("1.running_var", "F32", {4}, ones),
                             st_tensor("1.num_batches_tracked", "I64", {}, std::vector<std::int64_t>{10})});
  const Bytes b = st_file(ts);
  Result<ModelSpec> spec = read_safetensors_spec(b.data(), b.size(), two_layers());
  if (kBuildHasBatchNormDropout) {
    REQUIRE(spec);
    CHECK(spec->layers[0].batchnorm.enabled);
    CHECK_FALSE(spec->layers[1].batchnorm.enabled);
  } else {
    // Batch norm is folded on the host for these builds (fennec-convert --fold-batchnorm).
    CHECK(spec.status().code() == StatusCode::kUnsupported);
  }
}
