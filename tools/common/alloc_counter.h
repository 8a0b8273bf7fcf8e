/* SPDX-License-Identifier: Apache-2.0 */
/* The allocation counter of alloc_counter.hpp for C programs (the C API tests): the same
 * counting, through alloc_counter.cpp linked into the program. */
#ifndef FENNEC_TOOLS_ALLOC_COUNTER_H
#define FENNEC_TOOLS_ALLOC_COUNTER_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when malloc-level calls are counted (glibc without sanitizers), else 0. */
int heap_counter_available(void);
void heap_counter_start(void);
/* Calls counted since heap_counter_start. */
unsigned long heap_counter_stop(void);

#ifdef __cplusplus
}
#endif

#endif
