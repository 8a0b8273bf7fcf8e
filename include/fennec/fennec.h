// SPDX-License-Identifier: Apache-2.0
/* Fennec C API: MLPs trained and run in a fixed block of caller memory, from C99.
 *
 * A thin layer over the C++ library, compiled into it (link fennec::fennec). It allocates
 * nothing: a model handle lives at the start of the buffer the caller binds it to, followed by
 * the model's parameters, gradients, optimizer state and activations. The steps:
 *
 *   fennec_network net = {0};                      describe the network (zero = defaults)
 *   net.input = 2; net.num_layers = 2;
 *   net.layers[0].units = 8; net.layers[0].activation = FENNEC_ACT_TANH;
 *   net.layers[1].units = 2;                       identity logits, softmax cross-entropy
 *   fennec_options opt;
 *   fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);       or fennec_options_inference
 *   size_t bytes;
 *   fennec_arena_bytes(&net, &opt, &bytes, &err);  exact bytes for this network and options
 *   fennec_bind(&net, &opt, buffer, bytes, &model, &err);
 *   fennec_init_parameters(model, seed);
 *   fennec_train_step(model, x, batch, labels, NULL, &stats);   or fennec_forward
 *
 * Memory. `buffer` must stay valid and untouched while the model is used; nothing needs to be
 * released (there is no destroy call: reuse or drop the buffer). fennec_arena_bytes is exact for
 * a buffer aligned to FENNEC_ARENA_ALIGNMENT bytes; a less aligned one needs up to
 * FENNEC_ARENA_ALIGNMENT - 1 bytes more. No call touches the heap, the path calls included (they
 * use POSIX descriptors, not stdio). A failed bind or load creates no model but may have written
 * into its buffer: do not hand a live model's buffer to another bind while the model is needed.
 *
 * Errors. Every call returns a fennec_status (the codes of fennec::StatusCode). A failed call
 * changes nothing: weights, optimizer state and the step count are as before. Calls on a model
 * keep the message of its last failure for fennec_last_error(model); calls that create a model
 * write theirs into the caller's fennec_error (may be NULL). Builds with the CMake option
 * FENNEC_STRIP_ERROR_STRINGS carry no messages, for flash-tight targets: every message is then
 * the code's short name ("out_of_memory", ...).
 *
 * Builds. Inference-only builds (FENNEC_INFERENCE_ONLY, e.g. Cortex-M) have no training code:
 * fennec_optimizer_defaults, fennec_options_training, training options, fennec_train_step and
 * fennec_set_training return FENNEC_UNSUPPORTED. The
 * path functions need a file system and return FENNEC_UNSUPPORTED on such builds too.
 *
 * Enums. Fields and arguments the caller fills hold enum constants in an int32_t (named in a
 * comment): their size does not depend on the compiler's enum size (-fshort-enums, Keil, IAR),
 * and a value out of range is refused with FENNEC_INVALID_ARGUMENT rather than undefined.
 *
 * Threads: a model is not safe to use from two threads at once; distinct models are independent.
 */
#ifndef FENNEC_FENNEC_H
#define FENNEC_FENNEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FENNEC_MAX_LAYERS 32
#define FENNEC_ARENA_ALIGNMENT 64
/* Bytes of a message, terminating zero included. */
#if defined(FENNEC_STRIP_ERROR_STRINGS)
#define FENNEC_ERROR_MESSAGE_BYTES 24
#else
#define FENNEC_ERROR_MESSAGE_BYTES 200
#endif

/* The codes of fennec::StatusCode, same values. */
typedef enum fennec_status {
  FENNEC_OK = 0,
  FENNEC_INVALID_ARGUMENT = 1,    /* a width, hyper-parameter or option out of range */
  FENNEC_SHAPE_MISMATCH = 2,      /* a batch or buffer that does not fit the model */
  FENNEC_OUT_OF_MEMORY = 3,       /* the buffer is too small (the message says how many bytes) */
  FENNEC_NON_FINITE = 4,          /* NaN or Inf in a loss, a gradient norm or loaded data */
  FENNEC_FAILED_PRECONDITION = 5, /* wrong state, e.g. training an inference model */
  FENNEC_CORRUPT_DATA = 6,        /* malformed model file bytes */
  FENNEC_UNSUPPORTED = 7,         /* valid request this build cannot serve */
  FENNEC_IO_ERROR = 8             /* the operating system refused a read or write */
} fennec_status;

typedef enum fennec_activation {
  FENNEC_ACT_IDENTITY = 0,
  FENNEC_ACT_SIGMOID = 1,
  FENNEC_ACT_TANH = 2,
  FENNEC_ACT_RELU = 3,
  FENNEC_ACT_LEAKY_RELU = 4 /* negative slope: fennec_layer.alpha, in [0, 1) */
} fennec_activation;

