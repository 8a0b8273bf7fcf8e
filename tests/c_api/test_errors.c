// SPDX-License-Identifier: Apache-2.0
/* Error paths of the C API: each bad input gets its code and a message, and a failed call
 * changes nothing (no model is created; a live model's weights, optimizer state and step count
 * are as before, shown by a twin model that never saw the failed call). */
#include <math.h>
#include <string.h>

#include "c_api_test_util.h"
#include "c_check.h"

static unsigned char g_a[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_b[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_file_a[TEST_FILE_BYTES], g_file_b[TEST_FILE_BYTES], g_file_c[TEST_FILE_BYTES];

/* A sentinel no call may overwrite when it fails (never dereferenced). */
static fennec_model* const kUntouched = (fennec_model*)&g_file_c[8];
/* Zeroed, suitably aligned memory that is not a handle. */
static uint64_t g_stray[64];

static int contains(const char* text, const char* part) { return strstr(text, part) != NULL; }

static void bad_networks_are_refused(void) {
  fennec_options opt;
  fennec_network net;
  fennec_error err;
  fennec_model* model = kUntouched;
  size_t bytes = 12345;
  fennec_options_inference(&opt, 1);

  net = xor_network();
  net.layers[0].units = 0;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(err.code == FENNEC_INVALID_ARGUMENT && contains(err.message, "width"));
  C_CHECK(bytes == 12345);
  C_CHECK_STATUS(fennec_bind(&net, &opt, g_a, sizeof(g_a), &model, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(model == kUntouched);
  printf("zero-width layer: %s\n", err.message);

  net = xor_network();
  net.input = 0;
  C_CHECK_STATUS(fennec_bind(&net, &opt, g_a, sizeof(g_a), &model, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(contains(err.message, "input width"));
  net = xor_network();
  net.layers[1].units = (1u << 20) + 1;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.num_layers = 0;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net.num_layers = FENNEC_MAX_LAYERS + 1;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.layers[0].activation = 99;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.layers[0].activation = FENNEC_ACT_LEAKY_RELU;
  net.layers[0].alpha = 1.5f;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.layers[1].units = 1; /* softmax cross-entropy needs two classes */
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.layers[1].init = -3;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.layers[1].init = FENNEC_INIT_HE_UNIFORM + 1;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  net = xor_network();
  net.loss = 7;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(bytes == 12345);
  C_CHECK_STATUS(fennec_arena_bytes(NULL, &opt, &bytes, NULL), FENNEC_INVALID_ARGUMENT, "");

  net = xor_network();
  opt.max_batch = 0;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(contains(err.message, "max_batch"));
  opt.max_batch = 1;
  opt.mode = 3;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  opt.mode = -1;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
}

static void small_buffers_are_refused_with_the_bytes_needed(void) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  fennec_model* model = kUntouched;
  size_t bytes = 0;
  char need[64];
  unsigned char* aligned = test_aligned(g_a);
  fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);

  C_CHECK_STATUS(fennec_bind(&net, &opt, aligned, bytes - 1, &model, &err), FENNEC_OUT_OF_MEMORY, "");
  C_CHECK(err.code == FENNEC_OUT_OF_MEMORY);
  sprintf(need, "need %lu bytes", (unsigned long)bytes);
  C_CHECK(contains(err.message, need));
  C_CHECK(model == kUntouched);
  printf("buffer one byte short: %s\n", err.message);

  /* Misaligned by one byte: the exact figure plus the alignment slack. */
  C_CHECK_STATUS(fennec_bind(&net, &opt, aligned + 1, bytes, &model, &err), FENNEC_OUT_OF_MEMORY, "");
  sprintf(need, "need %lu bytes", (unsigned long)(bytes + FENNEC_ARENA_ALIGNMENT - 1));
  C_CHECK(contains(err.message, need));
  C_CHECK(model == kUntouched);
  C_CHECK_STATUS(fennec_bind(&net, &opt, aligned + 1, bytes + FENNEC_ARENA_ALIGNMENT - 1, &model, &err),
                 FENNEC_OK, err.message);
  C_CHECK(model != kUntouched);

  model = kUntouched;
  C_CHECK_STATUS(fennec_bind(&net, &opt, aligned, bytes, &model, &err), FENNEC_OK, err.message);
  C_CHECK(model != kUntouched);
  C_CHECK_STATUS(fennec_bind(&net, &opt, NULL, bytes, &model, NULL), FENNEC_INVALID_ARGUMENT, "");
}

/* Two models from the same seed; `a` sees the failed calls, `b` does not. */
static void twins(fennec_model** a, fennec_model** b, fennec_optimizer kind) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  size_t bytes = 0;
  fennec_options_training(&opt, 4, kind);
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_a), bytes, a, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_b), bytes, b, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_init_parameters(*a, 17), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_init_parameters(*b, 17), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_train_step(*a, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_train_step(*b, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK, "");
}

/* Both twins take one more step and must come out bit for bit equal, step counts included. */
static void twins_agree(fennec_model* a, fennec_model* b) {
  size_t na = 0, nb = 0;
  uint64_t sa = 0, sb = 0;
  C_CHECK_STATUS(fennec_train_step(a, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK, fennec_last_error(a));
  C_CHECK_STATUS(fennec_train_step(b, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK, fennec_last_error(b));
  C_CHECK_STATUS(fennec_save(a, g_file_a, sizeof(g_file_a), &na), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_save(b, g_file_b, sizeof(g_file_b), &nb), FENNEC_OK, "");
  C_CHECK(na == nb && memcmp(g_file_a, g_file_b, na) == 0);
  C_CHECK_STATUS(fennec_step_count(a, &sa), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_step_count(b, &sb), FENNEC_OK, "");
  C_CHECK(sa == 2 && sb == 2);
}

static void bad_hyper_parameters_are_refused(void) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  fennec_model *a = NULL, *b = NULL, *model = kUntouched;
  fennec_training bad;
  size_t bytes = 0;
  int i;

  /* At bind. */
  for (i = 0; i < 7; ++i) {
    fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
    switch (i) {
      case 0: opt.training.optimizer.lr = -0.1; break;
      case 1: opt.training.optimizer.lr = 0.0; break;
      case 2: opt.training.optimizer.lr = sqrt(-1.0); break;
      case 3: opt.training.optimizer.beta1 = 1.0; break;
      case 4: opt.training.optimizer.eps = -1e-8; break; /* 0 means the optimizer's default */
      case 5: opt.training.clip_norm = -1.0; break;
      default: opt.training.optimizer.weight_decay = -0.5; break;
    }
    C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
    C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_a), bytes, &model, &err), FENNEC_INVALID_ARGUMENT, "");
    C_CHECK(model == kUntouched && err.message[0] != '\0');
  }
  fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
  opt.training.optimizer.lr = -0.1;
  fennec_bind(&net, &opt, test_aligned(g_a), bytes, &model, &err);
  printf("bind with lr -0.1: %s\n", err.message);
  C_CHECK(contains(err.message, "learning rate"));
  opt.training.optimizer.kind = 9;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_options_training(&opt, 4, 9), FENNEC_INVALID_ARGUMENT, "");

  /* On a live model: refused, and the model trains on exactly as before. */
  twins(&a, &b, FENNEC_OPT_MOMENTUM);
  memset(&bad, 0, sizeof(bad));
  C_CHECK_STATUS(fennec_optimizer_defaults(FENNEC_OPT_MOMENTUM, &bad.optimizer), FENNEC_OK, "");
  bad.optimizer.momentum = 1.5;
  C_CHECK_STATUS(fennec_set_training(a, &bad), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(contains(fennec_last_error(a), "momentum"));
  printf("set_training with momentum 1.5: %s\n", fennec_last_error(a));
  bad.optimizer.momentum = 0.9;
  bad.clip_value = sqrt(-1.0);
  C_CHECK_STATUS(fennec_set_training(a, &bad), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_optimizer_defaults(FENNEC_OPT_ADAM, &bad.optimizer), FENNEC_OK, "");
  bad.clip_value = 0;
  C_CHECK_STATUS(fennec_set_training(a, &bad), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(contains(fennec_last_error(a), "planned for"));
  C_CHECK_STATUS(fennec_set_training(a, NULL), FENNEC_INVALID_ARGUMENT, "");
  twins_agree(a, b);
}

static void bad_batches_and_targets_change_nothing(void) {
  static const float nan_x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  float x[8], y[8];
  int32_t labels[4] = {0, 1, 2, 0}; /* class 2 of 2 */
  fennec_model *a = NULL, *b = NULL;
  memcpy(x, nan_x, sizeof(x));
  twins(&a, &b, FENNEC_OPT_ADAM);

  C_CHECK_STATUS(fennec_train_step(a, kXorX, 4, labels, NULL, NULL), FENNEC_INVALID_ARGUMENT, "");
  printf("label out of range: %s\n", fennec_last_error(a));
  x[3] = sqrt(-1.0);
  C_CHECK_STATUS(fennec_train_step(a, x, 4, kXorLabels, NULL, NULL), FENNEC_NON_FINITE, "");
  C_CHECK(contains(fennec_last_error(a), "NaN"));
  C_CHECK_STATUS(fennec_train_step(a, kXorX, 5, kXorLabels, NULL, NULL), FENNEC_SHAPE_MISMATCH, "");
  C_CHECK_STATUS(fennec_train_step(a, kXorX, 0, kXorLabels, NULL, NULL), FENNEC_SHAPE_MISMATCH, "");
  C_CHECK_STATUS(fennec_train_step(a, kXorX, 4, NULL, NULL, NULL), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_train_step(a, kXorX, 4, kXorLabels, y, NULL), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_train_step(a, NULL, 4, kXorLabels, NULL, NULL), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_forward(a, kXorX, 5, y, 10), FENNEC_SHAPE_MISMATCH, "");
  C_CHECK_STATUS(fennec_forward(a, kXorX, 4, y, 7), FENNEC_SHAPE_MISMATCH, "");
  C_CHECK(contains(fennec_last_error(a), "needs 8"));
  C_CHECK_STATUS(fennec_forward(a, kXorX, 4, NULL, 8), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_evaluate(a, kXorX, 4, labels, NULL, NULL), FENNEC_INVALID_ARGUMENT, "");
  twins_agree(a, b);

  C_CHECK_STATUS(fennec_train_step(NULL, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK_STATUS(fennec_forward((fennec_model*)g_stray, kXorX, 4, y, 8), FENNEC_INVALID_ARGUMENT, "");
  C_CHECK(strcmp(fennec_last_error(NULL), "not a fennec model handle") == 0);
}

static void inference_models_refuse_training(void) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  fennec_model* model = NULL;
  fennec_training training;
  size_t bytes = 0;
  fennec_options_inference(&opt, 4);
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_a), bytes, &model, &err), FENNEC_OK, err.message);
  C_CHECK(strcmp(fennec_last_error(model), "") == 0);
  C_CHECK_STATUS(fennec_train_step(model, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_FAILED_PRECONDITION, "");
  memset(&training, 0, sizeof(training));
  fennec_optimizer_defaults(FENNEC_OPT_SGD, &training.optimizer);
  C_CHECK_STATUS(fennec_set_training(model, &training), FENNEC_FAILED_PRECONDITION, "");
  C_CHECK(contains(fennec_last_error(model), "inference"));
}

