// SPDX-License-Identifier: Apache-2.0
/* Example firmware in C: the 16-32-32-4 sensor classifier on a Cortex-M4F through the C API
 * (fennec/fennec.h), inference only.
 *
 * The weights come from the Fennec model file in flash (sensor_model_file, model_data.h, written
 * by gen_model.py --c): its description sizes the arena, fennec_load places the model handle and
 * the model in one static buffer, and every held-out case must give the float64 oracle's logits
 * within their float32 error bound and the right class. It also checks what this build refuses
 * (training, files, a buffer one byte short, a corrupted copy of the file) and that nothing
 * touches the heap (malloc is wrapped and counted). The harness prints "N passed, N failed" over
 * semihosting and returns the failure count, QEMU's exit code for CTest. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "c_check.h"
#include "fennec/fennec.h"
#include "model_data.h"

int c_check_passed = 0;
int c_check_failed = 0;

/* The handle and the model. fennec_arena_bytes gives the exact figure at run time (C has no
 * constexpr plan); this static size is checked against it below. The handle holds a Model,
 * whose per-layer batch-norm and dropout views (about 1 KiB on this target) it carries even for
 * a plain network. */
#define SENSOR_BUFFER_BYTES 10752
static unsigned char g_buffer[SENSOR_BUFFER_BYTES] __attribute__((aligned(FENNEC_ARENA_ALIGNMENT)));
/* RAM for a corrupted copy of the model file. */
static unsigned char g_file_copy[SENSOR_MODEL_FILE_BYTES];

/* Calls to malloc/calloc/realloc from any object linked with -Wl,--wrap=... */
static volatile unsigned g_heap_calls = 0;
void* __real_malloc(size_t n);
void* __real_calloc(size_t n, size_t s);
void* __real_realloc(void* p, size_t n);
void* __wrap_malloc(size_t n) {
  g_heap_calls = g_heap_calls + 1;
  return __real_malloc(n);
}
void* __wrap_calloc(size_t n, size_t s) {
  g_heap_calls = g_heap_calls + 1;
  return __real_calloc(n, s);
}
void* __wrap_realloc(void* p, size_t n) {
  g_heap_calls = g_heap_calls + 1;
  return __real_realloc(p, n);
}

/* Stack high-water mark: paint the stack below this frame, then see how deep the checks wrote. */
#define PAINT 0xDEADBEEFu
#define PAINT_WORDS 8192u
static __attribute__((noinline)) uint32_t* paint_stack(void) {
  uint32_t* sp;
  uint32_t* p;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (p = sp - PAINT_WORDS; p < sp - 16; ++p) *p = PAINT;
  return sp;
}
static size_t stack_used(const uint32_t* top) {
  const uint32_t* p = top - PAINT_WORDS;
  while (p < top && *p == PAINT) ++p;
  return (size_t)(top - p) * sizeof(uint32_t);
}

static long micro(float v) { return (long)(v * 1e6f); } /* nano printf has no %f */

static void check_cases(fennec_model* model) {
  int i, j;
  for (i = 0; i < SENSOR_NUM_CASES; ++i) {
    float logits[SENSOR_CLASSES];
    int best = 0;
    C_CHECK_STATUS(fennec_forward(model, sensor_inputs + i * SENSOR_INPUTS, 1, logits, SENSOR_CLASSES),
                   FENNEC_OK, fennec_last_error(model));
    for (j = 0; j < SENSOR_CLASSES; ++j) {
      const float want = sensor_expected_logits[i * SENSOR_CLASSES + j];
      const float tol = sensor_logit_tolerance[i * SENSOR_CLASSES + j];
      const float d = logits[j] > want ? logits[j] - want : want - logits[j];
      C_CHECK(d <= tol); /* NaN fails */
      if (!(d <= tol))
        printf("  case %d logit %d: got %ld, want %ld, tol %ld (1e-6 units)\n", i, j, micro(logits[j]),
               micro(want), micro(tol));
      if (logits[j] > logits[best]) best = j;
    }
    C_CHECK(best == sensor_labels[i]);
  }
}