/* Weight initialisers (fennec/init.hpp); biases start at zero. FENNEC_INIT_DEFAULT (what a
 * zeroed layer gets) is He normal. */
typedef enum fennec_init_kind {
  FENNEC_INIT_DEFAULT = 0,
  FENNEC_INIT_ZEROS = 1,
  FENNEC_INIT_CONSTANT = 2,       /* init_a */
  FENNEC_INIT_NORMAL = 3,         /* mean init_a, sigma init_b */
  FENNEC_INIT_UNIFORM = 4,        /* [init_a, init_b) */
  FENNEC_INIT_XAVIER_NORMAL = 5,  /* N(0, 1/fan_in) */
  FENNEC_INIT_XAVIER_UNIFORM = 6,
  FENNEC_INIT_GLOROT_NORMAL = 7,  /* N(0, 2/(fan_in+fan_out)) */
  FENNEC_INIT_GLOROT_UNIFORM = 8,
  FENNEC_INIT_HE_NORMAL = 9,      /* N(0, 2/fan_in) */
  FENNEC_INIT_HE_UNIFORM = 10
} fennec_init_kind;

typedef enum fennec_loss {
  FENNEC_LOSS_SOFTMAX_CROSS_ENTROPY = 0, /* targets: class labels or probabilities */
  FENNEC_LOSS_MSE = 1,
  FENNEC_LOSS_SIGMOID_BCE = 2            /* targets in [0, 1] */
} fennec_loss;

typedef enum fennec_mode {
  FENNEC_MODE_INFERENCE = 0, /* parameters and two activation buffers */
  FENNEC_MODE_TRAINING = 1   /* + gradients, optimizer state, every layer's output */
} fennec_mode;

typedef enum fennec_optimizer {
  FENNEC_OPT_SGD = 0,
  FENNEC_OPT_MOMENTUM = 1,
  FENNEC_OPT_NESTEROV = 2,
  FENNEC_OPT_ADAGRAD = 3,
  FENNEC_OPT_RMSPROP = 4,
  FENNEC_OPT_ADAM = 5,
  FENNEC_OPT_ADAMW = 6
} fennec_optimizer;

/* One fully-connected layer y = act(x W^T + b), W of shape (units, previous width). */
typedef struct fennec_layer {
  uint32_t units;
  int32_t activation;     /* fennec_activation */
  float alpha;            /* LeakyReLU only */
  int32_t init;           /* fennec_init_kind */
  float init_a, init_b;   /* see fennec_init_kind */
} fennec_layer;

typedef struct fennec_network {
  uint32_t input;         /* input width */
  uint32_t num_layers;    /* 1..FENNEC_MAX_LAYERS */
  fennec_layer layers[FENNEC_MAX_LAYERS];
  int32_t loss;           /* fennec_loss */
} fennec_network;

/* Update rules and defaults: fennec/optim.hpp. Start from fennec_optimizer_defaults. */
typedef struct fennec_optimizer_config {
  int32_t kind;           /* fennec_optimizer */
  double lr;
  double momentum;        /* momentum, nesterov */
  double rho;             /* rmsprop decay */
  double beta1, beta2;    /* adam, adamw */
  double eps;             /* adagrad, rmsprop, adam, adamw; 0: default (adagrad 1e-10, else 1e-8) */
  double weight_decay;    /* L2; decoupled for adamw */
} fennec_optimizer_config;

typedef struct fennec_training {
  fennec_optimizer_config optimizer;
  double clip_norm;       /* > 0: scale gradients to this global L2 norm at most; 0: off */
  double clip_value;      /* > 0: clamp each gradient to [-clip_value, clip_value]; 0: off */
} fennec_training;

typedef struct fennec_options {
  int32_t mode;             /* fennec_mode */
  uint32_t max_batch;       /* largest batch forward, step and evaluate will see */
  fennec_training training; /* training mode only; optimizer.kind sizes the arena */
} fennec_options;

typedef struct fennec_step_stats {
  double loss;            /* mean loss of the batch, before the update */
  double grad_norm;       /* global L2 gradient norm, before clipping */
} fennec_step_stats;

typedef struct fennec_eval_stats {
  double loss;            /* mean loss of the batch */
  size_t correct;         /* rows classified correctly */
} fennec_eval_stats;

/* Failure of a call that has no model yet (sizing, bind, load, reading a file's description). */
typedef struct fennec_error {
  int32_t code;           /* fennec_status */
  char message[FENNEC_ERROR_MESSAGE_BYTES];
} fennec_error;

/* Opaque; lives at the start of the bound buffer. */
typedef struct fennec_model fennec_model;

