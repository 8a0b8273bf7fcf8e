// SPDX-License-Identifier: Apache-2.0
/* No heap after setup: binding, initialising, training with every optimizer, running, evaluating,
 * saving to and loading from bytes and paths, changing hyper-parameters and every refused call
 * make zero calls to malloc and friends (counted by the allocation counter fennec-train uses too,
 * common/alloc_counter.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_api_test_util.h"
#include "c_check.h"
#include "common/alloc_counter.h"

static unsigned char g_buffer[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_buffer2[TEST_BUFFER_BYTES / 4 + FENNEC_ARENA_ALIGNMENT];
static unsigned char g_file[TEST_FILE_BYTES];

static void exercise(fennec_optimizer kind) {
  const fennec_network net = xor_network();
  fennec_options opt, inference;
  fennec_training training;
  fennec_error err;
  fennec_model *model = NULL, *loaded = NULL;
  fennec_network read;
  fennec_eval_stats eval;
  fennec_step_stats stats;
  float y[8];
  size_t bytes = 0, n = 0;
  int i;
  fennec_options_training(&opt, 4, kind);
  fennec_options_inference(&inference, 4);
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_buffer), bytes, &model, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_init_parameters(model, 3), FENNEC_OK, "");
  for (i = 0; i < 50; ++i) C_CHECK_STATUS(fennec_train_step(model, kXorX, 4, kXorLabels, NULL, &stats), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_forward(model, kXorX, 4, y, 8), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_evaluate(model, kXorX, 4, kXorLabels, NULL, &eval), FENNEC_OK, "");
  memset(&training, 0, sizeof(training));
  fennec_optimizer_defaults(kind, &training.optimizer);
  training.clip_norm = 1.0;
  training.clip_value = 0.5;
  C_CHECK_STATUS(fennec_set_training(model, &training), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_train_step(model, kXorX, 4, kXorLabels, NULL, &stats), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_save(model, g_file, sizeof(g_file), &n), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_model_file_info(g_file, n, &read, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_arena_bytes(&read, &inference, &bytes, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_load(g_file, n, &inference, test_aligned(g_buffer2), bytes, &loaded, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_forward(loaded, kXorX, 4, y, 8), FENNEC_OK, "");
  /* Files too: the library reads and writes them through POSIX descriptors, not stdio. */
  C_CHECK_STATUS(fennec_save_path(model, "fennec_c_api_no_heap.fennec"), FENNEC_OK, fennec_last_error(model));
  C_CHECK_STATUS(fennec_model_file_info_path("fennec_c_api_no_heap.fennec", &read, &err), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_load_path("fennec_c_api_no_heap.fennec", &inference, test_aligned(g_buffer2), bytes,
                                  &loaded, &err),
                 FENNEC_OK, err.message);
  C_CHECK_STATUS(fennec_load_path("no/such/file.fennec", &inference, test_aligned(g_buffer2), bytes, &loaded, &err),
                 FENNEC_IO_ERROR, "");
  /* Refusals format their messages without the heap too. */
  C_CHECK_STATUS(fennec_forward(loaded, kXorX, 9, y, 8), FENNEC_SHAPE_MISMATCH, "");
  C_CHECK_STATUS(fennec_train_step(loaded, kXorX, 4, kXorLabels, NULL, NULL), FENNEC_FAILED_PRECONDITION, "");
  g_file[n / 2] ^= 0xFF;
  C_CHECK_STATUS(fennec_load(g_file, n, &inference, test_aligned(g_buffer2), bytes, &loaded, &err),
                 FENNEC_CORRUPT_DATA, "");
  C_CHECK_STATUS(fennec_bind(&net, &opt, test_aligned(g_buffer), 100, &model, &err), FENNEC_OUT_OF_MEMORY, "");
}

int test_no_heap(void) {
  static const fennec_optimizer kinds[] = {FENNEC_OPT_SGD,     FENNEC_OPT_MOMENTUM, FENNEC_OPT_NESTEROV,
                                           FENNEC_OPT_ADAGRAD, FENNEC_OPT_RMSPROP,  FENNEC_OPT_ADAM,
                                           FENNEC_OPT_ADAMW};
  unsigned long calls;
  size_t k;
  if (!heap_counter_available()) {
    printf("SKIP no-heap check: the heap counter needs glibc without sanitizers\n");
    return 0;
  }
  /* Warm-up outside the count: stdout's buffer, the ISA choice (getenv). */
  printf("counting heap calls\n");
  exercise(FENNEC_OPT_SGD);
  /* The counter counts: a deliberate allocation shows up. */
  {
    void* volatile p; /* volatile: the compiler may not drop the malloc/free pair */
    heap_counter_start();
    p = malloc(16);
    calls = heap_counter_stop();
    free(p);
  }
  C_CHECK(calls == 1);
  heap_counter_start();
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); ++k) exercise(kinds[k]);
  calls = heap_counter_stop();
  remove("fennec_c_api_no_heap.fennec");
  C_CHECK(calls == 0);
  printf("heap calls during setup, training (7 optimizers), inference, model files and refusals: %lu\n", calls);
  return 0;
}
