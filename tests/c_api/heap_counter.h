// SPDX-License-Identifier: Apache-2.0
/* Counts calls to the C heap (malloc, calloc, realloc, aligned_alloc, posix_memalign, memalign)
 * made by anything in the process while counting is on. On glibc without sanitizers the test
 * binary replaces those functions with counting wrappers over glibc's own (__libc_malloc...);
 * elsewhere heap_counter_available() is 0 and the no-heap checks are reported as skipped. */
#ifndef FENNEC_TESTS_HEAP_COUNTER_H
#define FENNEC_TESTS_HEAP_COUNTER_H

int heap_counter_available(void);
void heap_counter_start(void);
/* Calls counted since heap_counter_start. */
unsigned long heap_counter_stop(void);

#endif
