// SPDX-License-Identifier: Apache-2.0
// safetensors and PyTorch's BatchNorm1d (and Dropout): a state_dict with BatchNorm1d modules
// imports into Fennec's batch-norm layers (in memory and streamed), eps/momentum/dropout come from
// metadata or the import's defaults, malformed modules are refused with nothing written, Fennec's
// export reads back bit for bit, and a file written by PyTorch gives PyTorch's eval outputs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "fennec/fold.hpp"
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
using Metadata = std::vector<std::pair<std::string, std::string>>;

const ActivationSpec kActs[2] = {ActivationSpec::relu(), ActivationSpec::identity()};

SafetensorsImport two_layers() {
  SafetensorsImport imp;
  imp.activations = kActs;
  imp.num_activations = 2;
  return imp;
}

// BatchNorm1d(4) module `stem`'s tensors, as state_dict() orders them, with fixed values.
std::vector<StTensor> bn_tensors(const std::string& stem, bool affine = true) {
  const std::vector<float> gamma = {1.5f, 0.5f, -0.75f, 2.f}, beta = {0.1f, -0.2f, 0.3f, 0.f};
  const std::vector<float> mean = {0.25f, -0.5f, 0.125f, 1.f}, var = {0.5f, 2.f, 0.0625f, 1.25f};
  std::vector<StTensor> ts;
  if (affine) ts = {st_tensor(stem + ".weight", "F32", {4}, gamma), st_tensor(stem + ".bias", "F32", {4}, beta)};
  ts.push_back(st_tensor(stem + ".running_mean", "F32", {4}, mean));
  ts.push_back(st_tensor(stem + ".running_var", "F32", {4}, var));
  ts.push_back(st_tensor(stem + ".num_batches_tracked", "I64", {}, std::vector<std::int64_t>{10}));
  return ts;
}

// nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).
std::vector<StTensor> bn_net(bool affine = true) {
  std::vector<StTensor> ts = st_net_3_4_2<float>("0", "3", "F32");
  const std::vector<StTensor> bn = bn_tensors("1", affine);
  ts.insert(ts.begin() + 2, bn.begin(), bn.end());
  return ts;
}

std::vector<StTensor>::iterator find(std::vector<StTensor>& ts, const std::string& name) {
  for (auto it = ts.begin(); it != ts.end(); ++it)
    if (it->name == name) return it;
  FAIL("no tensor " << name);
  return ts.end();
}

std::vector<float> floats_of(const StTensor& t) {
  std::vector<float> v(t.raw.size() / 4);
  std::memcpy(v.data(), t.raw.data(), t.raw.size());
  return v;
}

// A RandomReader over bytes in memory (the streaming load without a file).
struct MemoryInput {
  const Bytes* bytes;
  RandomReader reader() {
    RandomReader r;
    r.context = this;
    r.size = bytes->size();
    r.read_at = [](void* self, std::uint64_t offset, void* data, std::size_t size, std::size_t* got) {
      const Bytes& b = *static_cast<MemoryInput*>(self)->bytes;
      const std::size_t k = offset >= b.size() ? 0 : std::min<std::size_t>(size, b.size() - offset);
      if (k) std::memcpy(data, b.data() + offset, k);
      *got = k;
      return Status::ok();
    };
    return r;
  }
};

Result<Model> load_mem(const Bytes& b, const SafetensorsImport& imp, fennec_test::OwnedArena& arena) {
  return load_safetensors(b.data(), b.size(), imp, inference(), arena.arena);
}
Result<Model> load_stream(const Bytes& b, const SafetensorsImport& imp, fennec_test::OwnedArena& arena) {
  MemoryInput in{&b};
  return load_safetensors(in.reader(), imp, inference(), arena.arena);
}

std::uint64_t load_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::vector<float> view(VectorView v) { return std::vector<float>(v.data, v.data + v.size); }

// Eval outputs of `m` for `rows` inputs of its width.
std::vector<float> eval(Model& m, const std::vector<float>& x, std::size_t rows) {
  Result<ConstMatrixView> y = m.forward(ConstMatrixView(x.data(), rows, m.spec().input));
  REQUIRE(y.is_ok());
  std::vector<float> out;
  for (std::size_t r = 0; r < y->rows; ++r)
    for (std::size_t c = 0; c < y->cols; ++c) out.push_back(y.value()(r, c));
  return out;
}

