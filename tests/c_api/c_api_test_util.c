// SPDX-License-Identifier: Apache-2.0
#include "c_api_test_util.h"

#include <string.h>

unsigned char* test_aligned(unsigned char* buffer) {
  const uintptr_t a = (uintptr_t)buffer;
  return buffer + (FENNEC_ARENA_ALIGNMENT - a % FENNEC_ARENA_ALIGNMENT) % FENNEC_ARENA_ALIGNMENT;
}

const float kXorX[8] = {0, 0, 0, 1, 1, 0, 1, 1};
const int32_t kXorLabels[4] = {0, 1, 1, 0};

fennec_network xor_network(void) {
  fennec_network net;
  memset(&net, 0, sizeof(net));
  net.input = 2;
  net.num_layers = 2;
  net.layers[0].units = 8;
  net.layers[0].activation = FENNEC_ACT_TANH;
  net.layers[0].init = FENNEC_INIT_XAVIER_NORMAL;
  net.layers[1].units = 2;
  net.layers[1].activation = FENNEC_ACT_IDENTITY;
  net.layers[1].init = FENNEC_INIT_XAVIER_NORMAL;
  net.loss = FENNEC_LOSS_SOFTMAX_CROSS_ENTROPY;
  return net;
}

/* xorshift32: the data must not depend on the C library's rand(). */
static uint32_t next(uint32_t* s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *s = x;
  return x;
}

static float uniform(uint32_t* s) { return (float)(next(s) >> 8) / 16777216.0f; }

void make_blobs(float* x, int32_t* labels, int rows, uint32_t seed) {
  static const float centres[BLOBS_CLASSES][BLOBS_FEATURES] = {
      {1.5f, 0.0f, -1.0f, 0.5f}, {-1.0f, 1.5f, 0.5f, -0.5f}, {0.0f, -1.5f, 1.0f, 1.0f}};
  uint32_t s = seed ? seed : 1u;
  int i, j;
  for (i = 0; i < rows; ++i) {
    const int c = i % BLOBS_CLASSES;
    labels[i] = c;
    for (j = 0; j < BLOBS_FEATURES; ++j) {
      /* Sum of three uniforms: roughly normal, sigma 0.5. */
      const float noise = (uniform(&s) + uniform(&s) + uniform(&s) - 1.5f);
      x[i * BLOBS_FEATURES + j] = centres[c][j] + noise;
    }
  }
}

fennec_network blobs_network(void) {
  fennec_network net;
  memset(&net, 0, sizeof(net));
  net.input = BLOBS_FEATURES;
  net.num_layers = 3;
  net.layers[0].units = 16;
  net.layers[0].activation = FENNEC_ACT_RELU;
  net.layers[1].units = 16;
  net.layers[1].activation = FENNEC_ACT_RELU;
  net.layers[2].units = BLOBS_CLASSES;
  net.layers[2].activation = FENNEC_ACT_IDENTITY;
  net.loss = FENNEC_LOSS_SOFTMAX_CROSS_ENTROPY;
  return net;
}

size_t file_parameters(const unsigned char* file, size_t file_bytes, float* out, size_t capacity) {
  /* Format (fennec/io.hpp): header_bytes at offset 12, parameters after it, CRC last. */
  uint32_t header = 0;
  size_t n, i;
  for (i = 0; i < 4; ++i) header |= (uint32_t)file[12 + i] << (8 * i);
  n = (file_bytes - header - 4) / 4;
  if (n > capacity) n = capacity;
  for (i = 0; i < n; ++i) {
    uint32_t u = 0;
    int k;
    for (k = 0; k < 4; ++k) u |= (uint32_t)file[header + 4 * i + k] << (8 * k);
    memcpy(&out[i], &u, sizeof(float));
  }
  return n;
}
