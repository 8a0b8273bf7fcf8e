// SPDX-License-Identifier: Apache-2.0
/* A minimal check harness for C programs (the host C API tests and the Cortex-M4 C firmware):
 * each failed check prints its expression and location; the program returns the failure count. */
#ifndef FENNEC_TESTS_C_CHECK_H
#define FENNEC_TESTS_C_CHECK_H

#include <stdio.h>

extern int c_check_passed;
extern int c_check_failed;

#define C_CHECK(cond)                                                        \
  do {                                                                       \
    if (cond) {                                                              \
      ++c_check_passed;                                                      \
    } else {                                                                 \
      ++c_check_failed;                                                      \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
    }                                                                        \
  } while (0)

/* A call expected to return `want`; on a mismatch also prints the code and message seen. */
#define C_CHECK_STATUS(call, want, message)                                  \
  do {                                                                       \
    const fennec_status c_check_got_ = (call);                               \
    if (c_check_got_ == (want)) {                                            \
      ++c_check_passed;                                                      \
    } else {                                                                 \
      ++c_check_failed;                                                      \
      printf("FAIL %s:%d: %s returned %s, want %s (%s)\n", __FILE__, __LINE__, #call, \
             fennec_status_name(c_check_got_), fennec_status_name(want), (message)); \
    }                                                                        \
  } while (0)

#endif