// The refusal of `ts` (with `meta`) by every entry point: its code and message, the arena
// untouched, and nothing written into a bound model.
void check_refused(const std::vector<StTensor>& ts, StatusCode code, const std::string& message,
                   const Metadata& meta = {}, SafetensorsImport imp = two_layers()) {
  const Bytes b = st_file(ts, meta);
  const Status spec = read_safetensors_spec(b.data(), b.size(), imp).status();
  const bool header_level = !spec.is_ok();
  if (header_level) {
    CHECK(spec.code() == code);
    CHECK(std::string(spec.message()) == message);
  }
  fennec_test::OwnedArena a(1 << 16), c(1 << 16);
  const Status mem = load_mem(b, imp, a).status();
  CHECK(mem.code() == code);
  CHECK(std::string(mem.message()) == message);
  CHECK(a.arena.used() == 0);
  const Status st = load_stream(b, imp, c).status();
  CHECK(st.code() == code);
  CHECK(std::string(st.message()) == message);
  CHECK(c.arena.used() == 0);
  if (header_level) return;
  // Values refused after the spec was read: a bound model keeps what it had.
  const ModelSpec s = read_safetensors_spec(b.data(), b.size(), imp).value();
  OwnedModel target(s, inference());
  const Bytes before = param_bytes(target.model);
  const std::vector<float> var = view(target.model.bn_running_var(0));
  CHECK(restore_safetensors_parameters(b.data(), b.size(), target.model, imp).code() == code);
  CHECK(param_bytes(target.model) == before);
  CHECK(view(target.model.bn_running_var(0)) == var);
  CHECK(target.model.batches_tracked() == 0);
}

}  // namespace

TEST_CASE("safetensors: a BatchNorm1d state_dict imports into a batch-norm layer", "[io][safetensors][pytorch][batchnorm]") {
  const std::vector<StTensor> ts = bn_net();
  const Bytes b = st_file(ts);
  Result<ModelSpec> spec = read_safetensors_spec(b.data(), b.size(), two_layers());
  REQUIRE(spec);
  REQUIRE(spec->num_layers == 2);
  CHECK(spec->layers[0].batchnorm.enabled);
  CHECK(spec->layers[0].batchnorm.eps == 1e-5f);  // PyTorch's defaults: not in a state_dict
  CHECK(spec->layers[0].batchnorm.momentum == 0.1f);
  CHECK(spec->layers[0].dropout == 0.f);
  CHECK_FALSE(spec->layers[1].batchnorm.enabled);

  // The hand computation: y = W1 relu(gamma (W0 x + b0 - mean) / sqrt(var + eps) + beta) + b1,
  // in double.
  const std::vector<float> w0 = floats_of(ts[0]), b0 = floats_of(ts[1]), gamma = floats_of(ts[2]),
                           beta = floats_of(ts[3]), mean = floats_of(ts[4]), var = floats_of(ts[5]),
                           w1 = floats_of(ts[7]), b1 = floats_of(ts[8]);
  const std::vector<float> x = {0.5f, -1.25f, 2.f, -0.3f, 0.8f, 0.1f};
  std::vector<double> expected;
  for (std::size_t r = 0; r < 2; ++r) {
    double h[4];
    for (std::size_t o = 0; o < 4; ++o) {
      double z = b0[o];
      for (std::size_t k = 0; k < 3; ++k) z += double(w0[o * 3 + k]) * x[r * 3 + k];
      const double n = gamma[o] * (z - mean[o]) / std::sqrt(double(var[o]) + double(1e-5f)) + beta[o];
      h[o] = n > 0 ? n : 0;
    }
    for (std::size_t o = 0; o < 2; ++o) {
      double y = b1[o];
      for (std::size_t k = 0; k < 4; ++k) y += double(w1[o * 4 + k]) * h[k];
      expected.push_back(y);
    }
  }

  for (const bool streamed : {false, true}) {
    INFO("streamed " << streamed);
    fennec_test::OwnedArena a(1 << 16);
    Result<Model> m = streamed ? load_stream(b, two_layers(), a) : load_mem(b, two_layers(), a);
    REQUIRE(m);
    CHECK(m->spec().layers[0].batchnorm.enabled);
    CHECK(view(m->bn_gamma(0)) == gamma);
    CHECK(view(m->bn_beta(0)) == beta);
    CHECK(view(m->bn_running_mean(0)) == mean);
    CHECK(view(m->bn_running_var(0)) == var);
    CHECK(m->batches_tracked() == 10);
    CHECK(m->weights(1)(1, 3) == w1[7]);
    const std::vector<float> y = eval(m.value(), x, 2);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(std::fabs(y[i] - expected[i]) <= 1e-6 + 1e-5 * std::fabs(expected[i]));
  }

  // A wrapper module's prefix (layers.0.weight, layers.1.running_mean, ...).
  std::vector<StTensor> wrapped = ts;
  for (StTensor& t : wrapped) t.name = "layers." + t.name;
  SafetensorsImport imp = two_layers();
  imp.prefix = "layers.";
  const Bytes bw = st_file(wrapped);
  fennec_test::OwnedArena a(1 << 16), c(1 << 16);
  Result<Model> mw = load_mem(bw, imp, a);
  REQUIRE(mw);
  Result<Model> mp = load_mem(b, two_layers(), c);
  REQUIRE(mp);
  CHECK(param_bytes(mw.value()) == param_bytes(mp.value()));
  CHECK(view(mw->bn_running_var(0)) == var);
}

