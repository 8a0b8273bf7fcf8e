// SPDX-License-Identifier: Apache-2.0
/* A marker instruction for the counting plugin (insn_count.c): each execution makes the plugin
 * snapshot its counters. A register moved to itself, which no compiler emits. Usable from C and
 * C++ on AArch64, A32 and Thumb; a no-op on other targets (and outside the plugin). */
#ifndef FENNEC_INSN_MARK_H
#define FENNEC_INSN_MARK_H

#if defined(__aarch64__)
#define FENNEC_INSN_MARK() __asm__ volatile("mov x11, x11" ::: "memory")
#elif defined(__thumb__)
#define FENNEC_INSN_MARK() __asm__ volatile(".inst.n 0x46db" ::: "memory") /* mov r11, r11 */
#elif defined(__arm__)
#define FENNEC_INSN_MARK() __asm__ volatile(".inst 0xe1a0b00b" ::: "memory") /* mov r11, r11 */
#else
#define FENNEC_INSN_MARK() __asm__ volatile("" ::: "memory")
#endif

#endif
