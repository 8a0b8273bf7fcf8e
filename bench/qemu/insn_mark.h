// SPDX-License-Identifier: Apache-2.0
/* A marker instruction for the counting plugin (insn_count.c): each execution makes the plugin
 * snapshot its counters. A register moved to itself, which no compiler emits. Usable from C and
 * C++ on AArch64, A32 and Thumb; a no-op on other targets (and outside the plugin).
 *
 * On 32-bit ARM the marker sits in a small function of its own, aligned to 64 bytes: qemu-arm
 * (7.2) drops the plugin's callback on a marker whose translation block is cut short by the end
 * of a 4 KiB page (seen as a marker at page end - 4 that never reported), and where the
 * marker lands depends on the code around it. In its own aligned function the marker and its
 * return are one block far from any page end. The call costs the same few instructions in
 * every counted window, so count.py's difference of two windows cancels it. */
#ifndef FENNEC_INSN_MARK_H
#define FENNEC_INSN_MARK_H

#if defined(__aarch64__)
#define FENNEC_INSN_MARK() __asm__ volatile("mov x11, x11" ::: "memory")
#elif defined(__thumb__) || defined(__arm__)
__attribute__((noinline, aligned(64), unused)) static void fennec_insn_mark(void) {
#if defined(__thumb__)
  __asm__ volatile(".inst.n 0x46db" ::: "memory"); /* mov r11, r11 */
#else
  __asm__ volatile(".inst 0xe1a0b00b" ::: "memory"); /* mov r11, r11 */
#endif
}
#define FENNEC_INSN_MARK() fennec_insn_mark()
#else
#define FENNEC_INSN_MARK() __asm__ volatile("" ::: "memory")
#endif

#endif
