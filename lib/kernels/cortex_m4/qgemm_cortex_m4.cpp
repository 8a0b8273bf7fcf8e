// SPDX-License-Identifier: Apache-2.0
// Cortex-M4 int8 GEMM (see qgemm_cortex_m4.hpp) on the DSP extension: a word of 4 int8 is
// unpacked by SXTB16 (bytes 0 and 2 as two int16) and SXTB16 ROR #8 (bytes 1 and 3), and two
// SMLADs make its 4 multiply-adds into an exact int32 accumulator. Every output then goes through
// qgemm_store's arithmetic (in 32-bit steps where the shift allows), so the results are the bits of
// qgemm_scalar: integer sums do not depend on order.
//
// Two micro-kernels, in inline assembly (GCC 12 does not fold a rotate into SXTB16, which costs
// an instruction per word):
//   row   (batches below kPackMinRows): one row of x, unpacked once per word and shared by 4 rows
//         of w, each w word unpacked where it is used: per 32 MACs 10 loads, 20 SXTB16, 16 SMLAD
//         and 2 loop = 48 (1.5). Every weight is used once at batch 1, so its two unpacks and
//         two SMLADs (1.0 per MAC) are the floor of any SXTB16 kernel there.
//   packed (larger batches): 4 rows of w over up to kChunkK columns unpacked once into a stack
//         buffer, in the order the loop reads them (14.5 instructions per word of the 4 rows),
//         then every row of x streamed against it: per 128 MACs 8 loads + 16 SXTB16 of x, 16
//         LDM of the unpacked w (4 words each), 64 SMLAD = 104 (0.81), plus 2 per 8 words of
//         loop. Every block of 4 channels would unpack the same x again, so from 3 blocks the
//         first words of every row are unpacked once per call, as many as 2 KiB more stack
//         holds (all of them up to m * k = 1024, 19 of 196-64's 49 at batch 16), and read
//         with one LDRD: 88 per 128 MACs (0.69). A block of 4 channels with k % 4 == 0 runs
//         its whole row loop, epilogue included, in assembly (rows_narrow4, rows_f32_4).
//         Instructions per MAC at batch 16: 196-64 0.991 -> 0.950, 64-32 1.213 -> 1.119,
//         the 196-64-32-10 model 1.038 -> 0.991.
// Rows of w past n are read as copies of the last row and their sums dropped, so the n % 4
// outputs run the same loops; the k % 4 tail and the other blocks' epilogues are C. A channel
// that scales down (shift 32 or more) is requantized in 32-bit steps (SMLAL onto the rounding
// term), with its constants read once per block of 4 channels at batches of 4 or more; the
// other shifts take qgemm_store's int64 form. No load reaches past a row:
// the assembly loops cover whole words only. LDR takes any alignment on Armv7-M (with
// CCR.UNALIGN_TRP clear, its reset value), so rows need no alignment; LDM and LDRD only read the
// word-aligned stack block.
#include "kernels/cortex_m4/qgemm_cortex_m4.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/requant.hpp"

#if !(defined(__ARM_ARCH_7EM__) && defined(__ARM_FEATURE_DSP) && defined(__thumb2__))
#error "qgemm_cortex_m4.cpp is for Armv7E-M builds with the DSP extension (Cortex-M4) only"
#endif