TEST_CASE("safetensors: BatchNorm1d(affine=False) and num_batches_tracked forms", "[io][safetensors][pytorch][batchnorm]") {
  // No weight/bias: gamma 1, beta 0.
  const Bytes plain = st_file(bn_net(false));
  for (const bool streamed : {false, true}) {
    fennec_test::OwnedArena a(1 << 16);
    Result<Model> m = streamed ? load_stream(plain, two_layers(), a) : load_mem(plain, two_layers(), a);
    REQUIRE(m);
    CHECK(view(m->bn_gamma(0)) == std::vector<float>(4, 1.f));
    CHECK(view(m->bn_beta(0)) == std::vector<float>(4, 0.f));
    CHECK(m->batches_tracked() == 10);
  }
  // num_batches_tracked as F32 (every tensor F32, as examples/pytorch/safetensors_io.py wrote it
  // before), as F64 of shape [1], and absent.
  struct Form {
    StTensor counter;
    std::uint64_t expect;
  };
  const Form forms[] = {
      {st_tensor("1.num_batches_tracked", "F32", {}, std::vector<float>{300.f}), 300},
      {st_tensor("1.num_batches_tracked", "F64", {1}, std::vector<double>{12345678901.0}), 12345678901ull},
      {st_tensor("1.num_batches_tracked", "I64", {1}, std::vector<std::int64_t>{0}), 0},
  };
  for (const Form& f : forms) {
    std::vector<StTensor> ts = bn_net();
    *find(ts, "1.num_batches_tracked") = f.counter;
    const Bytes b = st_file(ts);
    for (const bool streamed : {false, true}) {
      INFO(f.counter.dtype << " streamed " << streamed);
      fennec_test::OwnedArena a(1 << 16);
      Result<Model> m = streamed ? load_stream(b, two_layers(), a) : load_mem(b, two_layers(), a);
      REQUIRE(m);
      CHECK(m->batches_tracked() == f.expect);
    }
  }
  std::vector<StTensor> ts = bn_net();
  ts.erase(find(ts, "1.num_batches_tracked"));
  const Bytes b = st_file(ts);
  fennec_test::OwnedArena a(1 << 16);
  Result<Model> m = load_mem(b, two_layers(), a);
  REQUIRE(m);
  CHECK(m->batches_tracked() == 0);
}

