// SPDX-License-Identifier: Apache-2.0
/* The C API test program, compiled as C99 with -Wall -Wextra -pedantic -Werror. `fennec_c_api_tests
 * GROUP` runs one group (train, errors, model_file, no_heap; all without an argument) and returns
 * the number of failed checks. */
#include <stdio.h>
#include <string.h>

#include "c_api_test_util.h"
#include "c_check.h"

int c_check_passed = 0;
int c_check_failed = 0;

int main(int argc, char** argv) {
  static const struct {
    const char* name;
    int (*run)(void);
  } groups[] = {{"train", test_train},
                {"errors", test_errors},
                {"model_file", test_model_file},
                {"no_heap", test_no_heap}};
  size_t i;
  int ran = 0;
  for (i = 0; i < sizeof(groups) / sizeof(groups[0]); ++i) {
    if (argc > 1 && strcmp(argv[1], groups[i].name) != 0) continue;
    printf("== %s\n", groups[i].name);
    groups[i].run();
    ++ran;
  }
  if (ran == 0) {
    printf("unknown group %s\n", argv[1]);
    return 1;
  }
  printf("%d passed, %d failed\n", c_check_passed, c_check_failed);
  return c_check_failed;
}