namespace fennec::kernels::cortex_m4 {
namespace {

using std::int32_t;
using std::int8_t;
using std::size_t;
using std::uint32_t;

#define FENNEC_M4_INLINE inline __attribute__((always_inline))

// Batches from this many rows take the packed kernel: below it, unpacking w for the block costs
// more than the row kernel's per-use unpacks save (2 of the row kernel's 25 per 16 MACs are
// shared x work; the packing is about 1 per weight).
constexpr size_t kPackMinRows = 4;
// Columns of w unpacked at a time (4 rows: 4 * kChunkK * 2 bytes = 2 KiB of stack, with the
// assembly row loop's head and trailer 2.2 KiB). Every layer of the example models fits one
// chunk, so its sums stay in registers from the bias to the epilogue; wider layers accumulate
// kRowBlock rows of x at a time against each chunk (their sums: 256 more bytes of stack).
constexpr size_t kChunkK = 256;
constexpr size_t kChunkWords = kChunkK / 4;
constexpr size_t kRowBlock = 16;

// One row of w against the unpacked word of x (x02: bytes 0 and 2, xv: bytes 1 and 3).
#define FENNEC_M4_Q_ROW(w, a)                                                                    \
  "ldr %[t], [%[" w "]], #4\n\t"                                                                 \
  "sxtb16 %[u], %[t]\n\t"                                                                        \
  "sxtb16 %[t], %[t], ror #8\n\t"                                                                \
  "smlad %[" a "], %[u], %[x02], %[" a "]\n\t"                                                   \
  "smlad %[" a "], %[t], %[xv], %[" a "]\n\t"

#define FENNEC_M4_Q_ROW_WORD                                                                     \
  "ldr %[xv], [%[x]], #4\n\t"                                                                    \
  "sxtb16 %[x02], %[xv]\n\t"                                                                     \
  "sxtb16 %[xv], %[xv], ror #8\n\t" FENNEC_M4_Q_ROW("w0", "a0") FENNEC_M4_Q_ROW("w1", "a1")       \
      FENNEC_M4_Q_ROW("w2", "a2") FENNEC_M4_Q_ROW("w3", "a3")

// acc[r] += sum_{p < 4 * words} x[p] * w_r[p], r < 4 (words >= 1): two words per iteration, the
// odd one first (the shift's carry; its
// zero flag, which the body leaves, says whether pairs remain).
FENNEC_M4_INLINE void qdot_row(const int8_t* x, const int8_t* w0, const int8_t* w1, const int8_t* w2, const int8_t* w3,
                               size_t words, int32_t* acc) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  uint32_t xv, x02, t, u;
  __asm__ volatile(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t" FENNEC_M4_Q_ROW_WORD
      "1:\n\t"
      "beq 3f\n\t"
      "2:\n\t" FENNEC_M4_Q_ROW_WORD FENNEC_M4_Q_ROW_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1),
        [w2] "+r"(w2), [w3] "+r"(w3), [n] "+r"(words), [xv] "=&r"(xv), [x02] "=&r"(x02), [t] "=&r"(t), [u] "=&r"(u)
      :
      : "cc", "memory");
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

#undef FENNEC_M4_Q_ROW_WORD
#undef FENNEC_M4_Q_ROW

// One word of x, unpacked into x02 (bytes 0 and 2) and xv (bytes 1 and 3), against the 4 rows of
// the block pw: 2 ldm and 8 smlad, shared by the packed and the unpacked-x loops.
#define FENNEC_M4_Q_WORD_MACS                                                                    \
  "ldmia.w %[pw]!, {r8, r9, r10, r11}\n\t"                                                       \
  "smlad %[a0], r8, %[x02], %[a0]\n\t"                                                           \
  "smlad %[a0], r9, %[xv], %[a0]\n\t"                                                            \
  "smlad %[a1], r10, %[x02], %[a1]\n\t"                                                          \
  "smlad %[a1], r11, %[xv], %[a1]\n\t"                                                           \
  "ldmia.w %[pw]!, {r8, r9, r10, r11}\n\t"                                                       \
  "smlad %[a2], r8, %[x02], %[a2]\n\t"                                                           \
  "smlad %[a2], r9, %[xv], %[a2]\n\t"                                                            \
  "smlad %[a3], r10, %[x02], %[a3]\n\t"                                                          \
  "smlad %[a3], r11, %[xv], %[a3]\n\t"

// One word of x against 4 rows of the unpacked block (r8-r11: row 0's two halves, row 1's;
// then rows 2 and 3).
#define FENNEC_M4_Q_PACKED_WORD                                                                  \
  "ldr %[xv], [%[x]], #4\n\t"                                                                    \
  "sxtb16 %[x02], %[xv]\n\t"                                                                     \
  "sxtb16 %[xv], %[xv], ror #8\n\t" FENNEC_M4_Q_WORD_MACS

// acc[r] += sum_{p < 4 * words} x[p] * w_r[p] from the unpacked block pw (8 words per word of
// x; words >= 1), for the blocks that the row loop in assembly does not take: eight words per
// iteration, the words % 8 first (the three shifts' carries are bits 0, 1 and 2, and the last
// one's zero flag, which the bodies leave, says whether whole iterations remain).
FENNEC_M4_INLINE void qdot_packed(const int8_t* x, const uint32_t* pw, size_t words, int32_t* acc) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  uint32_t xv, x02;
  __asm__ volatile(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t" FENNEC_M4_Q_PACKED_WORD
      "1:\n\t"
      "lsrs %[n], %[n], #1\n\t"
      "bcc 2f\n\t" FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD
      "2:\n\t"
      "lsrs %[n], %[n], #1\n\t"
      "bcc 3f\n\t" FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD
      "3:\n\t"
      "beq 5f\n\t"
      "4:\n\t" FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD
          FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 4b\n\t"
      "5:\n\t"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [pw] "+r"(pw), [n] "+r"(words),
        [xv] "=&r"(xv), [x02] "=&r"(x02)
      :
      : "cc", "memory", "r8", "r9", "r10", "r11");
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

// One word of row w unpacked into r8/r9 (bytes 0 and 2, bytes 1 and 3) or r10/r11.
#define FENNEC_M4_Q_UNPACK(w, even, odd)                                                         \
  "ldr " odd ", [%[" w "]], #4\n\t"                                                              \
  "sxtb16 " even ", " odd "\n\t"                                                                 \
  "sxtb16 " odd ", " odd ", ror #8\n\t"

// One word of the 4 rows into the block: 16 bytes of rows 0 and 1, 16 of rows 2 and 3.
#define FENNEC_M4_Q_UNPACK_WORD                                                                  \
  FENNEC_M4_Q_UNPACK("w0", "r8", "r9")                                                           \
  FENNEC_M4_Q_UNPACK("w1", "r10", "r11")                                                         \
  "stmia %[out]!, {r8, r9, r10, r11}\n\t" FENNEC_M4_Q_UNPACK("w2", "r8", "r9")                    \
      FENNEC_M4_Q_UNPACK("w3", "r10", "r11")                                                     \
  "stmia %[out]!, {r8, r9, r10, r11}\n\t"

// The 4 rows w_r over words [0, words) (words >= 1) in qdot_packed's order: per word, row 0's
// even and odd halves, row 1's, row 2's, row 3's: 14 instructions per word of the 4 rows, four
// words per iteration (2 more), the words % 4 first (as in qdot_packed).
// Out of line (once per block; its unrolled copies cost flash).
__attribute__((noinline)) void unpack_block(const int8_t* w0, const int8_t* w1, const int8_t* w2, const int8_t* w3,
                                            size_t words, uint32_t* out) {
  __asm__ volatile(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t" FENNEC_M4_Q_UNPACK_WORD
      "1:\n\t"
      "lsrs %[n], %[n], #1\n\t"
      "bcc 2f\n\t" FENNEC_M4_Q_UNPACK_WORD FENNEC_M4_Q_UNPACK_WORD
      "2:\n\t"
      "beq 4f\n\t"
      "3:\n\t" FENNEC_M4_Q_UNPACK_WORD FENNEC_M4_Q_UNPACK_WORD FENNEC_M4_Q_UNPACK_WORD FENNEC_M4_Q_UNPACK_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 3b\n\t"
      "4:\n\t"
      : [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3), [out] "+r"(out), [n] "+r"(words)
      :
      : "cc", "memory", "r8", "r9", "r10", "r11");
}

#undef FENNEC_M4_Q_UNPACK_WORD
#undef FENNEC_M4_Q_UNPACK

// Rows j..j+3 of w, the ones past n aliased to the last row, and their biases (0 past n).
FENNEC_M4_INLINE void block_rows(const QGemmArgs& g, size_t j, const int8_t* w[4], int32_t* bias) {
  const int8_t* row = g.w + j * g.ldw;
  for (size_t r = 0; r < 4; ++r) {
    const bool real = j + r < g.n;
    w[r] = row;
    bias[r] = real ? g.bias[j + r] : 0;
    row += j + r + 1 < g.n ? g.ldw : 0;
  }
}

// v saturated to a signed Bits-bit integer.
template <int Bits>
FENNEC_M4_INLINE int32_t ssat(int32_t v) {
  int32_t r;
  __asm__("ssat %0, %1, %2" : "=r"(r) : "I"(Bits), "r"(v));
  return r;
}

// requantize() for one channel and sign whose shift s is 32 or more (a channel scale
// mult * 2^-s below 1/2: quantize() gives s = 31 - e for a scale f * 2^e, so this is every
// channel that scales down): SMLAL adds acc * mult to 2^(s-1), held as the two words round_lo
// and round_hi, and the high word shifted right by s - 32 is floor((acc * mult + 2^(s-1)) / 2^s)
// (floors compose). |acc * mult| < 2^62, so the sum does not overflow and the result is below
// 2^30 in magnitude.
struct NarrowScale {
  uint32_t round_lo;
  int32_t round_hi, mult, shift;  // shift: s - 32
};

// 2^(s-1) = 2^(e+31) for e = s - 32 in [0, 30]: the low word is 2^31 for e = 0 and 0 otherwise,
// the high word 2^(e-1) (0 for e = 0): the bit 2^e shifted left by 31 and right by 1, without a
// branch.
FENNEC_M4_INLINE NarrowScale narrow_scale(int32_t mult, int32_t shift) {
  const int32_t e = shift - 32;
  const uint32_t bit = uint32_t{1} << e;
  return {bit << 31, static_cast<int32_t>(bit >> 1), mult, e};
}

// The requantized byte from acc and its channel's constants: qgemm_store's arithmetic. Saturating
// the requantized value plus the zero point to int8 gives qgemm_store's byte: the zero point and
// out_lo are in [-128, 127], so past +-255 both end at the same bound of the [out_lo, 127] clamp.
FENNEC_M4_INLINE int8_t narrow_byte(int32_t acc, const NarrowScale& c, int32_t zero_point, int32_t out_lo) {
  uint32_t lo = c.round_lo;
  int32_t hi = c.round_hi;
  __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(acc), "r"(c.mult));
  const int32_t q = ssat<8>((hi >> c.shift) + zero_point);
  return static_cast<int8_t>(q < out_lo ? out_lo : q);
}

