// SPDX-License-Identifier: Apache-2.0
/* Instruction classes by mnemonic prefix. The disassembly comes from QEMU (its own decoder for
 * AArch64, capstone for 32-bit ARM and Thumb), lower case, mnemonic first. */
#include "insn_class.h"

#include <ctype.h>
#include <string.h>

static const char* skip_space(const char* s) {
  while (*s == ' ' || *s == '\t') ++s;
  return s;
}

size_t insn_mnemonic(const char* disas, char* out, size_t cap) {
  const char* s = skip_space(disas);
  size_t n = 0;
  while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '.' && n + 1 < cap) {
    out[n] = s[n];
    ++n;
  }
  out[n] = '\0';
  return n;
}

static int has_prefix(const char* s, const char* const* prefixes) {
  for (; *prefixes; ++prefixes)
    if (strncmp(s, *prefixes, strlen(*prefixes)) == 0) return 1;
  return 0;
}

/* Multiply-accumulate forms, AArch64 and AArch32 (integer ones count: they are the MAC of int
 * kernels). Prefixes: "fmla" also covers fmlal, "vmla" vmlal, "smla" smlal/smlabb/smlad. */
static const char* const kFma[] = {"fmla", "fmls", "fmadd", "fmsub", "fnmadd", "fnmsub", "sdot", "udot",
                                   "usdot", "sudot", "bfdot", "bfmmla", "bfmlal", "smmla", "ummla", "usmmla",
                                   "madd", "msub", "smaddl", "umaddl", "smsubl", "umsubl", "vfma", "vfms",
                                   "vfnma", "vfnms", "vmla", "vmls", "vnmla", "vnmls", "vqdmlal", "vqdmlsl",
                                   "vsdot", "vudot", "vqrdmlah", "sqdmlal", "sqdmlsl", "sqrdmlah", "mla",
                                   "mls", "smla", "smls", "umla", "umaal", NULL};
static const char* const kLoad[] = {"ld", "vld", "pop", "vpop", NULL};
static const char* const kStore[] = {"st", "vst", "push", "vpush", NULL};
static const char* const kLoadMultiple[] = {"ldm", "vldm", "pop", "vpop", "ldp", "ldnp", "ldrd", NULL};

enum insn_class insn_classify(const char* disas) {
  const char* s = skip_space(disas);
  if (has_prefix(s, kFma)) return INSN_FMA;
  if (has_prefix(s, kLoad)) return INSN_LOAD;
  if (has_prefix(s, kStore)) return INSN_STORE;
  return INSN_OTHER;
}

int insn_is_load_multiple(const char* disas) { return has_prefix(skip_space(disas), kLoadMultiple); }

/* One register name of a list ("r4", "s17", "lr"): its number (-1 for a named one). */
static long reg_number(const char** s) {
  while (isalpha((unsigned char)**s)) ++*s;
  if (!isdigit((unsigned char)**s)) return -1;
  long n = 0;
  while (isdigit((unsigned char)**s)) n = n * 10 + (*(*s)++ - '0');
  return n;
}

/* Words moved by a register list "{r4, r5, lr}", "{s0-s7}", "{d8-d11}" (a d register is two). */
static unsigned list_words(const char* disas) {
  const char* s = strchr(disas, '{');
  if (!s) return 1;
  unsigned words = 0;
  ++s;
  while (*s && *s != '}') {
    s = skip_space(s);
    const char kind = *s;
    if (!isalpha((unsigned char)kind)) break;
    const long first = reg_number(&s);
    long last = first;
    if (*s == '-') {
      ++s;
      last = reg_number(&s);
    }
    const unsigned regs = (first >= 0 && last >= first) ? (unsigned)(last - first + 1) : 1u;
    words += kind == 'd' ? 2 * regs : regs;
    while (*s && *s != ',' && *s != '}') ++s;
    if (*s == ',') ++s;
  }
  return words ? words : 1;
}

static int is(const char* m, const char* name) { return strcmp(m, name) == 0; }

unsigned insn_cortex_m4_cycles(const char* disas) {
  char m[32];
  insn_mnemonic(disas, m, sizeof m);
  /* Strip the Thumb-2 width qualifier ("ldr.w" is already cut at '.'). */
  /* FPU (Cortex-M4 TRM, FPU instruction timing). */
  if (m[0] == 'v') {
    if (has_prefix(m, (const char* const[]){"vfma", "vfms", "vfnma", "vfnms", "vmla", "vmls", "vnmla", "vnmls", NULL}))
      return 3;
    if (is(m, "vdiv") || is(m, "vsqrt")) return 14;
    if (is(m, "vldr") || is(m, "vstr")) return 2;
    if (has_prefix(m, (const char* const[]){"vldm", "vstm", "vpush", "vpop", NULL})) return 1 + list_words(disas);
    if (is(m, "vmov") && strchr(disas, ',') != strrchr(disas, ',')) return 2; /* two core registers */
    return 1; /* vadd vsub vmul vnmul vabs vneg vcmp vcvt vmov vmrs vmsr */
  }
  /* Processor instructions (Cortex-M4 TRM, instruction set summary). */
  if (has_prefix(m, (const char* const[]){"ldm", "stm", "push", "pop", NULL})) {
    const unsigned n = list_words(disas);
    return 1 + n + (strstr(disas, "pc") ? 2u : 0u);
  }
  if (is(m, "ldrd") || is(m, "strd")) return 3;
  if (has_prefix(m, kLoad) || has_prefix(m, kStore)) return 2;
  if (is(m, "mla") || is(m, "mls")) return 2;
  if (is(m, "sdiv") || is(m, "udiv")) return 7; /* 2 to 12 */
  if (m[0] == 'b' && (m[1] == '\0' || is(m, "bl") || is(m, "bx") || is(m, "blx") ||
                      (strlen(m) == 3 && !is(m, "bic") && !is(m, "bfi") && !is(m, "bfc"))))
    return 3; /* b, bl, bx, blx, b<cond>: 1 + P */
  if (is(m, "cbz") || is(m, "cbnz")) return 3;
  return 1;
}
