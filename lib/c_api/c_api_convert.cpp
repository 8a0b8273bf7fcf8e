// SPDX-License-Identifier: Apache-2.0
// The C API's plain structs to the C++ types and back, and how failures reach the caller.
#include <cstring>

#include "c_api/handle.hpp"
#include "fennec/activation.hpp"
#include "fennec/init.hpp"
#include "fennec/loss.hpp"
#include "fennec/optim.hpp"

namespace fennec::c_api {
namespace {

static_assert(FENNEC_MAX_LAYERS == kMaxLayers, "FENNEC_MAX_LAYERS and fennec::kMaxLayers differ");
static_assert(FENNEC_ARENA_ALIGNMENT == kArenaAlignment, "FENNEC_ARENA_ALIGNMENT differs");
static_assert(FENNEC_OK == static_cast<int>(StatusCode::kOk) &&
                  FENNEC_INVALID_ARGUMENT == static_cast<int>(StatusCode::kInvalidArgument) &&
                  FENNEC_SHAPE_MISMATCH == static_cast<int>(StatusCode::kShapeMismatch) &&
                  FENNEC_OUT_OF_MEMORY == static_cast<int>(StatusCode::kOutOfMemory) &&
                  FENNEC_NON_FINITE == static_cast<int>(StatusCode::kNonFinite) &&
                  FENNEC_FAILED_PRECONDITION == static_cast<int>(StatusCode::kFailedPrecondition) &&
                  FENNEC_CORRUPT_DATA == static_cast<int>(StatusCode::kCorruptData) &&
                  FENNEC_UNSUPPORTED == static_cast<int>(StatusCode::kUnsupported) &&
                  FENNEC_IO_ERROR == static_cast<int>(StatusCode::kIoError),
              "fennec_status must mirror fennec::StatusCode");
static_assert(FENNEC_ACT_IDENTITY == static_cast<int>(Activation::kIdentity) &&
                  FENNEC_ACT_SIGMOID == static_cast<int>(Activation::kSigmoid) &&
                  FENNEC_ACT_TANH == static_cast<int>(Activation::kTanh) &&
                  FENNEC_ACT_RELU == static_cast<int>(Activation::kRelu) &&
                  FENNEC_ACT_LEAKY_RELU == static_cast<int>(Activation::kLeakyRelu),
              "fennec_activation must mirror fennec::Activation");
// fennec_init_kind is InitKind shifted by one, so that a zeroed layer means "the default".
static_assert(FENNEC_INIT_ZEROS - 1 == static_cast<int>(InitKind::kZeros) &&
                  FENNEC_INIT_CONSTANT - 1 == static_cast<int>(InitKind::kConstant) &&
                  FENNEC_INIT_NORMAL - 1 == static_cast<int>(InitKind::kNormal) &&
                  FENNEC_INIT_UNIFORM - 1 == static_cast<int>(InitKind::kUniform) &&
                  FENNEC_INIT_XAVIER_NORMAL - 1 == static_cast<int>(InitKind::kXavierNormal) &&
                  FENNEC_INIT_XAVIER_UNIFORM - 1 == static_cast<int>(InitKind::kXavierUniform) &&
                  FENNEC_INIT_GLOROT_NORMAL - 1 == static_cast<int>(InitKind::kGlorotNormal) &&
                  FENNEC_INIT_GLOROT_UNIFORM - 1 == static_cast<int>(InitKind::kGlorotUniform) &&
                  FENNEC_INIT_HE_NORMAL - 1 == static_cast<int>(InitKind::kHeNormal) &&
                  FENNEC_INIT_HE_UNIFORM - 1 == static_cast<int>(InitKind::kHeUniform),
              "fennec_init_kind must be fennec::InitKind + 1");
static_assert(FENNEC_LOSS_SOFTMAX_CROSS_ENTROPY == static_cast<int>(Loss::kSoftmaxCrossEntropy) &&
                  FENNEC_LOSS_MSE == static_cast<int>(Loss::kMse) &&
                  FENNEC_LOSS_SIGMOID_BCE == static_cast<int>(Loss::kSigmoidBce),
              "fennec_loss must mirror fennec::Loss");
static_assert(FENNEC_MODE_INFERENCE == static_cast<int>(Mode::kInference) &&
                  FENNEC_MODE_TRAINING == static_cast<int>(Mode::kTraining),
              "fennec_mode must mirror fennec::Mode");
static_assert(FENNEC_OPT_SGD == static_cast<int>(OptimizerKind::kSgd) &&
                  FENNEC_OPT_MOMENTUM == static_cast<int>(OptimizerKind::kMomentum) &&
                  FENNEC_OPT_NESTEROV == static_cast<int>(OptimizerKind::kNesterov) &&
                  FENNEC_OPT_ADAGRAD == static_cast<int>(OptimizerKind::kAdaGrad) &&
                  FENNEC_OPT_RMSPROP == static_cast<int>(OptimizerKind::kRmsProp) &&
                  FENNEC_OPT_ADAM == static_cast<int>(OptimizerKind::kAdam) &&
                  FENNEC_OPT_ADAMW == static_cast<int>(OptimizerKind::kAdamW) &&
                  FENNEC_OPT_ADAMW + 1 == kOptimizerCount,
              "fennec_optimizer must mirror fennec::OptimizerKind");

Init to_init(const fennec_layer& l) {
  if (l.init == FENNEC_INIT_DEFAULT) return LayerSpec{}.init;
  Init init;
  init.kind = static_cast<InitKind>(l.init - 1);
  init.a = l.init_a;
  init.b = l.init_b;
  return init;
}

}  // namespace

fennec_status record(fennec_model* m, const Status& s) {
  if (!s.is_ok()) m->last_error = s;
  return to_c(s.code());
}

fennec_status report(fennec_error* error, const Status& s) {
  if (error != nullptr && !s.is_ok()) {
    error->code = static_cast<std::int32_t>(s.code());
    const char* message = s.message();
    std::size_t n = 0;
    for (; n + 1 < sizeof(error->message) && message[n] != '\0'; ++n) error->message[n] = message[n];
    error->message[n] = '\0';
  }
  return to_c(s.code());
}

Result<ModelSpec> to_spec(const fennec_network* network) {
  FENNEC_ENSURE(network != nullptr, StatusCode::kInvalidArgument, "network is NULL");
  FENNEC_ENSURE(network->num_layers >= 1 && network->num_layers <= kMaxLayers,
                StatusCode::kInvalidArgument, "network needs 1..%u layers, has %u", static_cast<unsigned>(kMaxLayers),
                static_cast<unsigned>(network->num_layers));
  ModelSpec spec(network->input);
  for (std::uint32_t i = 0; i < network->num_layers; ++i) {
    const fennec_layer& l = network->layers[i];
    ActivationSpec act;
    act.kind = static_cast<Activation>(l.activation);
    act.alpha = l.alpha;
    spec.dense(l.units, act, to_init(l));
  }
  spec.with_loss(static_cast<Loss>(network->loss));
  FENNEC_RETURN_IF_ERROR(validate(spec));
  return spec;
}

Result<ModelOptions> to_options(const fennec_options* options) {
  FENNEC_ENSURE(options != nullptr, StatusCode::kInvalidArgument, "options is NULL");
  ModelOptions o;
  o.mode = static_cast<Mode>(options->mode);
  o.max_batch = options->max_batch;
  // Inference plans carry no optimizer state: whatever the training part says is ignored.
  o.optimizer = o.mode == Mode::kTraining
                    ? static_cast<OptimizerKind>(options->training.optimizer.kind)
                    : OptimizerKind::kSgd;
  FENNEC_RETURN_IF_ERROR(validate(o));
  return o;
}

void to_network(const ModelSpec& spec, fennec_network* network) {
  std::memset(network, 0, sizeof(*network));
  network->input = spec.input;
  network->num_layers = spec.num_layers;
  network->loss = static_cast<std::int32_t>(spec.loss);
  for (std::uint32_t i = 0; i < spec.num_layers; ++i) {
    const LayerSpec& l = spec.layers[i];
    fennec_layer& out = network->layers[i];
    out.units = l.units;
    out.activation = static_cast<std::int32_t>(l.activation.kind);
    out.alpha = l.activation.alpha;
    out.init = static_cast<std::int32_t>(l.init.kind) + 1;
    out.init_a = l.init.a;
    out.init_b = l.init.b;
  }
}

Result<Targets> to_targets(const Model& model, std::size_t batch, const std::int32_t* labels,
                           const float* targets) {
  FENNEC_ENSURE((labels == nullptr) != (targets == nullptr), StatusCode::kInvalidArgument,
                "give exactly one of labels and targets");
  if (labels != nullptr) return Targets::classes(labels);
  return Targets::values(ConstMatrixView(targets, batch, model.spec().output()));
}

}  // namespace fennec::c_api

extern "C" const char* fennec_status_name(int32_t status) {
  return fennec::status_code_name(static_cast<fennec::StatusCode>(status));
}
