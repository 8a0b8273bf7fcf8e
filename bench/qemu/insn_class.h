// SPDX-License-Identifier: Apache-2.0
/* Instruction classes and Cortex-M4 cycle estimates from a disassembled mnemonic, for the counting
 * plugin (and its host test). Host C, no QEMU dependency. */
#ifndef FENNEC_INSN_CLASS_H
#define FENNEC_INSN_CLASS_H

#include <stddef.h>

enum insn_class {
  INSN_OTHER = 0,
  INSN_FMA,   /* multiply-accumulate: fmla/fmadd/vfma/vmla/mla/smlal/sdot... */
  INSN_LOAD,  /* any load, single or multiple register */
  INSN_STORE, /* any store */
};

/* The class of an instruction from its disassembly ("vfma.f32 s0, s1, s2", "ldp q0, q1, [x0]"). */
enum insn_class insn_classify(const char* disas);
/* A load of several registers in one instruction: ldm/vldm/pop/vpop/ldp/ldnp/ldrd. */
int insn_is_load_multiple(const char* disas);
/* Estimated issue cycles on a Cortex-M4F, from the Cortex-M4 TRM's instruction timing tables
 * (processor instructions, and the FPU's): an estimate that ignores load pipelining, wait
 * states and taken/untaken branches (every branch is 1+P with P = 2). */
unsigned insn_cortex_m4_cycles(const char* disas);
/* Copies the mnemonic (the first word of disas, without a condition or size suffix after '.')
 * into out; returns its length. */
size_t insn_mnemonic(const char* disas, char* out, size_t cap);

#endif
