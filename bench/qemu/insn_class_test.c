// SPDX-License-Identifier: Apache-2.0
/* The plugin's classifier on disassembly as QEMU prints it (AArch64 decoder and capstone). */
#include <stdio.h>
#include <string.h>

#include "insn_class.h"

static int failures;

static void expect_class(const char* disas, enum insn_class want, int want_ldm) {
  const enum insn_class got = insn_classify(disas);
  const int ldm = insn_is_load_multiple(disas);
  if (got != want || ldm != want_ldm) {
    printf("FAIL class of '%s': %d (ldm %d), want %d (ldm %d)\n", disas, got, ldm, want, want_ldm);
    ++failures;
  }
}

static void expect_cycles(const char* disas, unsigned want) {
  const unsigned got = insn_cortex_m4_cycles(disas);
  if (got != want) {
    printf("FAIL cycles of '%s': %u, want %u\n", disas, got, want);
    ++failures;
  }
}

int main(void) {
  expect_class("fmla v0.4s, v8.4s, v16.s[1]", INSN_FMA, 0);
  expect_class("fmadd s0, s1, s2, s3", INSN_FMA, 0);
  expect_class("vfma.f32 q8, q9, q10", INSN_FMA, 0);
  expect_class("vmla.f32 s0, s1, s2", INSN_FMA, 0);
  expect_class("smlal r0, r1, r2, r3", INSN_FMA, 0);
  expect_class("ldp q0, q1, [x1], #0x20", INSN_LOAD, 1);
  expect_class("ld1 {v0.4s}, [x0]", INSN_LOAD, 0);
  expect_class("ldr.w sl, [pc, #0x18]", INSN_LOAD, 0);
  expect_class("vldmia r1!, {s8, s9, s10, s11}", INSN_LOAD, 1);
  expect_class("pop {r4, pc}", INSN_LOAD, 1);
  expect_class("str x0, [sp, #8]", INSN_STORE, 0);
  expect_class("vst1.32 {d16, d17}, [r0]", INSN_STORE, 0);
  expect_class("push.w {r7, fp, lr}", INSN_STORE, 0);
  expect_class("add x2, sp, #8", INSN_OTHER, 0);
  expect_class("  mul r0, r1, r2", INSN_OTHER, 0);
  expect_class("fmul v0.4s, v1.4s, v2.4s", INSN_OTHER, 0);

  expect_cycles("vfma.f32 s0, s1, s2", 3);
  expect_cycles("vadd.f32 s0, s1, s2", 1);
  expect_cycles("vsqrt.f32 s0, s1", 14);
  expect_cycles("vldmia r1!, {s8, s9, s10, s11}", 5);
  expect_cycles("vldmia r1!, {s8-s15}", 9);
  expect_cycles("vldmia r1!, {d8-d11}", 9);
  expect_cycles("vldr s0, [r1, #4]", 2);
  expect_cycles("ldr r0, [r1]", 2);
  expect_cycles("ldr.w r0, [r1, #0x100]", 2);
  expect_cycles("push {r4, r5, r6, lr}", 5);
  expect_cycles("pop {r4, pc}", 5);
  expect_cycles("bne #0x1234", 3);
  expect_cycles("bic r0, r0, #1", 1);
  expect_cycles("adds r0, #1", 1);
  expect_cycles("mla r0, r1, r2, r3", 2);
  expect_cycles("vmov r0, r1, d0", 2);
  expect_cycles("vmov s0, r1", 1);

  char m[16];
  insn_mnemonic("\tvldmia.w r0, {s0}", m, sizeof m);
  if (strcmp(m, "vldmia") != 0) {
    printf("FAIL mnemonic '%s'\n", m);
    ++failures;
  }
  printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