TEST_CASE("safetensors: batch-norm eps/momentum and dropout from metadata or the import", "[io][safetensors][batchnorm]") {
  // Linear(3, 4) -> BatchNorm1d -> ReLU -> Dropout -> Linear(4, 2): the last Linear at 4.
  std::vector<StTensor> ts = bn_net();
  find(ts, "3.weight")->name = "4.weight";
  find(ts, "3.bias")->name = "4.bias";
  const Metadata meta = {{"fennec.activations", "relu,identity"},
                         {"fennec.batchnorm", "0.001:0.25,-"},
                         {"fennec.dropout", "0.2,0"}};
  const Bytes b = st_file(ts, meta);
  SafetensorsImport from_file;
  Result<ModelSpec> spec = read_safetensors_spec(b.data(), b.size(), from_file);
  REQUIRE(spec);
  CHECK(spec->layers[0].batchnorm.eps == 0.001f);
  CHECK(spec->layers[0].batchnorm.momentum == 0.25f);
  CHECK(spec->layers[0].dropout == 0.2f);
  CHECK(spec->layers[1].dropout == 0.f);
  // Caller activations do not turn the layer options off (they are separate keys).
  spec = read_safetensors_spec(b.data(), b.size(), two_layers());
  REQUIRE(spec);
  CHECK(spec->layers[0].batchnorm.eps == 0.001f);
  // The import's own values, whatever the file says.
  SafetensorsImport own = two_layers();
  own.options_from_metadata = false;
  own.batchnorm_eps = 1e-3f;
  own.batchnorm_momentum = 0.05f;
  spec = read_safetensors_spec(b.data(), b.size(), own);
  REQUIRE(spec);
  CHECK(spec->layers[0].batchnorm.eps == 1e-3f);
  CHECK(spec->layers[0].batchnorm.momentum == 0.05f);
  CHECK(spec->layers[0].dropout == 0.f);
  // Without metadata, the import's values for every BatchNorm1d module.
  const Bytes bare = st_file(ts);
  spec = read_safetensors_spec(bare.data(), bare.size(), own);
  REQUIRE(spec);
  CHECK(spec->layers[0].batchnorm.momentum == 0.05f);
  // Out-of-range values are the spec's to refuse.
  own.batchnorm_eps = 0.f;
  CHECK(read_safetensors_spec(bare.data(), bare.size(), own).status().code() == StatusCode::kInvalidArgument);

  // Malformed metadata: wrong item count, '-' where the file has a module (and the reverse),
  // items that are not numbers, a dropout out of range.
  const std::pair<Metadata, std::string> bad[] = {
      {{{"fennec.batchnorm", "1e-05:0.1"}}, "fennec.batchnorm metadata has 1 items for 2 Linear layers"},
      {{{"fennec.batchnorm", "-,-"}},
       "fennec.batchnorm metadata: Linear 0 has a BatchNorm1d module in the file but item 1 is '-'"},
      {{{"fennec.batchnorm", "1e-05:0.1,1e-05:0.1"}},
       "fennec.batchnorm metadata: Linear 4 has no BatchNorm1d module in the file but item 2 is '1e-05:0.1'"},
      {{{"fennec.batchnorm", "1e-05,-"}}, "fennec.batchnorm metadata: item 1 is '1e-05', not '-' or 'EPS:MOMENTUM'"},
      {{{"fennec.batchnorm", " 1e-05:0.1,-"}},
       "fennec.batchnorm metadata: item 1 is ' 1e-05:0.1', not '-' or 'EPS:MOMENTUM'"},
      {{{"fennec.dropout", "0.2,x"}}, "fennec.dropout metadata: item 2 is 'x', not a probability"},
      {{{"fennec.dropout", "0.2,0,0"}}, "fennec.dropout metadata has 3 items for 2 Linear layers"},
  };
  for (const auto& [m, message] : bad) {
    INFO(m[0].second);
    check_refused(ts, StatusCode::kInvalidArgument, message, m);
  }
  const Bytes p1 = st_file(ts, {{"fennec.dropout", "1,0"}});
  CHECK(read_safetensors_spec(p1.data(), p1.size(), two_layers()).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("safetensors: malformed BatchNorm1d modules are refused, nothing written", "[io][safetensors][batchnorm]") {
  SECTION("before any Linear") {
    std::vector<StTensor> ts = st_net_3_4_2<float>("1", "3", "F32");
    const std::vector<StTensor> bn = bn_tensors("0");
    ts.insert(ts.begin(), bn.begin(), bn.end());
    check_refused(ts, StatusCode::kUnsupported,
                  "BatchNorm1d module 0 comes before any Linear (Fennec normalises a dense layer's output)");
  }
  SECTION("two after one Linear") {
    std::vector<StTensor> ts = bn_net();
    const std::vector<StTensor> bn = bn_tensors("2");
    ts.insert(ts.begin() + 7, bn.begin(), bn.end());
    check_refused(ts, StatusCode::kUnsupported,
                  "BatchNorm1d modules 1 and 2 both follow Linear 0 (Fennec has one per dense layer)");
  }
  SECTION("missing running statistics") {
    std::vector<StTensor> ts = bn_net();
    ts.erase(find(ts, "1.running_var"));
    check_refused(ts, StatusCode::kShapeMismatch, "BatchNorm1d module 1 lacks '1.running_var'");
    ts = bn_net();
    ts.erase(find(ts, "1.running_mean"));
    check_refused(ts, StatusCode::kShapeMismatch, "BatchNorm1d module 1 lacks '1.running_mean'");
  }
  SECTION("weight without bias") {
    std::vector<StTensor> ts = bn_net();
    ts.erase(find(ts, "1.bias"));
    check_refused(ts, StatusCode::kShapeMismatch,
                  "BatchNorm1d module 1 has '1.weight' without '1.bias' (affine=False has neither)");
  }
  SECTION("wrong shapes") {
    std::vector<StTensor> ts = bn_net();
    *find(ts, "1.running_mean") = st_tensor("1.running_mean", "F32", {3}, std::vector<float>(3, 0.f));
    check_refused(ts, StatusCode::kShapeMismatch, "'1.running_mean' must have shape (4), the out features of Linear 0");
    ts = bn_net();
    *find(ts, "1.weight") = st_tensor("1.weight", "F32", {2, 2}, std::vector<float>(4, 1.f));
    check_refused(ts, StatusCode::kShapeMismatch, "tensor '1.weight' has rank 2, not 1");
    ts = bn_net();
    *find(ts, "1.num_batches_tracked") = st_tensor("1.num_batches_tracked", "I64", {2}, std::vector<std::int64_t>{1, 1});
    check_refused(ts, StatusCode::kShapeMismatch, "tensor '1.num_batches_tracked' must have shape [] or [1]");
  }
  SECTION("wrong dtypes") {
    std::vector<StTensor> ts = bn_net();
    *find(ts, "1.running_var") = st_tensor("1.running_var", "I32", {4}, std::vector<std::int32_t>(4, 1));
    check_refused(ts, StatusCode::kUnsupported, "tensor '1.running_var' has dtype I32; only F32, F16, BF16 and F64 load");
    ts = bn_net();
    *find(ts, "1.num_batches_tracked") = st_tensor("1.num_batches_tracked", "I32", {}, std::vector<std::int32_t>{3});
    check_refused(ts, StatusCode::kUnsupported,
                  "tensor '1.num_batches_tracked' has dtype I32; num_batches_tracked loads from I64, F32 or F64");
  }
  SECTION("an unknown tensor of a BatchNorm1d module") {
    std::vector<StTensor> ts = bn_net();
    ts.push_back(st_tensor("1.running_std", "F32", {4}, std::vector<float>(4, 1.f)));
    check_refused(ts, StatusCode::kUnsupported,
                  "tensor '1.running_std' of BatchNorm1d module 1 is not its weight, bias, running_mean, "
                  "running_var or num_batches_tracked");
  }
  SECTION("a negative or non-finite running variance") {
    for (const float v : {-0.5f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      std::vector<StTensor> ts = bn_net();
      std::vector<float> var = floats_of(*find(ts, "1.running_var"));
      var[2] = v;
      *find(ts, "1.running_var") = st_tensor("1.running_var", "F32", {4}, var);
      char message[128];
      std::snprintf(message, sizeof(message), "'1.running_var' element 2 is %g: a variance is finite and >= 0",
                    static_cast<double>(v));
      check_refused(ts, StatusCode::kCorruptData, message);
    }
  }
  SECTION("num_batches_tracked not a non-negative whole number") {
    std::vector<StTensor> ts = bn_net();
    *find(ts, "1.num_batches_tracked") = st_tensor("1.num_batches_tracked", "I64", {}, std::vector<std::int64_t>{-3});
    check_refused(ts, StatusCode::kCorruptData, "'1.num_batches_tracked' is negative (-3)");
    *find(ts, "1.num_batches_tracked") = st_tensor("1.num_batches_tracked", "F32", {}, std::vector<float>{2.5f});
    check_refused(ts, StatusCode::kCorruptData, "'1.num_batches_tracked' is 2.5, not a non-negative whole number");
    *find(ts, "1.num_batches_tracked") = st_tensor("1.num_batches_tracked", "F64", {},
                                                   std::vector<double>{std::numeric_limits<double>::quiet_NaN()});
    check_refused(ts, StatusCode::kCorruptData, "'1.num_batches_tracked' is nan, not a non-negative whole number");
  }
  SECTION("modules with different counts") {
    // Linear(3,4) BN(4) ReLU Linear(4,4) BN(4) Linear(4,2).
    std::vector<StTensor> ts = bn_net();
    find(ts, "3.weight")->name = "6.weight";
    find(ts, "3.bias")->name = "6.bias";
    std::vector<float> w(16, 0.25f), b(4, 0.f);
    std::vector<StTensor> mid = {st_tensor("3.weight", "F32", {4, 4}, w), st_tensor("3.bias", "F32", {4}, b)};
    std::vector<StTensor> bn = bn_tensors("4");
    bn.back() = st_tensor("4.num_batches_tracked", "I64", {}, std::vector<std::int64_t>{11});
    mid.insert(mid.end(), bn.begin(), bn.end());
    ts.insert(ts.begin() + 7, mid.begin(), mid.end());
    const std::vector<ActivationSpec> acts = {ActivationSpec::relu(), ActivationSpec::relu(), ActivationSpec::identity()};
    SafetensorsImport imp;
    imp.activations = acts.data();
    imp.num_activations = 3;
    check_refused(ts, StatusCode::kUnsupported,
                  "'4.num_batches_tracked' is 11, another BatchNorm1d module's is 10 (Fennec keeps one count "
                  "per model)",
                  {}, imp);
  }
  SECTION("BatchNorm1d with layer names") {
    std::vector<StTensor> ts = st_net_3_4_2<float>("fc1", "fc2", "F32");
    const std::vector<StTensor> bn = bn_tensors("bn1");
    ts.insert(ts.begin() + 2, bn.begin(), bn.end());
    const char* names[] = {"fc1", "fc2"};
    SafetensorsImport imp = two_layers();
    imp.layer_names = names;
    imp.num_layer_names = 2;
    check_refused(ts, StatusCode::kUnsupported,
                  "tensor 'bn1.running_mean' is a BatchNorm1d buffer: BatchNorm1d modules map by their "
                  "nn.Sequential index only, not with layer names",
                  {}, imp);
  }
}

TEST_CASE("safetensors: batch norm only where the model has it", "[io][safetensors][batchnorm]") {
  const Bytes with = st_file(bn_net());
  const Bytes without = st_file(st_net_3_4_2<float>("0", "2", "F32"));
  const ModelSpec plain = read_safetensors_spec(without.data(), without.size(), two_layers()).value();
  const ModelSpec bn = read_safetensors_spec(with.data(), with.size(), two_layers()).value();
  OwnedModel a(plain, inference()), b(bn, inference());
  const Status s1 = restore_safetensors_parameters(with.data(), with.size(), a.model, two_layers());
  CHECK(s1.code() == StatusCode::kShapeMismatch);
  CHECK(std::string(s1.message()) == "layer 0: batch norm in the file but not in the model");
  const Status s2 = restore_safetensors_parameters(without.data(), without.size(), b.model, two_layers());
  CHECK(s2.code() == StatusCode::kShapeMismatch);
  CHECK(std::string(s2.message()) == "layer 0: batch norm in the model but not in the file");
  REQUIRE(restore_safetensors_parameters(with.data(), with.size(), b.model, two_layers()).is_ok());
  CHECK(b.model.batches_tracked() == 10);
}

TEST_CASE("safetensors: a batch-norm/dropout model exports as PyTorch names it and reads back bit for bit",
          "[io][safetensors][batchnorm]") {
  const ModelSpec spec = ModelSpec(3)
                             .dense(4, ActivationSpec::relu())
                             .batchnorm()
                             .dropout(0.2f)
                             .dense(5, ActivationSpec::identity())
                             .batchnorm(1e-3f, 0.25f)
                             .dense(2, ActivationSpec::tanh())
                             .with_loss(Loss::kMse);
  OwnedModel src(spec, training(OptimizerKind::kAdam));
  Rng rng(7);
  for (std::size_t l = 0; l < 2; ++l) {
    for (const VectorView v : {src.model.bn_gamma(l), src.model.bn_beta(l), src.model.bn_running_mean(l)})
      for (std::size_t k = 0; k < v.size; ++k) v.data[k] = static_cast<float>(rng.normal(0.0, 1.0));
    const VectorView var = src.model.bn_running_var(l);
    for (std::size_t k = 0; k < var.size; ++k) var.data[k] = static_cast<float>(rng.uniform(0.1, 2.0));
  }
  src.model.set_batches_tracked(123);
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_safetensors(src.model, w).is_ok());
  CHECK(sink.bytes.size() == safetensors_file_size(src.model));
  const std::uint64_t n = load_u64_le(sink.bytes.data());
  const std::string header(reinterpret_cast<const char*>(sink.bytes.data()) + 8, n);
  CHECK(header.find("\"fennec.activations\":\"relu,identity,tanh\",\"fennec.loss\":\"mse\","
                    "\"fennec.batchnorm\":\"1e-05:0.1,0.001:0.25,-\",\"fennec.dropout\":\"0.2,0,0\"}") !=
        std::string::npos);
  // Linear 0, BatchNorm1d 1, ReLU 2, Dropout 3, Linear 4, BatchNorm1d 5, Linear 6 (then Tanh).
  const char* names[] = {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                         "1.num_batches_tracked", "4.weight", "4.bias", "5.weight", "5.bias",
                         "5.running_mean", "5.running_var", "5.num_batches_tracked", "6.weight", "6.bias"};
  std::size_t at = 0;
  for (const char* name : names) {
    const std::size_t k = header.find(std::string("\"") + name + "\":");
    CHECK(k != std::string::npos);
    CHECK(k > at);
    at = k;
  }
  CHECK(header.find("\"1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],") != std::string::npos);
  REQUIRE(read_safetensors_info(sink.bytes.data(), sink.bytes.size()).value().tensors == 16);

  const SafetensorsImport imp;  // everything from the metadata
  for (const bool streamed : {false, true}) {
    INFO("streamed " << streamed);
    fennec_test::OwnedArena a(1 << 16);
    Result<Model> m = streamed ? load_stream(sink.bytes, imp, a) : load_mem(sink.bytes, imp, a);
    REQUIRE(m);
    const ModelSpec& got = m->spec();
    for (std::size_t l = 0; l < 3; ++l) {
      CHECK(got.layers[l].units == spec.layers[l].units);
      CHECK(got.layers[l].activation.kind == spec.layers[l].activation.kind);
      CHECK(got.layers[l].batchnorm.enabled == spec.layers[l].batchnorm.enabled);
      CHECK(got.layers[l].batchnorm.eps == spec.layers[l].batchnorm.eps);
      CHECK(got.layers[l].batchnorm.momentum == spec.layers[l].batchnorm.momentum);
      CHECK(got.layers[l].dropout == spec.layers[l].dropout);
    }
    CHECK(got.loss == Loss::kMse);
    CHECK(param_bytes(m.value()) == param_bytes(src.model));
    CHECK(fennec_test::bytes_of(m->layer_state()) == fennec_test::bytes_of(src.model.layer_state()));
    CHECK(m->batches_tracked() == 123);
    // And it writes the same file again.
    VectorSink again;
    ByteWriter w2 = again.writer();
    REQUIRE(save_safetensors(m.value(), w2).is_ok());
    CHECK(again.bytes == sink.bytes);
  }

  // A plain network's export has no layer-option keys (byte-identical to before).
  OwnedModel plain(small_spec(), inference());
  VectorSink ps;
  ByteWriter pw = ps.writer();
  REQUIRE(save_safetensors(plain.model, pw).is_ok());
  const std::string ph(reinterpret_cast<const char*>(ps.bytes.data()) + 8, load_u64_le(ps.bytes.data()));
  CHECK(ph.find("fennec.batchnorm") == std::string::npos);
  CHECK(ph.find("fennec.dropout") == std::string::npos);
  CHECK(ps.bytes.size() == safetensors_file_size(plain.model));
}

TEST_CASE("safetensors: a PyTorch BatchNorm1d/Dropout file gives PyTorch's eval outputs, folded too",
          "[io][safetensors][pytorch][batchnorm]") {
#include "fixtures/torch_batchnorm_expected.inc"
  const Bytes file = read_file(std::string(FENNEC_IO_FIXTURES) + "/torch_batchnorm.safetensors");
  std::vector<float> x(kTorchBnRows * kTorchBnIn), expected(kTorchBnRows * kTorchBnOut);
  std::memcpy(x.data(), kTorchBnInputs, x.size() * 4);
  std::memcpy(expected.data(), kTorchBnOutputs, expected.size() * 4);
  for (const bool streamed : {false, true}) {
    INFO("streamed " << streamed);
    fennec_test::OwnedArena a(1 << 16);
    Result<Model> m = streamed ? load_stream(file, two_layers(), a) : load_mem(file, two_layers(), a);
    REQUIRE(m);
    CHECK(m->spec().layers[0].batchnorm.enabled);
    CHECK(m->batches_tracked() == kTorchBnBatchesTracked);
    const std::vector<float> y = eval(m.value(), x, kTorchBnRows);
    // One float32 forward pass of width <= 6: 1e-5 relative (and 1e-6 absolute for outputs near 0).
    for (std::size_t i = 0; i < y.size(); ++i) {
      INFO("output " << i);
      CHECK(std::fabs(y[i] - expected[i]) <= 1e-6f + 1e-5f * std::fabs(expected[i]));
    }
    // Folded into a plain MLP (what an inference-only build runs).
    const ModelSpec plain = folded_spec(m->spec());
    CHECK_FALSE(plain.has_batchnorm());
    OwnedModel folded(plain, inference());
    REQUIRE(fold_batchnorm(m.value(), folded.model).is_ok());
    const std::vector<float> yf = eval(folded.model, x, kTorchBnRows);
    for (std::size_t i = 0; i < yf.size(); ++i) {
      INFO("folded output " << i);
      CHECK(std::fabs(yf[i] - expected[i]) <= 1e-6f + 1e-5f * std::fabs(expected[i]));
    }
  }
}

TEST_CASE("safetensors: the largest batch-norm network (kMaxLayers layers, 7 tensors each) reads back",
          "[io][safetensors][batchnorm]") {
  ModelSpec spec(3);
  for (std::size_t l = 0; l < kMaxLayers; ++l) spec.dense(3, ActivationSpec::relu()).batchnorm();
  REQUIRE(validate(spec).is_ok());
  OwnedModel src(spec, inference());
  VectorSink sink;
  ByteWriter w = sink.writer();
  REQUIRE(save_safetensors(src.model, w).is_ok());
  REQUIRE(read_safetensors_info(sink.bytes.data(), sink.bytes.size()).value().tensors == kSafetensorsMaxTensors);
  for (const bool streamed : {false, true}) {
    fennec_test::OwnedArena a(1 << 18);
    Result<Model> m = streamed ? load_stream(sink.bytes, SafetensorsImport{}, a) : load_mem(sink.bytes, SafetensorsImport{}, a);
    REQUIRE(m);
    CHECK(param_bytes(m.value()) == param_bytes(src.model));
  }
}
