// SPDX-License-Identifier: Apache-2.0
/* fennec_insn_count: a QEMU TCG plugin (API version 1) that counts executed guest instructions,
 * in total and by class (multiply-accumulate, load, store, multi-register load), optionally
 * inside one address range (a function from `nm -S`), optionally with a Cortex-M4 cycle
 * estimate, and with snapshots at marker instructions so a program can count its own regions.
 *
 * Arguments (-plugin libfennec_insn_count.so,arg=value,...):
 *   out=FILE        write the report to FILE (default: QEMU's log, i.e. stderr)
 *   range=LO-HI     also count instructions with LO <= address < HI (hex, e.g. from nm)
 *   range=LO+SIZE   the same, given the start and size that `nm -S` prints
 *   cost=cortex-m4  add an estimated cycle count (Cortex-M4 TRM instruction timings)
 *   mix=1           also count per mnemonic (a histogram in the report)
 * Markers: each execution of the marker instruction records a snapshot of every counter. The
 * marker is a register move to itself that compilers never emit: `mov x11, x11` (AArch64),
 * `mov r11, r11` (A32 or 16-bit Thumb). bench/qemu/insn_mark.h emits it.
 *
 * Report lines (one counter set per line, key=value):
 *   total insns=N fma=N load=N store=N ldm=N cycles=N
 *   range insns=N ...                    (with range=)
 *   mark I insns=N ...                   (cumulative counts when marker I executed)
 *   mix MNEMONIC N                       (with mix=1, most frequent first)
 * Counts are of instructions issued, conditional ones included, and are deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insn_class.h"
#include "qemu_plugin_api.h"

FENNEC_QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

enum { kInsns, kFma, kLoad, kStore, kLoadMultiple, kCycles, kCounters };
static const char* const kCounterNames[kCounters] = {"insns", "fma", "load", "store", "ldm", "cycles"};

typedef struct {
  uint64_t c[kCounters];
} counters;

static counters g_total, g_range;
static uint64_t g_range_lo, g_range_hi;
static int g_have_range, g_cost_m4, g_mix;
static FILE* g_out;

static counters* g_marks;
static size_t g_n_marks, g_cap_marks;

enum { kMaxMnemonics = 1024 };
static char g_mnemonic[kMaxMnemonics][16];
static uint64_t g_mnemonic_count[kMaxMnemonics];
static size_t g_n_mnemonics;

static int is_marker(const struct qemu_plugin_insn* insn, int aarch64) {
  const unsigned char* b = qemu_plugin_insn_data(insn);
  const size_t n = qemu_plugin_insn_size(insn);
  if (aarch64) return n == 4 && b[0] == 0xeb && b[1] == 0x03 && b[2] == 0x0b && b[3] == 0xaa;
  if (n == 2) return b[0] == 0xdb && b[1] == 0x46;
  return n == 4 && b[0] == 0x0b && b[1] == 0xb0 && b[2] == 0xa0 && b[3] == 0xe1;
}

static void on_marker(unsigned int vcpu, void* udata) {
  (void)vcpu;
  (void)udata;
  if (g_n_marks == g_cap_marks) {
    g_cap_marks = g_cap_marks ? 2 * g_cap_marks : 256;
    g_marks = realloc(g_marks, g_cap_marks * sizeof *g_marks);
    if (!g_marks) abort();
  }
  g_marks[g_n_marks++] = g_total;
}

static uint64_t* mnemonic_slot(const char* disas) {
  char m[16];
  insn_mnemonic(disas, m, sizeof m);
  for (size_t i = 0; i < g_n_mnemonics; ++i)
    if (strcmp(g_mnemonic[i], m) == 0) return &g_mnemonic_count[i];
  if (g_n_mnemonics == kMaxMnemonics) return NULL;
  strcpy(g_mnemonic[g_n_mnemonics], m);
  return &g_mnemonic_count[g_n_mnemonics++];
}

static int g_aarch64;

static void add_counts(struct qemu_plugin_insn* insn, counters* c, enum insn_class cls, int ldm,
                       unsigned cycles) {
  qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kInsns], 1);
  if (cls == INSN_FMA) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kFma], 1);
  if (cls == INSN_LOAD)
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kLoad], 1);
  if (cls == INSN_STORE)
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kStore], 1);
  if (ldm) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kLoadMultiple], 1);
  if (cycles)
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->c[kCycles], cycles);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    char* disas = qemu_plugin_insn_disas(insn);
    const char* d = disas ? disas : "";
    const enum insn_class cls = insn_classify(d);
    const int ldm = insn_is_load_multiple(d);
    const unsigned cycles = g_cost_m4 ? insn_cortex_m4_cycles(d) : 0;
    add_counts(insn, &g_total, cls, ldm, cycles);
    const uint64_t pc = qemu_plugin_insn_vaddr(insn);
    if (g_have_range && pc >= g_range_lo && pc < g_range_hi) add_counts(insn, &g_range, cls, ldm, cycles);
    if (g_mix) {
      uint64_t* slot = mnemonic_slot(d);
      if (slot) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, slot, 1);
    }
    if (is_marker(insn, g_aarch64))
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, NULL);
    free(disas);
  }
}

static void print_counters(const char* label, const counters* c) {
  fprintf(g_out, "%s", label);
  for (int k = 0; k < kCounters; ++k) {
    if (k == kCycles && !g_cost_m4) continue;
    fprintf(g_out, " %s=%llu", kCounterNames[k], (unsigned long long)c->c[k]);
  }
  fputc('\n', g_out);
}

static int by_count_desc(const void* a, const void* b) {
  const uint64_t x = g_mnemonic_count[*(const size_t*)a], y = g_mnemonic_count[*(const size_t*)b];
  return x < y ? 1 : x > y ? -1 : 0;
}

static void on_exit_report(qemu_plugin_id_t id, void* udata) {
  (void)id;
  (void)udata;
  print_counters("total", &g_total);
  if (g_have_range) print_counters("range", &g_range);
  for (size_t i = 0; i < g_n_marks; ++i) {
    char label[32];
    snprintf(label, sizeof label, "mark %zu", i);
    print_counters(label, &g_marks[i]);
  }
  if (g_mix) {
    size_t order[kMaxMnemonics];
    for (size_t i = 0; i < g_n_mnemonics; ++i) order[i] = i;
    qsort(order, g_n_mnemonics, sizeof order[0], by_count_desc);
    for (size_t i = 0; i < g_n_mnemonics && g_mnemonic_count[order[i]]; ++i)
      fprintf(g_out, "mix %s %llu\n", g_mnemonic[order[i]], (unsigned long long)g_mnemonic_count[order[i]]);
  }
  fflush(g_out);
  if (g_out != stderr) fclose(g_out);
}

static int parse_range(const char* v) {
  char* end = NULL;
  g_range_lo = strtoull(v, &end, 16);
  if (!end || (*end != '-' && *end != '+')) return -1;
  const char sep = *end;
  const uint64_t x = strtoull(end + 1, &end, 16);
  if (!end || *end) return -1;
  g_range_hi = sep == '+' ? g_range_lo + x : x;
  g_have_range = g_range_hi > g_range_lo;
  return g_have_range ? 0 : -1;
}

FENNEC_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                                  char** argv) {
  g_out = stderr;
  g_aarch64 = strcmp(info->target_name, "aarch64") == 0;
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    if (strncmp(a, "out=", 4) == 0) {
      g_out = fopen(a + 4, "w");
      if (!g_out) {
        fprintf(stderr, "fennec_insn_count: cannot open %s\n", a + 4);
        return -1;
      }
    } else if (strncmp(a, "range=", 6) == 0) {
      if (parse_range(a + 6) != 0) {
        fprintf(stderr, "fennec_insn_count: bad range '%s' (want LO-HI or LO+SIZE, hex)\n", a + 6);
        return -1;
      }
    } else if (strcmp(a, "cost=cortex-m4") == 0) {
      g_cost_m4 = 1;
    } else if (strcmp(a, "mix=1") == 0) {
      g_mix = 1;
    } else {
      fprintf(stderr, "fennec_insn_count: unknown argument '%s' (out=, range=, cost=cortex-m4, mix=1)\n", a);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
  return 0;
}
