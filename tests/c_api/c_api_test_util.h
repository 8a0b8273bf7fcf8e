// SPDX-License-Identifier: Apache-2.0
/* Shared by the C API tests: aligned views of static buffers, the XOR and three-class data sets,
 * the networks trained on them, and reading parameters back out of a saved model file. */
#ifndef FENNEC_TESTS_C_API_TEST_UTIL_H
#define FENNEC_TESTS_C_API_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "fennec/fennec.h"

/* Largest model any test binds (bytes), and room for its model file. */
#define TEST_BUFFER_BYTES (1u << 20)
#define TEST_FILE_BYTES (1u << 16)

/* The first FENNEC_ARENA_ALIGNMENT-aligned byte of `buffer` (which has that much slack). */
unsigned char* test_aligned(unsigned char* buffer);

/* XOR: 4 rows of 2 inputs, class labels and one-hot rows. */
extern const float kXorX[8];
extern const int32_t kXorLabels[4];
/* 2-8-2, tanh hidden layer (Xavier normal), identity logits, softmax cross-entropy. */
fennec_network xor_network(void);

/* Three classes of 4-feature points around separated centres, deterministic. */
#define BLOBS_FEATURES 4
#define BLOBS_CLASSES 3
#define BLOBS_TRAIN 150
#define BLOBS_TEST 90
void make_blobs(float* x, int32_t* labels, int rows, uint32_t seed);
/* 4-16-16-3 ReLU, ReLU, identity logits, softmax cross-entropy. */
fennec_network blobs_network(void);

/* The parameters of a saved model file (after its header), as floats. */
size_t file_parameters(const unsigned char* file, size_t file_bytes, float* out, size_t capacity);

int test_train(void);
int test_errors(void);
int test_model_file(void);
int test_no_heap(void);

#endif
