// SPDX-License-Identifier: Apache-2.0
// Writes valid seed files for each fuzz target into <dir>/{model_file,safetensors,checkpoint}/.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fennec/checkpoint.hpp"
#include "fennec/fennec.hpp"
#include "fennec/io.hpp"
#include "fennec/quant_io.hpp"
#include "fennec/safetensors.hpp"

using namespace fennec;

namespace {

struct Sink {
  std::vector<unsigned char> bytes;
  ByteWriter writer() {
    ByteWriter w;
    w.context = this;
    w.write = [](void* self, const void* d, std::size_t n) {
      auto* s = static_cast<Sink*>(self);
      s->bytes.insert(s->bytes.end(), static_cast<const unsigned char*>(d),
                      static_cast<const unsigned char*>(d) + n);
      return Status::ok();
    };
    return w;
  }
};

// nn.Sequential(Linear(3, 2), BatchNorm1d(2), ReLU(), Linear(2, 2)) as PyTorch's state_dict writes
// it: no metadata, num_batches_tracked an I64 scalar (the import's BatchNorm1d mapping, with the
// fuzzer's own activations).
std::vector<unsigned char> torch_batchnorm_safetensors() {
  struct T {
    const char* name;
    const char* dtype;
    const char* shape;
    std::size_t bytes;
  };
  const T ts[] = {{"0.weight", "F32", "[2,3]", 24},        {"0.bias", "F32", "[2]", 8},
                  {"1.weight", "F32", "[2]", 8},           {"1.bias", "F32", "[2]", 8},
                  {"1.running_mean", "F32", "[2]", 8},     {"1.running_var", "F32", "[2]", 8},
                  {"1.num_batches_tracked", "I64", "[]", 8}, {"3.weight", "F32", "[2,2]", 16},
                  {"3.bias", "F32", "[2]", 8}};
  std::string json = "{";
  std::vector<unsigned char> data;
  for (const T& t : ts) {
    if (json.size() > 1) json += ",";
    json += std::string("\"") + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":" + t.shape +
            ",\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + t.bytes) + "]}";
    const bool counter = std::string(t.dtype) == "I64", var = std::string(t.name) == "1.running_var";
    for (std::size_t i = 0; i < t.bytes; i += 4) {
      // Floats 0.25, 0.5, ... (variances positive); the counter 7.
      const float f = var ? 1.5f : 0.25f * static_cast<float>(i / 4 + 1);
      unsigned char b[4];
      std::memcpy(b, &f, 4);
      if (counter) {
        const unsigned char c[8] = {7, 0, 0, 0, 0, 0, 0, 0};
        data.insert(data.end(), c, c + 8);
        break;
      }
      data.insert(data.end(), b, b + 4);
    }
  }
  json += "}";
  std::vector<unsigned char> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(std::uint64_t{json.size()} >> (8 * i));
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

bool write(const std::string& path, const std::vector<unsigned char>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR (with DIR/model_file, DIR/safetensors, DIR/checkpoint)\n");
    return 2;
  }
  const std::string dir = argv[1];
  const ModelSpec specs[] = {
      ModelSpec(3).dense(2, ActivationSpec::relu()).dense(2, ActivationSpec::identity()),
      ModelSpec(5).dense(4, ActivationSpec::leaky_relu(0.1f)).dense(3, ActivationSpec::tanh())
          .dense(1, ActivationSpec::sigmoid()).with_loss(Loss::kSigmoidBce),
      // Batch norm and dropout: a version-2 model file, a version-3 checkpoint and safetensors with
      // BatchNorm1d tensors and fennec.batchnorm/fennec.dropout metadata.
      ModelSpec(4).dense(3, ActivationSpec::relu()).batchnorm(1e-3f, 0.2f, false).dropout(0.25f)
          .dense(2, ActivationSpec::identity()),
  };
  const OptimizerKind kinds[] = {OptimizerKind::kAdam, OptimizerKind::kMomentum, OptimizerKind::kAdamW};
  int k = 0;
  for (const ModelSpec& spec : specs) {
    ModelOptions o;
    o.mode = Mode::kTraining;
    o.max_batch = 2;
    o.optimizer = kinds[k];
    static std::vector<unsigned char> storage;
    storage.assign(plan(spec, o).total() + kArenaAlignment, 0);
    Arena arena(storage.data(), storage.size());
    Result<Model> m = Model::bind(spec, o, arena);
    Rng rng(k + 1);
    if (!m.is_ok() || !m->init_parameters(rng).is_ok()) return 1;
    TrainerConfig c;
    c.optimizer = OptimizerConfig::defaults(kinds[k]);
    // The second checkpoint seed is a version-2 file: a schedule that changes the rate adds its record.
    if (k == 1) c.schedule = ScheduleConfig::plateau(2, 0.5).with_warmup(4);
    Result<Trainer> t = Trainer::create(m.value(), c);
    if (!t.is_ok()) return 1;
    const std::string n = std::to_string(k);
    Sink a, b, ck;
    ByteWriter wa = a.writer(), wb = b.writer(), wc = ck.writer();
    const unsigned long long pos = 12345;
    if (!save_model(m.value(), wa).is_ok() || !save_safetensors(m.value(), wb).is_ok() ||
        !save_checkpoint(t.value(), rng, wc, &pos, sizeof(pos)).is_ok())
      return 1;
    if (!write(dir + "/model_file/seed" + n, a.bytes) || !write(dir + "/safetensors/seed" + n, b.bytes) ||
        !write(dir + "/checkpoint/seed" + n, ck.bytes))
      return 1;
    // The int8 file of the first spec (the second has sigmoid/tanh, which have no int8 form).
    if (k == 0) {
      const float cal[] = {0.5f, -1.f, 0.25f, 1.f, 0.f, -0.75f, -0.2f, 0.9f, 0.3f};
      QuantOptions qo;
      qo.max_batch = 2;
      static std::vector<unsigned char> qstorage;
      qstorage.assign(quantized_plan(spec, 2).total() + calibration_scratch_bytes(spec, qo) + kArenaAlignment, 0);
      Arena qa(qstorage.data(), qstorage.size());
      Result<QuantizedModel> q = quantize(m.value(), ConstMatrixView(cal, 3, 3), qo, qa);
      Sink qs;
      ByteWriter wq = qs.writer();
      if (!q.is_ok() || !save_quantized_model(q.value(), wq).is_ok() || !write(dir + "/quant_file/seed0", qs.bytes))
        return 1;
    }
    ++k;
  }
  if (!write(dir + "/safetensors/seed_torch_bn", torch_batchnorm_safetensors())) return 1;
  return 0;
}