// The block of rows_narrow4 around the unpacked w (so that its loop finds everything from the
// head's address, which it keeps in lr, and the one pointer it steps): kHeadSize words before it,
// the row loop's state, and kTrailSize after it, the epilogue's constants. The words of a row
// split in two runs: the first words_a from the x unpacked once per call (xbuf, 8 bytes a word,
// row after row), the others unpacked as they are read.
enum : size_t {
  kHeadBias = 0,     // 4 words: the block's biases, every row's starting sums
  kHeadXa = 4,       // the current row's unpacked x
  kHeadItersA = 5,   // iterations of its loop (FENNEC_M4_Q_DUFF)
  kHeadXb = 6,       // the current row's x past the unpacked words
  kHeadItersB = 7,   // iterations of its loop
  kHeadEntryA = 8,   // where each loop starts (FENNEC_M4_Q_DUFF)
  kHeadEntryB = 9,
  kHeadDxb = 10,     // bytes from the end of a row's second run to the next row's
  kHeadY = 11,       // the current row's 4 outputs
  kHeadLdy = 12,     // the output rows' stride, in bytes
  kHeadYEnd = 13,    // the outputs past the last row's
  kHeadWordsA = 14,  // words of each run
  kHeadWordsB = 15,
  kHeadSize = 16,
  kTrailLo = 1,     // the lower bound in each byte
  kTrailScale = 4,  // the block's NarrowScale pairs (byte 16 on)
  kTrailSize = 4 + 4 * 2 * sizeof(NarrowScale) / 4,
};

