// SPDX-License-Identifier: Apache-2.0
/* Training through the C API: XOR (class labels and dense BCE targets), a three-class classifier
 * with every optimizer, gradient clipping checked against the parameter update it produced, and a
 * learning-rate change mid-run. */
#include <math.h>
#include <string.h>

#include "c_api_test_util.h"
#include "c_check.h"

static unsigned char g_buffer[TEST_BUFFER_BYTES + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_file[TEST_FILE_BYTES];
static float g_before[4096], g_after[4096];

static fennec_model* bind_training(const fennec_network* net, uint32_t batch, fennec_optimizer kind,
                                   double lr, uint64_t seed) {
  fennec_options opt;
  fennec_model* model = NULL;
  fennec_error err;
  size_t bytes = 0;
  C_CHECK_STATUS(fennec_options_training(&opt, batch, kind), FENNEC_OK, "");
  opt.training.optimizer.lr = lr;
  C_CHECK_STATUS(fennec_arena_bytes(net, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK(bytes <= TEST_BUFFER_BYTES);
  C_CHECK_STATUS(fennec_bind(net, &opt, test_aligned(g_buffer), bytes, &model, &err), FENNEC_OK,
                 err.message);
  if (model != NULL) C_CHECK_STATUS(fennec_init_parameters(model, seed), FENNEC_OK, fennec_last_error(model));
  return model;
}

static void xor_learns_with_labels(void) {
  const fennec_network net = xor_network();
  fennec_model* model = bind_training(&net, 4, FENNEC_OPT_ADAM, 0.05, 1);
  fennec_step_stats first, stats;
  fennec_eval_stats eval;
  float logits[8];
  uint64_t steps = 0;
  int i;
  if (model == NULL) return;
  C_CHECK_STATUS(fennec_train_step(model, kXorX, 4, kXorLabels, NULL, &first), FENNEC_OK,
                 fennec_last_error(model));
  for (i = 1; i < 500; ++i)
    if (fennec_train_step(model, kXorX, 4, kXorLabels, NULL, &stats) != FENNEC_OK) break;
  C_CHECK(i == 500);
  C_CHECK_STATUS(fennec_step_count(model, &steps), FENNEC_OK, "");
  C_CHECK(steps == 500);
  C_CHECK_STATUS(fennec_evaluate(model, kXorX, 4, kXorLabels, NULL, &eval), FENNEC_OK,
                 fennec_last_error(model));
  C_CHECK(eval.correct == 4);
  C_CHECK(eval.loss < 0.05 && eval.loss < first.loss / 10);
  C_CHECK_STATUS(fennec_forward(model, kXorX, 4, logits, 8), FENNEC_OK, fennec_last_error(model));
  for (i = 0; i < 4; ++i) C_CHECK((logits[2 * i + 1] > logits[2 * i]) == (kXorLabels[i] == 1));
  printf("xor (adam, labels): loss %.4f -> %.5f, %u/4 correct\n", first.loss, eval.loss,
         (unsigned)eval.correct);
}

static void xor_learns_with_bce_targets(void) {
  static const float targets[4] = {0, 1, 1, 0};
  fennec_network net = xor_network();
  fennec_model* model;
  fennec_eval_stats eval;
  int i;
  net.layers[1].units = 1;
  net.loss = FENNEC_LOSS_SIGMOID_BCE;
  model = bind_training(&net, 4, FENNEC_OPT_RMSPROP, 0.02, 3);
  if (model == NULL) return;
  for (i = 0; i < 600; ++i)
    if (fennec_train_step(model, kXorX, 4, NULL, targets, NULL) != FENNEC_OK) break;
  C_CHECK(i == 600);
  C_CHECK_STATUS(fennec_evaluate(model, kXorX, 4, NULL, targets, &eval), FENNEC_OK,
                 fennec_last_error(model));
  C_CHECK(eval.correct == 4);
  C_CHECK(eval.loss < 0.1);
  printf("xor (rmsprop, sigmoid BCE targets): loss %.5f, %u/4 correct\n", eval.loss, (unsigned)eval.correct);
}

static void classifier_learns_with_every_optimizer(void) {
  static const struct {
    fennec_optimizer kind;
    double lr;
    const char* name;
  } cases[] = {{FENNEC_OPT_SGD, 0.1, "sgd"},          {FENNEC_OPT_MOMENTUM, 0.05, "momentum"},
               {FENNEC_OPT_NESTEROV, 0.05, "nesterov"}, {FENNEC_OPT_ADAGRAD, 0.05, "adagrad"},
               {FENNEC_OPT_RMSPROP, 0.005, "rmsprop"},  {FENNEC_OPT_ADAM, 0.01, "adam"},
               {FENNEC_OPT_ADAMW, 0.01, "adamw"}};
  static float train_x[BLOBS_TRAIN * BLOBS_FEATURES], test_x[BLOBS_TEST * BLOBS_FEATURES];
  static int32_t train_y[BLOBS_TRAIN], test_y[BLOBS_TEST];
  const fennec_network net = blobs_network();
  size_t c;
  make_blobs(train_x, train_y, BLOBS_TRAIN, 11);
  make_blobs(test_x, test_y, BLOBS_TEST, 12);
  for (c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c) {
    fennec_model* model = bind_training(&net, BLOBS_TRAIN, cases[c].kind, cases[c].lr, 5);
    fennec_step_stats first, stats;
    fennec_eval_stats eval;
    int i;
    if (model == NULL) continue;
    C_CHECK_STATUS(fennec_train_step(model, train_x, BLOBS_TRAIN, train_y, NULL, &first), FENNEC_OK,
                   fennec_last_error(model));
    for (i = 1; i < 300; ++i)
      if (fennec_train_step(model, train_x, BLOBS_TRAIN, train_y, NULL, &stats) != FENNEC_OK) break;
    C_CHECK(i == 300);
    C_CHECK_STATUS(fennec_evaluate(model, test_x, BLOBS_TEST, test_y, NULL, &eval), FENNEC_OK,
                   fennec_last_error(model));
    /* Held-out rows: the classes are well separated (centres > 2 sigma apart per feature). */
    C_CHECK(eval.correct >= 86);
    C_CHECK(stats.loss < first.loss / 4);
    printf("blobs (%s): train loss %.4f -> %.4f, held-out %u/%d correct\n", cases[c].name,
           first.loss, stats.loss, (unsigned)eval.correct, BLOBS_TEST);
    if (eval.correct < 86) printf("  (%s did not learn)\n", cases[c].name);
  }
}

/* One SGD step with lr 1 moves the parameters by exactly minus the (clipped) gradient. */
static void clipping_bounds_the_update(void) {
  static float x[BLOBS_TRAIN * BLOBS_FEATURES];
  static int32_t y[BLOBS_TRAIN];
  const fennec_network net = blobs_network();
  const struct {
    double norm, value;
  } clips[] = {{0.0, 0.0}, {0.01, 0.0}, {0.0, 0.001}};
  size_t c;
  make_blobs(x, y, BLOBS_TRAIN, 21);
  for (c = 0; c < 3; ++c) {
    fennec_model* model = bind_training(&net, BLOBS_TRAIN, FENNEC_OPT_SGD, 1.0, 9);
    fennec_training training;
    fennec_step_stats stats;
    size_t n, i, written = 0;
    double norm2 = 0.0, largest = 0.0, widest = 0.0, rounding;
    if (model == NULL) continue;
    memset(&training, 0, sizeof(training));
    C_CHECK_STATUS(fennec_optimizer_defaults(FENNEC_OPT_SGD, &training.optimizer), FENNEC_OK, "");
    training.optimizer.lr = 1.0;
    training.clip_norm = clips[c].norm;
    training.clip_value = clips[c].value;
    C_CHECK_STATUS(fennec_set_training(model, &training), FENNEC_OK, fennec_last_error(model));
    C_CHECK_STATUS(fennec_save(model, g_file, sizeof(g_file), &written), FENNEC_OK, fennec_last_error(model));
    n = file_parameters(g_file, written, g_before, 4096);
    C_CHECK_STATUS(fennec_train_step(model, x, BLOBS_TRAIN, y, NULL, &stats), FENNEC_OK,
                   fennec_last_error(model));
    C_CHECK_STATUS(fennec_save(model, g_file, sizeof(g_file), &written), FENNEC_OK, fennec_last_error(model));
    C_CHECK(file_parameters(g_file, written, g_after, 4096) == n);
    for (i = 0; i < n; ++i) {
      const double d = (double)g_before[i] - (double)g_after[i];
      norm2 += d * d;
      if (fabs(d) > largest) largest = fabs(d);
      if (fabs(g_after[i]) > widest) widest = fabs(g_after[i]);
    }
    /* before - after recovers the update up to the rounding of the float store: half an ulp of
     * the new weight, at most 2^-24 |w|, per parameter. */
    rounding = ldexp(widest, -24);
    if (clips[c].norm > 0) {
      /* PyTorch's rule: scale by max_norm / (norm + 1e-6) when the norm exceeds max_norm. */
      C_CHECK(stats.grad_norm > 10 * clips[c].norm);
      C_CHECK(fabs(sqrt(norm2) - clips[c].norm) <= 1e-4 * clips[c].norm + sqrt((double)n) * rounding);
    } else if (clips[c].value > 0) {
      C_CHECK(largest <= clips[c].value * (1 + 1e-6) + rounding);
      C_CHECK(largest >= clips[c].value * (1 - 1e-6) - rounding);
    } else {
      C_CHECK(fabs(sqrt(norm2) - stats.grad_norm) <= 1e-4 * stats.grad_norm + sqrt((double)n) * rounding);
    }
    printf("clip norm %g value %g: gradient norm %.4f, update norm %.5f, largest %.5f\n",
           clips[c].norm, clips[c].value, stats.grad_norm, sqrt(norm2), largest);
  }
}

static void learning_rate_change_keeps_the_step_count(void) {
  const fennec_network net = xor_network();
  fennec_model* model = bind_training(&net, 4, FENNEC_OPT_ADAM, 0.05, 1);
  fennec_training training;
  uint64_t steps = 0;
  int i;
  if (model == NULL) return;
  for (i = 0; i < 10; ++i) C_CHECK_STATUS(fennec_train_step(model, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK, "");
  memset(&training, 0, sizeof(training));
  C_CHECK_STATUS(fennec_optimizer_defaults(FENNEC_OPT_ADAM, &training.optimizer), FENNEC_OK, "");
  training.optimizer.lr = 0.01;
  C_CHECK_STATUS(fennec_set_training(model, &training), FENNEC_OK, fennec_last_error(model));
  C_CHECK_STATUS(fennec_step_count(model, &steps), FENNEC_OK, "");
  C_CHECK(steps == 10);
  C_CHECK_STATUS(fennec_init_parameters(model, 2), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_step_count(model, &steps), FENNEC_OK, "");
  C_CHECK(steps == 0);
}

int test_train(void) {
  xor_learns_with_labels();
  xor_learns_with_bce_targets();
  classifier_learns_with_every_optimizer();
  clipping_bounds_the_update();
  learning_rate_change_keeps_the_step_count();
  return 0;
}