static void run_checks(void) {
  fennec_network net;
  fennec_options opt;
  fennec_error err;
  fennec_model* model = NULL;
  fennec_eval_stats eval;
  size_t bytes = 0;

  /* 1. The file's description sizes the arena: batch-1 inference. */
  C_CHECK_STATUS(fennec_model_file_info(sensor_model_file, SENSOR_MODEL_FILE_BYTES, &net, &err), FENNEC_OK,
                 err.message);
  C_CHECK(net.input == SENSOR_INPUTS && net.num_layers == 3 && net.layers[2].units == SENSOR_CLASSES);
  C_CHECK_STATUS(fennec_options_inference(&opt, 1), FENNEC_OK, "");
  C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
  C_CHECK(bytes <= sizeof(g_buffer));
  printf("C API: arena %u bytes (handle and model) of a %u-byte buffer\n", (unsigned)bytes,
         (unsigned)sizeof(g_buffer));
  if (bytes > sizeof(g_buffer)) return;

  /* 2. This build is inference only and has no file system: said so, nothing half-built. */
  {
    fennec_options training = opt;
    training.mode = FENNEC_MODE_TRAINING;
    C_CHECK_STATUS(fennec_options_training(&training, 1, FENNEC_OPT_SGD), FENNEC_UNSUPPORTED, "");
    training.mode = FENNEC_MODE_TRAINING;
    C_CHECK_STATUS(fennec_arena_bytes(&net, &training, &bytes, &err), FENNEC_UNSUPPORTED, "");
    C_CHECK_STATUS(fennec_load(sensor_model_file, SENSOR_MODEL_FILE_BYTES, &training, g_buffer,
                               sizeof(g_buffer), &model, &err),
                   FENNEC_UNSUPPORTED, "");
    C_CHECK(model == NULL && err.code == FENNEC_UNSUPPORTED);
    printf("training options: %s\n", err.message);
    C_CHECK_STATUS(fennec_load_path("model.fennec", &opt, g_buffer, sizeof(g_buffer), &model, &err),
                   FENNEC_UNSUPPORTED, "");
    C_CHECK(model == NULL);
    C_CHECK_STATUS(fennec_arena_bytes(&net, &opt, &bytes, &err), FENNEC_OK, err.message);
  }

  /* 3. One byte short: refused with the bytes needed. */
  C_CHECK_STATUS(fennec_load(sensor_model_file, SENSOR_MODEL_FILE_BYTES, &opt, g_buffer, bytes - 1, &model,
                             &err),
                 FENNEC_OUT_OF_MEMORY, "");
  C_CHECK(model == NULL);
#if defined(FENNEC_STRIP_ERROR_STRINGS)
  /* Built without messages: each is its code's short name. */
  C_CHECK(strcmp(err.message, "out_of_memory") == 0);
#else
  C_CHECK(strstr(err.message, "need ") != NULL);
#endif
  printf("buffer one byte short: %s\n", err.message);

  /* 4. A corrupted RAM copy of the file (a weight byte inverted) is refused. */
  memcpy(g_file_copy, sensor_model_file, SENSOR_MODEL_FILE_BYTES);
  g_file_copy[SENSOR_MODEL_FILE_BYTES / 2] ^= 0xFFu;
  C_CHECK_STATUS(fennec_load(g_file_copy, SENSOR_MODEL_FILE_BYTES, &opt, g_buffer, bytes, &model, &err),
                 FENNEC_CORRUPT_DATA, "");
  C_CHECK(model == NULL);

  /* 5. Loaded in place from flash into exactly `bytes`, every case checked. */
  C_CHECK_STATUS(fennec_load(sensor_model_file, SENSOR_MODEL_FILE_BYTES, &opt, g_buffer, bytes, &model, &err),
                 FENNEC_OK, err.message);
  if (model == NULL) return;
  check_cases(model);
  C_CHECK_STATUS(fennec_evaluate(model, sensor_inputs, 1, sensor_labels, NULL, &eval), FENNEC_OK,
                 fennec_last_error(model));
  C_CHECK(eval.correct == 1);

  /* 6. Refusals on the live model leave it working; its messages are kept. */
  {
    float y[2 * SENSOR_CLASSES];
    C_CHECK_STATUS(fennec_forward(model, sensor_inputs, 2, y, 2 * SENSOR_CLASSES), FENNEC_SHAPE_MISMATCH, "");
    C_CHECK(fennec_last_error(model)[0] != '\0');
    C_CHECK_STATUS(fennec_train_step(model, sensor_inputs, 1, sensor_labels, NULL, NULL), FENNEC_UNSUPPORTED, "");
    printf("train_step: %s\n", fennec_last_error(model));
#if defined(FENNEC_STRIP_ERROR_STRINGS)
    C_CHECK(strcmp(fennec_last_error(model), "unsupported") == 0);
#else
    C_CHECK(strstr(fennec_last_error(model), "inference-only") != NULL);
#endif
    check_cases(model);
  }
}

int main(void) {
  const uint32_t* top;
  unsigned heap_before;
  size_t stack;
  printf("fennec cortex-m4 C example: 16-32-32-4 sensor classifier through fennec.h\n");
  top = paint_stack();
  heap_before = g_heap_calls;
  run_checks();
  stack = stack_used(top);
  C_CHECK(g_heap_calls == heap_before);
  printf("stack used by the checks: %u bytes\n", (unsigned)stack);
  printf("%d passed, %d failed\n", c_check_passed, c_check_failed);
  return c_check_failed;
}