/* Short stable name of a code: "ok", "invalid_argument", ... (never NULL). */
const char* fennec_status_name(int32_t status);

/* ---- Describing options ------------------------------------------------------------------ */

/* The default hyper-parameters of `kind` (those of fennec::OptimizerConfig::defaults). */
fennec_status fennec_optimizer_defaults(int32_t kind, fennec_optimizer_config* out);
/* Inference with batches up to max_batch. */
fennec_status fennec_options_inference(fennec_options* out, uint32_t max_batch);
/* Training with `kind` at its default hyper-parameters, no clipping. */
fennec_status fennec_options_training(fennec_options* out, uint32_t max_batch, int32_t kind);

/* ---- Sizing and binding ------------------------------------------------------------------ */

/* Exact bytes fennec_bind takes for `network` and `options` from an aligned buffer (handle
 * included). Validates both as fennec_bind does. */
fennec_status fennec_arena_bytes(const fennec_network* network, const fennec_options* options,
                                 size_t* bytes, fennec_error* error);
/* Places a model in `buffer` (buffer_bytes long). FENNEC_OUT_OF_MEMORY when it is too small
 * (the message says how many bytes are needed). Parameters start at zero: call
 * fennec_init_parameters or load a model file. */
fennec_status fennec_bind(const fennec_network* network, const fennec_options* options,
                          void* buffer, size_t buffer_bytes, fennec_model** model,
                          fennec_error* error);
/* Each layer's weights from its initialiser, drawn from `seed` (the same bits on every
 * platform); biases, gradients and optimizer state zeroed; the step count back to 0. */
fennec_status fennec_init_parameters(fennec_model* model, uint64_t seed);

/* ---- Running ----------------------------------------------------------------------------- */

/* x: batch rows of the input width, row-major. y: room for y_count >= batch * output floats;
 * receives the last layer's output (logits for softmax cross-entropy and sigmoid BCE). */
fennec_status fennec_forward(fennec_model* model, const float* x, size_t batch, float* y,
                             size_t y_count);
/* Training models: forward, loss, backward, clipping and one optimizer update on one batch.
 * Targets: `labels` (batch class indices, softmax cross-entropy) or `targets` (batch x output
 * floats); exactly one is non-NULL. `stats` may be NULL. */
fennec_status fennec_train_step(fennec_model* model, const float* x, size_t batch,
                                const int32_t* labels, const float* targets,
                                fennec_step_stats* stats);
/* Loss and correct rows of one batch (targets as for fennec_train_step); any mode, no update. */
fennec_status fennec_evaluate(fennec_model* model, const float* x, size_t batch,
                              const int32_t* labels, const float* targets,
                              fennec_eval_stats* stats);
/* New hyper-parameters and clipping (e.g. a learning-rate schedule). The optimizer kind must be
 * the one the model was bound for; the step count and optimizer state carry on. */
fennec_status fennec_set_training(fennec_model* model, const fennec_training* training);

/* ---- Inspecting -------------------------------------------------------------------------- */

/* Message of the model's last failed call; "" if none failed. Valid until the next call on it. */
const char* fennec_last_error(const fennec_model* model);
fennec_status fennec_get_network(fennec_model* model, fennec_network* network);
/* Successful training steps since binding or fennec_init_parameters. */
fennec_status fennec_step_count(fennec_model* model, uint64_t* steps);

/* ---- Fennec model files (format: fennec/io.hpp) ------------------------------------------- */

/* The network a model file describes (header and size checked), e.g. to size the buffer with
 * fennec_arena_bytes before fennec_load. */
fennec_status fennec_model_file_info(const void* data, size_t size, fennec_network* network,
                                     fennec_error* error);
/* fennec_bind for the file's network, then its parameters (CRC checked before any is used). */
fennec_status fennec_load(const void* data, size_t size, const fennec_options* options,
                          void* buffer, size_t buffer_bytes, fennec_model** model,
                          fennec_error* error);
/* Bytes fennec_save writes for this model. */
fennec_status fennec_model_file_bytes(fennec_model* model, size_t* bytes);
/* Writes the model file into out[0..capacity); nothing is written when it does not fit
 * (FENNEC_OUT_OF_MEMORY). `written` may be NULL. */
fennec_status fennec_save(fennec_model* model, void* out, size_t capacity, size_t* written);

/* Where there is a file system. Saving is crash-safe (a temporary file renamed over `path`). */
fennec_status fennec_model_file_info_path(const char* path, fennec_network* network,
                                          fennec_error* error);
fennec_status fennec_load_path(const char* path, const fennec_options* options, void* buffer,
                               size_t buffer_bytes, fennec_model** model, fennec_error* error);
fennec_status fennec_save_path(fennec_model* model, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* FENNEC_FENNEC_H */
