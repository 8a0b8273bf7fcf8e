// SPDX-License-Identifier: Apache-2.0
/* Smoke test of the installed package from C: the C API header, XOR trained in a static buffer. */
#include <stdio.h>
#include <string.h>

#include <fennec/fennec.h>

static unsigned char g_buffer[16384];

int main(void) {
  static const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  static const int32_t y[4] = {0, 1, 1, 0};
  fennec_network net;
  fennec_options opt;
  fennec_error err;
  fennec_model* model = NULL;
  fennec_eval_stats eval;
  int i;
  memset(&net, 0, sizeof(net));
  net.input = 2;
  net.num_layers = 2;
  net.layers[0].units = 8;
  net.layers[0].activation = FENNEC_ACT_TANH;
  net.layers[0].init = FENNEC_INIT_XAVIER_NORMAL;
  net.layers[1].units = 2;
  net.layers[1].init = FENNEC_INIT_XAVIER_NORMAL;
  fennec_options_training(&opt, 4, FENNEC_OPT_ADAM);
  opt.training.optimizer.lr = 0.05;
  if (fennec_bind(&net, &opt, g_buffer, sizeof(g_buffer), &model, &err) != FENNEC_OK)
    return printf("bind: %s\n", err.message), 1;
  if (fennec_init_parameters(model, 1) != FENNEC_OK) return 1;
  for (i = 0; i < 500; ++i)
    if (fennec_train_step(model, x, 4, y, NULL, NULL) != FENNEC_OK) return 1;
  if (fennec_evaluate(model, x, 4, y, NULL, &eval) != FENNEC_OK) return 1;
  printf("installed fennec from C: XOR %u/4 correct\n", (unsigned)eval.correct);
  return eval.correct == 4 ? 0 : 1;
}