// One output of rows_narrow4: channel c's constants for the sign of its sum a (16 bytes each,
// the negative ones second, from the trailer at pw) into r8-r11, then narrow_byte's arithmetic
// up to the saturation, into a (the zero point is in the rounding term: narrow_trailer).
#define FENNEC_M4_Q_NARROW(a, c)                                                                 \
  "lsr r8, %[" a "], #31\n\t"                                                                    \
  "add r8, %[pw], r8, lsl #4\n\t"                                                                \
  "ldrd r10, r11, [r8, #16 + " #c " * 32 + 8]\n\t"                                               \
  "ldrd r8, r9, [r8, #16 + " #c " * 32]\n\t"                                                     \
  "smlal r8, r9, %[" a "], r10\n\t"                                                              \
  "asr r9, r9, r11\n\t"                                                                          \
  "ssat %[" a "], #8, r9\n\t"

// A word of unpacked x (x02, then xv, from xbuf) against the 4 rows of the block: every
// instruction 32-bit, 44 bytes (FENNEC_M4_Q_DUFF).
#define FENNEC_M4_Q_UNPACKED_WORD "ldrd %[x02], %[xv], [%[x]], #8\n\t" FENNEC_M4_Q_WORD_MACS

#define FENNEC_M4_Q_EIGHT(word) word word word word word word word word

// The row loop's two word loops run as Duff's device: each body is 8 words of one size, entered
// at the word that leaves a multiple of 8 after it, so a row pays one jump and 2 instructions per
// 8 words whatever its length (the unrolled remainders cost that much flash again, and up to 7
// more instructions a row). Once per block: the entry of the loop at label `body` (its exit at
// label `exit`, words of `size` bytes) for the head's words at `words` into the head's entry and
// iterations at `entry` and `iters`; no words: the exit. Bit 0 set: LDR PC interworks. The
// assembler resolves ADR against its own section's offsets, which are the addresses' modulo 4
// only in a word-aligned section: the bodies' .p2align makes the section so (never executed: an
// LDR PC precedes each).
#define FENNEC_M4_Q_DUFF(words, iters, entry, body, exit, size)                                  \
  "ldr %[n], [lr, #" #words " * 4]\n\t"                                                          \
  "adr.w %[x02], " #exit "f\n\t"                                                                 \
  "cmp %[n], #0\n\t"                                                                             \
  "beq 7f\n\t"                                                                                   \
  "rsb %[xv], %[n], #0\n\t"                                                                      \
  "and %[xv], %[xv], #7\n\t"                                                                     \
  "adr.w %[x02], " #body "f\n\t"                                                                 \
  "mov r8, #" #size "\n\t"                                                                       \
  "mla %[x02], %[xv], r8, %[x02]\n\t"                                                            \
  "add %[n], %[n], #7\n\t"                                                                       \
  "lsr %[n], %[n], #3\n\t"                                                                       \
  "7:\n\t"                                                                                       \
  "orr %[x02], %[x02], #1\n\t"                                                                   \
  "str %[n], [lr, #" #iters " * 4]\n\t"                                                          \
  "str %[x02], [lr, #" #entry " * 4]\n\t"

// The row loop of rows_narrow4 and rows_f32_4, around their epilogues: the head's address into
// lr and the loops' entries into the head; per row, from the head the biases into the sums, the
// unpacked run (pw steps through the block's first words_a words), its end back into the head
// (the next row's start), the other run, the next row's x back into the head (pw ends at the
// trailer); then the row's outputs and their stride (into xv and x02) for the epilogue; after
// it, the next row's outputs back into the head, and again until they are the end's.
#define FENNEC_M4_Q_ROW_ENTER                                                                    \
  "mov lr, %[pw]\n\t"                                                                            \
  FENNEC_M4_Q_DUFF(14, 5, 8, 10, 11, 44) FENNEC_M4_Q_DUFF(15, 7, 9, 20, 21, 52)                  \
  "6:\n\t"                                                                                       \
  "ldrd %[a0], %[a1], [lr]\n\t"                                                                  \
  "ldrd %[a2], %[a3], [lr, #8]\n\t"                                                              \
  "ldrd %[x], %[n], [lr, #16]\n\t"                                                               \
  "add %[pw], lr, #64\n\t"                                                                       \
  "ldr pc, [lr, #32]\n\t"                                                                        \
  ".p2align 2\n\t"                                                                               \
  "10:\n\t" FENNEC_M4_Q_EIGHT(FENNEC_M4_Q_UNPACKED_WORD)                                         \
  "subs %[n], %[n], #1\n\t"                                                                      \
  "bne 10b\n\t"                                                                                  \
  "11:\n\t"                                                                                      \
  "str %[x], [lr, #16]\n\t"                                                                      \
  "ldrd %[x], %[n], [lr, #24]\n\t"                                                               \
  "ldr pc, [lr, #36]\n\t"                                                                        \
  ".p2align 2\n\t"                                                                               \
  "20:\n\t" FENNEC_M4_Q_EIGHT(FENNEC_M4_Q_PACKED_WORD)                                           \
  "subs %[n], %[n], #1\n\t"                                                                      \
  "bne 20b\n\t"                                                                                  \
  "21:\n\t"                                                                                      \
  "ldr %[xv], [lr, #40]\n\t"                                                                     \
  "add %[x], %[x], %[xv]\n\t"                                                                    \
  "str %[x], [lr, #24]\n\t"                                                                      \
  "ldrd %[xv], %[x02], [lr, #44]\n\t"

