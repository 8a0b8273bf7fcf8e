// SPDX-License-Identifier: Apache-2.0
/* Model files through the C API: a trained model saved to bytes, its description read back to
 * size the buffer, loaded for inference (same outputs, bit for bit) and for more training; the
 * same through a path. */
#include <stdio.h>
#include <string.h>

#include "c_api_test_util.h"
#include "c_check.h"

static unsigned char g_train[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_infer[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_file[TEST_FILE_BYTES], g_file2[TEST_FILE_BYTES];

static int same_network(const fennec_network* a, const fennec_network* b) {
  uint32_t i;
  if (a->input != b->input || a->num_layers != b->num_layers || a->loss != b->loss) return 0;
  for (i = 0; i < a->num_layers; ++i)
    if (a->layers[i].units != b->layers[i].units || a->layers[i].activation != b->layers[i].activation)
      return 0;
  return 1;
}

static fennec_model* trained_xor(void) {
  const fennec_network net = xor_network();
  fennec_options opt;
  fennec_error err;
  fennec_model* model = NULL;
  size_t bytes = 0;
  int i;
  fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
  opt.training.optimizer.lr = 0.05;
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_train), bytes, &model, &err), FENNEC_OK, err.message);
  if (model == NULL) return NULL;
  C_CHECK_STATUS(fennec_init_parameters(model, 1), FENNEC_OK, "");
  for (i = 0; i < 300; ++i) fennec_train_step(model, kXorX, 4, kXorLabels, NULL, NULL);
  return model;
}

static void bytes_round_trip(void) {
  fennec_model* trained = trained_xor();
  fennec_model* loaded = NULL;
  fennec_network read, original;
  fennec_options opt;
  fennec_error err;
  fennec_eval_stats eval;
  float y1[8], y2[8];
  size_t n = 0, file_bytes = 0, bytes = 0, n2 = 0;
  if (trained == NULL) return;
  C_CHECK_STATUS(fennec_model_file_bytes(trained, &file_bytes), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_save(trained, g_file, sizeof(g_file), &n), FENNEC_OK, fennec_last_error(trained));
  C_CHECK(n == file_bytes && n == 40 + 24 * 2 + 4 * (2 * 8 + 8 + 8 * 2 + 2) + 4);

  /* The description sizes the buffer before anything is bound. */
  C_CHECK_STATUS(fennec_model_file_info(g_file, n, &read, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_get_network(trained, &original), FENNEC_OK, "");
  C_CHECK(same_network(&read, &original));
  C_CHECK(read.layers[0].init == FENNEC_INIT_XAVIER_NORMAL);
  fennec_options_inference(&opt, 4);
  C_CHECK_STATUS(fennec_arena_bytes(&read, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_load(g_file, n, &opt, test_aligned(g_infer), bytes, &loaded, &err), FENNEC_OK,
                 err.message);
  if (loaded == NULL) return;
  C_CHECK_STATUS(fennec_forward(trained, kXorX, 4, y1, 8), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_forward(loaded, kXorX, 4, y2, 8), FENNEC_OK, "");
  C_CHECK(memcmp(y1, y2, sizeof(y1)) == 0);
  C_CHECK_STATUS(fennec_evaluate(loaded, kXorX, 4, kXorLabels, NULL, &eval), FENNEC_OK, "");
  C_CHECK(eval.correct == 4);
  /* Saving the loaded model gives the same file, byte for byte. */
  C_CHECK_STATUS(fennec_save(loaded, g_file2, sizeof(g_file2), &n2), FENNEC_OK, "");
  C_CHECK(n2 == n && memcmp(g_file, g_file2, n) == 0);

  /* Loaded for training, it trains on (fine-tuning). */
  fennec_options_training(&opt, 4, FENNEC_OPT_SGD);
  C_CHECK_STATUS(fennec_arena_bytes(&read, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_load(g_file, n, &opt, test_aligned(g_infer), bytes, &loaded, &err), FENNEC_OK,
                 err.message);
  C_CHECK_STATUS(fennec_train_step(loaded, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_OK,
                 fennec_last_error(loaded));
}

static void path_round_trip(void) {
  fennec_model* trained = trained_xor();
  fennec_model* loaded = NULL;
  fennec_network read;
  fennec_options opt;
  fennec_error err;
  float y1[8], y2[8];
  size_t bytes = 0;
  char path[256];
  if (trained == NULL) return;
  sprintf(path, "%s", "fennec_c_api_test.fennec");
  C_CHECK_STATUS(fennec_save_path(trained, path), FENNEC_OK, fennec_last_error(trained));
  C_CHECK_STATUS(fennec_model_file_info_path(path, &read, &err), FENNEC_OK, err.message);
  fennec_options_inference(&opt, 4);
  C_CHECK_STATUS(fennec_arena_bytes(&read, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_load_path(path, &opt, test_aligned(g_infer), bytes - 1, &loaded, &err),
                 FENNEC_OUT_OF_MEMORY, "");
  C_CHECK(loaded == NULL);
  C_CHECK_STATUS(fennec_load_path(path, &opt, test_aligned(g_infer), bytes, &loaded, &err), FENNEC_OK,
                 err.message);
  if (loaded != NULL) {
    C_CHECK_STATUS(fennec_forward(trained, kXorX, 4, y1, 8), FENNEC_OK, "");
    C_CHECK_STATUS(fennec_forward(loaded, kXorX, 4, y2, 8), FENNEC_OK, "");
    C_CHECK(memcmp(y1, y2, sizeof(y1)) == 0);
  }
  C_CHECK_STATUS(fennec_load_path("no/such/dir/model.fennec", &opt, test_aligned(g_infer), bytes,
                                  &loaded, &err),
                 FENNEC_IO_ERROR, err.message);
  printf("missing file: %s\n", err.message);
  remove(path);
}

int test_model_file(void) {
  bytes_round_trip();
  path_round_trip();
  return 0;
}
