// SPDX-License-Identifier: Apache-2.0
/* Fennec from C: train XOR, save the model file to a byte array, load it for inference.
 *
 * Everything lives in two static buffers: the C API allocates nothing. Each call returns a
 * fennec_status; on failure, fennec_last_error(model) (or the fennec_error of a call that creates
 * a model) says why, e.g. "buffer too small: need 5632 bytes (...), have 4096".
 *
 * Build: part of the normal build (build/release/examples/fennec_c_xor); in your own project,
 * compile as C99 and link fennec::fennec (see examples/consumer/). */
#include <stdio.h>
#include <string.h>

#include <fennec/fennec.h>

static unsigned char g_train_buffer[16384];
static unsigned char g_infer_buffer[8192];
static unsigned char g_model_file[1024];

static int fail(const char* what, fennec_status s, const char* message) {
  fprintf(stderr, "%s: %s: %s\n", what, fennec_status_name(s), message);
  return 1;
}

int main(void) {
  static const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  static const int32_t labels[4] = {0, 1, 1, 0};
  fennec_network net;
  fennec_options opt;
  fennec_error err;
  fennec_model *model = NULL, *loaded = NULL;
  fennec_step_stats stats;
  fennec_eval_stats eval;
  float logits[8];
  size_t bytes = 0, file_bytes = 0;
  fennec_status s;
  int i;

  /* 2 inputs -> 8 tanh -> 2 logits, softmax cross-entropy. A zeroed description means defaults
   * (He-normal weights, identity activation, softmax cross-entropy). */
  memset(&net, 0, sizeof(net));
  net.input = 2;
  net.num_layers = 2;
  net.layers[0].units = 8;
  net.layers[0].activation = FENNEC_ACT_TANH;
  net.layers[0].init = FENNEC_INIT_XAVIER_NORMAL;
  net.layers[1].units = 2;
  net.layers[1].init = FENNEC_INIT_XAVIER_NORMAL;

  /* Training with Adam (lr 0.05), batches of up to 4 rows; the query gives the exact bytes. */
  fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
  opt.training.optimizer.lr = 0.05;
  s = fennec_arena_bytes(&net, &opt, &bytes, &err);
  if (s != FENNEC_OK) return fail("arena_bytes", s, err.message);
  s = fennec_bind(&net, &opt, g_train_buffer, sizeof(g_train_buffer), &model, &err);
  if (s != FENNEC_OK) return fail("bind", s, err.message);
  s = fennec_init_parameters(model, 1);
  if (s != FENNEC_OK) return fail("init", s, fennec_last_error(model));

  for (i = 0; i < 500; ++i) {
    s = fennec_train_step(model, x, 4, labels, NULL, &stats);
    if (s != FENNEC_OK) return fail("train_step", s, fennec_last_error(model));
    if (i % 100 == 0) printf("step %3d: loss %.4f\n", i, stats.loss);
  }

  /* Save to bytes (flash, a file, a radio link...), then load for inference: the file's
   * description sizes the second buffer. */
  s = fennec_save(model, g_model_file, sizeof(g_model_file), &file_bytes);
  if (s != FENNEC_OK) return fail("save", s, fennec_last_error(model));
  s = fennec_model_file_info(g_model_file, file_bytes, &net, &err);
  if (s != FENNEC_OK) return fail("model_file_info", s, err.message);
  fennec_options_inference(&opt, 4);
  s = fennec_arena_bytes(&net, &opt, &bytes, &err);
  if (s != FENNEC_OK) return fail("arena_bytes", s, err.message);
  s = fennec_load(g_model_file, file_bytes, &opt, g_infer_buffer, sizeof(g_infer_buffer), &loaded, &err);
  if (s != FENNEC_OK) return fail("load", s, err.message);

  s = fennec_forward(loaded, x, 4, logits, 8);
  if (s != FENNEC_OK) return fail("forward", s, fennec_last_error(loaded));
  for (i = 0; i < 4; ++i)
    printf("%g xor %g -> class %d\n", x[2 * i], x[2 * i + 1], logits[2 * i + 1] > logits[2 * i]);
  s = fennec_evaluate(loaded, x, 4, labels, NULL, &eval);
  if (s != FENNEC_OK) return fail("evaluate", s, fennec_last_error(loaded));
  printf("model file %u bytes, inference arena %u bytes, %u/4 correct\n", (unsigned)file_bytes,
         (unsigned)bytes, (unsigned)eval.correct);
  return eval.correct == 4 ? 0 : 1;
}