#define FENNEC_M4_Q_ROW_LEAVE                                                                    \
  "add %[xv], %[xv], %[x02]\n\t"                                                                 \
  "str %[xv], [lr, #44]\n\t"                                                                     \
  "ldr r8, [lr, #52]\n\t"                                                                        \
  "cmp %[xv], r8\n\t"                                                                            \
  "bne 6b\n\t"

#define FENNEC_M4_Q_ROW_OPERANDS                                                                 \
  [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(x), [pw] "+r"(pw),   \
      [n] "=&r"(n), [xv] "=&r"(xv), [x02] "=&r"(x02)

// Every row of x against a block of 4 channels whose shifts are all 32 to 55 (k % 4 == 0): per
// row, the dot products from the bias, then narrow_byte of the 4 sums, all in one loop in
// assembly so that the sums go from bias to bytes in registers (7 instructions per output, 8
// more for the bound and the store of all 4; the row loop's own 17, its word loops' 2 per 8
// words). The loop's state and the constants lie in the block (the head and trailer above);
// head points at the head.
FENNEC_M4_INLINE void rows_narrow4(uint32_t* head) {
  uint32_t* pw = head;
  int32_t a0, a1, a2, a3;
  uint32_t x, n, xv, x02;
  __asm__ volatile(FENNEC_M4_Q_ROW_ENTER
                   "ldr %[n], [%[pw], #4]\n\t" FENNEC_M4_Q_NARROW("a0", 0) FENNEC_M4_Q_NARROW("a1", 1)
                       FENNEC_M4_Q_NARROW("a2", 2) FENNEC_M4_Q_NARROW("a3", 3)
                   // The 4 bytes into one word (halfwords a0 | a2 and a1 | a3, their low bytes
                   // interleaved), the lower bound by byte (SSUB8 sets GE where a byte is at
                   // least n's, SEL picks), one store.
                   "pkhbt r8, %[a0], %[a2], lsl #16\n\t"
                   "pkhbt r9, %[a1], %[a3], lsl #16\n\t"
                   "bic r8, r8, #0xff00ff00\n\t"
                   "bic r9, r9, #0xff00ff00\n\t"
                   "orr r8, r8, r9, lsl #8\n\t"
                   "ssub8 r9, r8, %[n]\n\t"
                   "sel r8, r8, %[n]\n\t"
                   "str r8, [%[xv]]\n\t" FENNEC_M4_Q_ROW_LEAVE
                   : FENNEC_M4_Q_ROW_OPERANDS
                   :
                   : "cc", "memory", "r8", "r9", "r10", "r11", "lr");
}

#if defined(__ARM_FP) && (__ARM_FP & 4)
// One output of rows_f32_4: the sum as float times channel c's dequantization factor for its
// sign (8 bytes each from byte 16 of the trailer at pw, the negative one second): qgemm_store's
// f32 product, the same instructions GCC gives it.
#define FENNEC_M4_Q_F32(a, c)                                                                    \
  "vmov s14, %[" a "]\n\t"                                                                       \
  "vcvt.f32.s32 s14, s14\n\t"                                                                    \
  "lsr r8, %[" a "], #31\n\t"                                                                    \
  "add r8, %[pw], r8, lsl #2\n\t"                                                                \
  "vldr s15, [r8, #16 + " #c " * 8]\n\t"                                                         \
  "vmul.f32 s14, s14, s15\n\t"                                                                   \
  "vstr s14, [%[xv], #" #c " * 4]\n\t"

// rows_narrow4 for a block of 4 channels of the f32 epilogue (trailer: deq, deq_neg per channel).
FENNEC_M4_INLINE void rows_f32_4(uint32_t* head) {
  uint32_t* pw = head;
  int32_t a0, a1, a2, a3;
  uint32_t x, n, xv, x02;
  __asm__ volatile(FENNEC_M4_Q_ROW_ENTER FENNEC_M4_Q_F32("a0", 0) FENNEC_M4_Q_F32("a1", 1) FENNEC_M4_Q_F32("a2", 2)
                       FENNEC_M4_Q_F32("a3", 3) FENNEC_M4_Q_ROW_LEAVE
                   : FENNEC_M4_Q_ROW_OPERANDS
                   :
                   : "cc", "memory", "r8", "r9", "r10", "r11", "lr", "s14", "s15");
}

#undef FENNEC_M4_Q_F32
#define FENNEC_M4_Q_HAS_ROWS_F32 1
#endif

#undef FENNEC_M4_Q_ROW_OPERANDS
#undef FENNEC_M4_Q_ROW_LEAVE
#undef FENNEC_M4_Q_ROW_ENTER
#undef FENNEC_M4_Q_NARROW
#undef FENNEC_M4_Q_DUFF
#undef FENNEC_M4_Q_EIGHT
#undef FENNEC_M4_Q_UNPACKED_WORD
#undef FENNEC_M4_Q_PACKED_WORD
#undef FENNEC_M4_Q_WORD_MACS

// A block's epilogue: with Table, its constants read once per 4 channels (the packed kernel's
// batches of 4 rows or more share them); without, per output (the row kernel's batches of 1 to 3
// rows, where building the table costs more than it saves). Either way in locals: the int8
// stores may alias anything, so GCC would otherwise reload them (and g's fields) every time.
template <bool Table>
struct BlockEpilogue {
  NarrowScale scale[Table ? 4 : 1][2];  // [channel][acc < 0]
  float deq[Table ? 4 : 1][2];          // the same for the f32 epilogue
  const int32_t *mult, *shift, *mult_neg, *shift_neg;  // from channel j, without the table
  size_t outputs;                                      // channels of the block below n
  int32_t zero_point, lo;
  bool narrow;  // with the table: every requantizing shift of the block is 32 or more
};

template <bool Table>
FENNEC_M4_INLINE void block_epilogue(const QGemmArgs& g, size_t j, BlockEpilogue<Table>& ep) {
  ep.outputs = g.n - j < 4 ? g.n - j : 4;
  ep.zero_point = g.out_zero_point, ep.lo = g.out_lo;
  ep.narrow = !g.yf;
  if (!Table) {
    ep.mult = g.mult + j, ep.shift = g.shift + j, ep.mult_neg = g.mult_neg + j, ep.shift_neg = g.shift_neg + j;
    return;
  }
  for (size_t r = 0; r < ep.outputs; ++r) {
    if (g.yf) {
      ep.deq[r][0] = g.deq[j + r], ep.deq[r][1] = g.deq_neg[j + r];
    } else if (g.shift[j + r] < 32 || g.shift_neg[j + r] < 32) {
      ep.narrow = false;
    } else {
      ep.scale[r][0] = narrow_scale(g.mult[j + r], g.shift[j + r]);
      ep.scale[r][1] = narrow_scale(g.mult_neg[j + r], g.shift_neg[j + r]);
    }
  }
}

// The NarrowScale pairs of channels j..j+3 for rows_narrow4 into out, read from g, the zero
// point added to each rounding term as zp * 2^s: the high word shifted by s - 32 is then
// requantize() + zp, exactly, while |acc * mult| + 2^(s-1) + 128 * 2^s < 2^63, which holds for
// every shift up to 55. zp * 2^s is zp * 2^(s-32) in the high word alone (below 2^30 in
// magnitude there). False (out unspecified) when a shift of the block is outside [32, 55].
FENNEC_M4_INLINE bool narrow_trailer(const QGemmArgs& g, size_t j, uint32_t* out) {
  const int32_t zero_point = g.out_zero_point;
  for (size_t r = 0; r < 4; ++r)
    for (size_t negative = 0; negative < 2; ++negative, out += 4) {
      const int32_t shift = negative ? g.shift_neg[j + r] : g.shift[j + r];
      if (shift < 32 || shift > 55) return false;
      const NarrowScale c = narrow_scale(negative ? g.mult_neg[j + r] : g.mult[j + r], shift);
      out[0] = c.round_lo;
      out[1] = static_cast<uint32_t>(c.round_hi + zero_point * (int32_t{1} << c.shift));
      out[2] = static_cast<uint32_t>(c.mult), out[3] = static_cast<uint32_t>(c.shift);
    }
  return true;
}

// a[r] += the k % 4 tail (columns [k4, k)) of row x against the 4 rows w_r, column by column so
// that the 4 sums stay in registers.
FENNEC_M4_INLINE void add_tail(const int8_t* x, const int8_t* const w[4], size_t k4, size_t k, int32_t* a) {
  for (size_t p = k4; p < k; ++p) {
    const int32_t xp = x[p];
    a[0] += w[0][p] * xp, a[1] += w[1][p] * xp, a[2] += w[2][p] * xp, a[3] += w[3][p] * xp;
  }
}

// The block's outputs of row i from its 4 sums (tail included).
template <bool Table>
FENNEC_M4_INLINE void store_outputs(const QGemmArgs& g, const BlockEpilogue<Table>& ep, size_t i, size_t j,
                                    const int32_t* a) {
  if (Table && g.yf) {
    float* const yf = g.yf + i * g.ldyf + j;
    for (size_t r = 0; r < ep.outputs; ++r) yf[r] = static_cast<float>(a[r]) * ep.deq[r][a[r] < 0];
    return;
  }
  if (!ep.narrow) {
    for (size_t r = 0; r < ep.outputs; ++r) qgemm_store(g, i, j + r, a[r]);
    return;
  }
  int8_t* const y = g.y + i * g.ldy + j;
  for (size_t r = 0; r < ep.outputs; ++r) {
    const bool negative = a[r] < 0;
    if (Table) {
      y[r] = narrow_byte(a[r], ep.scale[r][negative], ep.zero_point, ep.lo);
      continue;
    }
    const int32_t shift = negative ? ep.shift_neg[r] : ep.shift[r];
    if (shift < 32) {
      qgemm_store(g, i, j + r, a[r]);
    } else {
      y[r] = narrow_byte(a[r], narrow_scale(negative ? ep.mult_neg[r] : ep.mult[r], shift), ep.zero_point, ep.lo);
    }
  }
}

// The tail, then the outputs of row i.
template <bool Table>
FENNEC_M4_INLINE void finish(const QGemmArgs& g, const BlockEpilogue<Table>& ep, size_t i, size_t j,
                             const int8_t* const w[4], const int32_t* acc) {
  int32_t a[4] = {acc[0], acc[1], acc[2], acc[3]};
  add_tail(g.x + i * g.ldx, w, g.k & ~size_t{3}, g.k, a);
  store_outputs(g, ep, i, j, a);
}

void qgemm_rows(const QGemmArgs& g) {
  const size_t words = g.k >> 2;
  for (size_t j = 0; j < g.n; j += 4) {
    const int8_t* w[4];
    int32_t bias[4];
    block_rows(g, j, w, bias);
    BlockEpilogue<false> ep;
    block_epilogue(g, j, ep);
    for (size_t i = 0; i < g.m; ++i) {
      int32_t acc[4] = {bias[0], bias[1], bias[2], bias[3]};
      if (words) qdot_row(g.x + i * g.ldx, w[0], w[1], w[2], w[3], words, acc);
      finish(g, ep, i, j, w, acc);
    }
  }
}

// qdot_packed out of line, for the rare layers wider than a chunk: one more copy of its unrolled
// loop would cost about 800 bytes of flash.
__attribute__((noinline)) void qdot_packed_call(const int8_t* x, const uint32_t* pw, size_t words, int32_t* acc) {
  qdot_packed(x, pw, words, acc);
}

// k > kChunkK: the sums of kRowBlock rows of x kept on the stack across the chunks.
void qgemm_packed_chunks(const QGemmArgs& g, const int8_t* const w[4], const int32_t* bias, size_t j,
                         const BlockEpilogue<true>& ep, uint32_t* packed) {
  const size_t words = g.k >> 2;
  int32_t acc[kRowBlock][4];
  for (size_t i0 = 0; i0 < g.m; i0 += kRowBlock) {
    const size_t rows = g.m - i0 < kRowBlock ? g.m - i0 : kRowBlock;
    for (size_t i = 0; i < rows; ++i)
      for (size_t r = 0; r < 4; ++r) acc[i][r] = bias[r];
    for (size_t q0 = 0; q0 < words; q0 += kChunkWords) {
      const size_t chunk = words - q0 < kChunkWords ? words - q0 : kChunkWords;
      unpack_block(w[0] + 4 * q0, w[1] + 4 * q0, w[2] + 4 * q0, w[3] + 4 * q0, chunk, packed);
      for (size_t i = 0; i < rows; ++i) qdot_packed_call(g.x + (i0 + i) * g.ldx + 4 * q0, packed, chunk, acc[i]);
    }
    for (size_t i = 0; i < rows; ++i) finish(g, ep, i0 + i, j, w, acc[i]);
  }
}

// Every row of x against the unpacked block of 4 rows of w (k <= kChunkK), each row's 4 sums
// handed to store(i, sums).
template <class Store>
FENNEC_M4_INLINE void packed_rows(const QGemmArgs& g, const uint32_t* packed, const int8_t* const w[4],
                                  const int32_t* bias, Store store) {
  const size_t m = g.m, k = g.k, k4 = k & ~size_t{3}, ldx = g.ldx;
  const int8_t* x = g.x;
  for (size_t i = 0; i < m; ++i, x += ldx) {
    int32_t acc[4] = {bias[0], bias[1], bias[2], bias[3]};
    qdot_packed(x, packed, k >> 2, acc);
    add_tail(x, w, k4, k, acc);
    store(i, acc);
  }
}

// The x that the row loop reads unpacked (x02 then xv of each word, as FENNEC_M4_Q_UNPACKED_WORD
// loads them): the first words_a words of every row, the rows one after another in buf.
struct UnpackedX {
  const uint32_t* buf = nullptr;
  size_t words_a = 0;
};

// The first `words` words (words >= 1) of row x unpacked into out: two per iteration, the odd
// one first (as qdot_row).
#define FENNEC_M4_Q_X_WORD                                                                       \
  "ldr %[t], [%[x]], #4\n\t"                                                                     \
  "sxtb16 %[u], %[t]\n\t"                                                                        \
  "sxtb16 %[t], %[t], ror #8\n\t"                                                                \
  "strd %[u], %[t], [%[out]], #8\n\t"

FENNEC_M4_INLINE uint32_t* unpack_x_row(const int8_t* x, size_t words, uint32_t* out) {
  uint32_t t, u;
  __asm__ volatile(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t" FENNEC_M4_Q_X_WORD
      "1:\n\t"
      "beq 3f\n\t"
      "2:\n\t" FENNEC_M4_Q_X_WORD FENNEC_M4_Q_X_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      : [x] "+r"(x), [out] "+r"(out), [n] "+r"(words), [t] "=&r"(t), [u] "=&r"(u)
      :
      : "cc", "memory");
  return out;
}

#undef FENNEC_M4_Q_X_WORD

// Unpacking a word of x costs about 5 instructions and saves 2 in every block of 4 channels that
// reads it in the row loop: from this many channels (3 blocks), every row's first words go
// unpacked, as many as fit in kXWords more words of stack and the part of the chunk's that a
// shorter row leaves (196 columns at batch 16: 19 of 49 words).
constexpr size_t kUnpackXMinN = 12;
constexpr size_t kXWords = 512;

// The first words of every row of x unpacked into buf (capacity words). Out of line: once per
// call.
__attribute__((noinline)) UnpackedX unpack_x(const QGemmArgs& g, uint32_t* buf, size_t capacity) {
  const size_t words = g.k >> 2, fit = capacity / (2 * g.m);
  UnpackedX u;
  u.buf = buf, u.words_a = words < fit ? words : fit;
  if (u.words_a == 0) return u;
  const int8_t* x = g.x;
  for (size_t i = 0; i < g.m; ++i, x += g.ldx) buf = unpack_x_row(x, u.words_a, buf);
  return u;
}

// The head of the block for rows_narrow4 / rows_f32_4 (the trailer's constants are the caller's):
// every row of x from the first, its outputs from out, ld_out bytes apart.
FENNEC_M4_INLINE void set_head(const QGemmArgs& g, uint32_t* head, const int32_t* bias, const UnpackedX& ux,
                               std::uintptr_t out, size_t ld_out) {
  const size_t words_b = (g.k >> 2) - ux.words_a;
  for (size_t r = 0; r < 4; ++r) head[kHeadBias + r] = static_cast<uint32_t>(bias[r]);
  head[kHeadXa] = reinterpret_cast<std::uintptr_t>(ux.buf);
  head[kHeadXb] = reinterpret_cast<std::uintptr_t>(g.x + 4 * ux.words_a);
  head[kHeadDxb] = static_cast<uint32_t>(g.ldx - 4 * words_b);
  head[kHeadY] = out, head[kHeadLdy] = ld_out;
  head[kHeadYEnd] = out + g.m * ld_out;
  head[kHeadWordsA] = ux.words_a, head[kHeadWordsB] = words_b;
}

#ifdef FENNEC_M4_Q_HAS_ROWS_F32
// rows_f32_4 for block j: its head and trailer, then every row. Out of line: inlined, it costs
// the requantizing blocks' code around rows_narrow4 registers (196-64 at batch 16: 1.003
// instructions per MAC against 0.998).
__attribute__((noinline)) void rows_f32_block(const QGemmArgs& g, size_t j, const int32_t* bias, const UnpackedX& ux,
                                              uint32_t* block) {
  uint32_t* const trailer = block + kHeadSize + 8 * (g.k >> 2);
  for (size_t r = 0; r < 4; ++r) {
    std::memcpy(trailer + kTrailScale + 2 * r, g.deq + j + r, 4);
    std::memcpy(trailer + kTrailScale + 2 * r + 1, g.deq_neg + j + r, 4);
  }
  set_head(g, block, bias, ux, reinterpret_cast<std::uintptr_t>(g.yf + j), 4 * g.ldyf);
  rows_f32_4(block);
}
#endif

void qgemm_packed(const QGemmArgs& g) {
  const size_t words = g.k >> 2;
  constexpr size_t kBlockWords = kHeadSize + 2 * kChunkK + kTrailSize + kXWords;
  uint32_t block[kBlockWords];
  uint32_t* const packed = block + kHeadSize;
  UnpackedX ux;
  if (words <= kChunkWords && g.k % 4 == 0 && g.n >= kUnpackXMinN) {
    const size_t used = kHeadSize + 8 * words + kTrailSize;
    ux = unpack_x(g, block + used, kBlockWords - used);
  }
  for (size_t j = 0; j < g.n; j += 4) {
    const int8_t* w[4];
    int32_t bias[4];
    block_rows(g, j, w, bias);
    if (words <= kChunkWords) {
      unpack_block(w[0], w[1], w[2], w[3], words, packed);
      if (g.n - j >= 4 && g.k % 4 == 0) {
        // The common block (every example layer's): head, unpacked w and trailer for
        // rows_narrow4 or rows_f32_4, the constants read from g straight into the trailer.
        uint32_t* const trailer = packed + 8 * words;
        if (!g.yf && narrow_trailer(g, j, trailer + kTrailScale)) {
          trailer[kTrailLo] = (static_cast<uint32_t>(g.out_lo) & 0xffu) * 0x01010101u;
          set_head(g, block, bias, ux, reinterpret_cast<std::uintptr_t>(g.y + j), g.ldy);
          rows_narrow4(block);
          continue;
        }
#ifdef FENNEC_M4_Q_HAS_ROWS_F32
        if (g.yf) {
          rows_f32_block(g, j, bias, ux, block);
          continue;
        }
#endif
      }
    }
    BlockEpilogue<true> ep;
    block_epilogue(g, j, ep);
    if (words > kChunkWords) {
      qgemm_packed_chunks(g, w, bias, j, ep, packed);
    } else {
      packed_rows(g, packed, w, bias, [&](size_t i, const int32_t* a) { store_outputs(g, ep, i, j, a); });
    }
  }
}

}  // namespace

void qgemm_nt_s8(const QGemmArgs& g) {
  if (g.m == 0 || g.n == 0) return;
  if (g.m >= kPackMinRows && g.k >= 4) {
    qgemm_packed(g);
  } else {
    qgemm_rows(g);
  }
}

}  // namespace fennec::kernels::cortex_m4