static void corrupt_model_files_are_refused(void) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  fennec_network read;
  fennec_model *a = NULL, *b = NULL, *model = kUntouched;
  size_t n = 0, bytes = 0, i;
  const size_t offsets[] = {0, 12, 16, 40, 44, 100, 0}; /* the last: the CRC */
  twins(&a, &b, FENNEC_OPT_SGD);
  C_CHECK_STATUS(fennec_save(a, g_file_a, sizeof(g_file_a), &n), FENNEC_OK, "");
  fennec_options_inference(&opt, 4);
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, "");

  for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); ++i) {
    const size_t at = i + 1 == sizeof(offsets) / sizeof(offsets[0]) ? n - 1 : offsets[i];
    memcpy(g_file_c, g_file_a, n);
    g_file_c[at] ^= 0xFF;
    C_CHECK_STATUS(fennec_load(g_file_c, n, &opt, test_aligned(g_b), bytes, &model, &err),
                   FENNEC_CORRUPT_DATA, err.message);
    C_CHECK(err.code == FENNEC_CORRUPT_DATA && model == kUntouched);
  }
  printf("flipped CRC byte: %s\n", err.message);
  /* A version from the future is a valid file this library cannot read. */
  memcpy(g_file_c, g_file_a, n);
  g_file_c[9] ^= 0xFF;
  C_CHECK_STATUS(fennec_load(g_file_c, n, &opt, test_aligned(g_b), bytes, &model, &err), FENNEC_UNSUPPORTED,
                 err.message);
  C_CHECK_STATUS(fennec_load(g_file_a, n - 1, &opt, test_aligned(g_b), bytes, &model, &err),
                 FENNEC_CORRUPT_DATA, "");
  C_CHECK_STATUS(fennec_model_file_info(g_file_a, n - 1, &read, &err), FENNEC_CORRUPT_DATA, "");
  memcpy(g_file_c, g_file_a, n);
  g_file_c[0] = 'X';
  C_CHECK_STATUS(fennec_model_file_info(g_file_c, n, &read, &err), FENNEC_CORRUPT_DATA, "");
  C_CHECK(model == kUntouched);
  /* The intact file still loads, into a buffer the exact size of the query. */
  C_CHECK_STATUS(fennec_load(g_file_a, n, &opt, test_aligned(g_b), bytes - 1, &model, &err),
                 FENNEC_OUT_OF_MEMORY, "");
  C_CHECK_STATUS(fennec_load(g_file_a, n, &opt, test_aligned(g_b), bytes, &model, &err), FENNEC_OK,
                 err.message);
  C_CHECK(model != kUntouched);
  /* Saving into a short buffer writes nothing. */
  memset(g_file_c, 0xA5, sizeof(g_file_c));
  C_CHECK_STATUS(fennec_save(a, g_file_c, n - 1, NULL), FENNEC_OUT_OF_MEMORY, "");
  C_CHECK(g_file_c[0] == 0xA5 && g_file_c[n - 2] == 0xA5);
}

int test_errors(void) {
  bad_networks_are_refused();
  small_buffers_are_refused_with_the_bytes_needed();
  bad_hyper_parameters_are_refused();
  bad_batches_and_targets_change_nothing();
  inference_models_refuse_training();
  corrupt_model_files_are_refused();
  return 0;
}
