// SPDX-License-Identifier: Apache-2.0
// Cortex-M4 int8 GEMM (see qgemm_cortex_m4.hpp) on the DSP extension: a word of 4 int8 is
// unpacked by SXTB16 (bytes 0 and 2 as two int16) and SXTB16 ROR #8 (bytes 1 and 3), and two
// SMLADs make its 4 multiply-adds into an exact int32 accumulator. Every output then goes through
// store_output, qgemm_store's arithmetic in 32-bit steps, so the results are the bits of
// qgemm_scalar: integer sums do not depend on order.
//
// Two micro-kernels, in inline assembly (GCC 12 does not fold a rotate into SXTB16, which costs
// an instruction per word):
//   row   (batches below kPackMinRows): one row of x, unpacked once per word and shared by 4 rows
//         of w, each w word unpacked where it is used: per 32 MACs 10 loads, 20 SXTB16, 16 SMLAD
//         and 2 loop = 48 (1.5). Every weight is used once at batch 1, so its two unpacks and
//         two SMLADs (1.0 per MAC) are the floor of any SXTB16 kernel there.
//   packed (larger batches): 4 rows of w over up to kChunkK columns unpacked once into a stack
//         buffer, in the order the loop reads them, then every row of x streamed against it:
//         per 32 MACs 2 loads + 4 SXTB16 of x, 4 LDM of the unpacked w (4 words each), 16
//         SMLAD and 2 loop = 28 (0.875), plus the unpacking, paid once per 16 rows of x.
// Rows of w past n are read as copies of the last row and their sums dropped, so the n % 4
// outputs run the same loops; the k % 4 tail and the epilogue are C. No load reaches past a row:
// the assembly loops cover whole words only. LDR takes any alignment on Armv7-M (with
// CCR.UNALIGN_TRP clear, its reset value), so rows need no alignment; LDM only reads the
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
// shared x work; the packing is about 6 per 16 weights).
constexpr size_t kPackMinRows = 4;
// Columns of w unpacked at a time (4 rows: 4 * kChunkK * 2 bytes = 1 KiB of stack) and rows of x
// accumulated at a time against one unpacked block (their sums: 256 bytes of stack).
constexpr size_t kChunkK = 128;
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

// One word of x against 4 rows of the unpacked block (r8-r11: row 0's two halves, row 1's;
// then rows 2 and 3).
#define FENNEC_M4_Q_PACKED_WORD                                                                  \
  "ldr %[xv], [%[x]], #4\n\t"                                                                    \
  "sxtb16 %[x02], %[xv]\n\t"                                                                     \
  "sxtb16 %[xv], %[xv], ror #8\n\t"                                                              \
  "ldmia %[pw]!, {r8, r9, r10, r11}\n\t"                                                         \
  "smlad %[a0], r8, %[x02], %[a0]\n\t"                                                           \
  "smlad %[a0], r9, %[xv], %[a0]\n\t"                                                            \
  "smlad %[a1], r10, %[x02], %[a1]\n\t"                                                          \
  "smlad %[a1], r11, %[xv], %[a1]\n\t"                                                           \
  "ldmia %[pw]!, {r8, r9, r10, r11}\n\t"                                                         \
  "smlad %[a2], r8, %[x02], %[a2]\n\t"                                                           \
  "smlad %[a2], r9, %[xv], %[a2]\n\t"                                                            \
  "smlad %[a3], r10, %[x02], %[a3]\n\t"                                                          \
  "smlad %[a3], r11, %[xv], %[a3]\n\t"

// acc[r] += sum_{p < 4 * words} x[p] * w_r[p] from the unpacked block pw (8 words per word of
// x; words >= 1): two words per iteration, the odd one first (the shift's carry; its
// zero flag, which the body leaves, says whether pairs remain).
FENNEC_M4_INLINE void qdot_packed(const int8_t* x, const uint32_t* pw, size_t words, int32_t* acc) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  uint32_t xv, x02;
  __asm__ volatile(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t" FENNEC_M4_Q_PACKED_WORD
      "1:\n\t"
      "beq 3f\n\t"
      "2:\n\t" FENNEC_M4_Q_PACKED_WORD FENNEC_M4_Q_PACKED_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [pw] "+r"(pw), [n] "+r"(words),
        [xv] "=&r"(xv), [x02] "=&r"(x02)
      :
      : "cc", "memory", "r8", "r9", "r10", "r11");
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

#undef FENNEC_M4_Q_PACKED_WORD

FENNEC_M4_INLINE uint32_t sxtb16_ror8(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

FENNEC_M4_INLINE uint32_t sxtb16(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
  return r;
}

// The 4 rows w_r over words [0, words) in qdot_packed's order: per word, row 0's even and odd
// halves, row 1's, row 2's, row 3's.
void unpack_block(const int8_t* const w[4], size_t words, uint32_t* out) {
  for (size_t q = 0; q < words; ++q)
    for (size_t r = 0; r < 4; ++r) {
      uint32_t v;
      std::memcpy(&v, w[r] + 4 * q, 4);
      out[8 * q + 2 * r] = sxtb16(v);
      out[8 * q + 2 * r + 1] = sxtb16_ror8(v);
    }
}

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

// qgemm_store's result in 32-bit steps for a requantized output whose shift s is 32 or more (a
// channel scale mult * 2^-s below 1/2: quantize() gives s = 31 - e for a scale f * 2^e, so this
// is every channel that scales down); other outputs take qgemm_store itself. With p = acc * mult
// (SMULL; |p| < 2^62), floor((p + 2^(s-1)) / 2^s) = (floor(p / 2^(s-1)) + 1) >> 1, and
// floor(p / 2^(s-1)) = (p >> 31) >> (s - 32), where p >> 31 fits int32. Saturating to
// [-512, 511] instead of clamping to +-255 gives the same byte: the zero point is in [-128, 127],
// so a value past 255 either way ends at a bound of the [out_lo, 127] clamp anyway. Returns false
// (nothing written) for a shift below 32.
FENNEC_M4_INLINE bool requantize_narrow(int32_t acc, int32_t mult, int32_t shift, int32_t zero_point, int32_t lo,
                                        int8_t* y) {
  if (shift < 32) return false;
  const int32_t t = static_cast<int32_t>((static_cast<int64_t>(acc) * mult) >> 31) >> (shift - 32);
  const int32_t q = ssat<8>(ssat<10>((t + 1) >> 1) + zero_point);
  *y = static_cast<int8_t>(q < lo ? lo : q);
  return true;
}

// The k % 4 tail of row i against the 4 rows, then the outputs that exist. The requantizing
// epilogue reads the arguments into locals first: its int8 stores may alias anything, so GCC
// would otherwise reload every field of g for every output. The last layer's f32 epilogue stays
// qgemm_store's: the same locals there cost the int8 layers more registers than they saved
// (196-64-32-10 at batch 16: 1.567 instructions per MAC against 1.550).
void finish(const QGemmArgs& g, size_t i, size_t j, const int8_t* const w[4], const int32_t* acc) {
  const size_t outputs = g.n - j < 4 ? g.n - j : 4;
  int32_t a[4] = {acc[0], acc[1], acc[2], acc[3]};
  const size_t k4 = g.k & ~size_t{3};
  if (k4 < g.k) {
    const int8_t* x = g.x + i * g.ldx;
    for (size_t r = 0; r < outputs; ++r)
      for (size_t p = k4; p < g.k; ++p) a[r] += static_cast<int32_t>(w[r][p]) * x[p];
  }
  if (g.yf) {
    for (size_t r = 0; r < outputs; ++r) qgemm_store(g, i, j + r, a[r]);
    return;
  }
  const int32_t* const mult = g.mult + j;
  const int32_t* const shift = g.shift + j;
  const int32_t* const mult_neg = g.mult_neg + j;
  const int32_t* const shift_neg = g.shift_neg + j;
  const int32_t zero_point = g.out_zero_point, lo = g.out_lo;
  int8_t* const y = g.y + i * g.ldy + j;
  for (size_t r = 0; r < outputs; ++r) {
    const bool negative = a[r] < 0;
    if (!requantize_narrow(a[r], negative ? mult_neg[r] : mult[r], negative ? shift_neg[r] : shift[r], zero_point, lo,
                           y + r))
      qgemm_store(g, i, j + r, a[r]);
  }
}

void qgemm_rows(const QGemmArgs& g) {
  const size_t words = g.k >> 2;
  for (size_t j = 0; j < g.n; j += 4) {
    const int8_t* w[4];
    int32_t bias[4];
    block_rows(g, j, w, bias);
    for (size_t i = 0; i < g.m; ++i) {
      int32_t acc[4] = {bias[0], bias[1], bias[2], bias[3]};
      if (words) qdot_row(g.x + i * g.ldx, w[0], w[1], w[2], w[3], words, acc);
      finish(g, i, j, w, acc);
    }
  }
}

void qgemm_packed(const QGemmArgs& g) {
  const size_t words = g.k >> 2;
  uint32_t packed[2 * kChunkK];
  int32_t acc[kRowBlock][4];
  for (size_t j = 0; j < g.n; j += 4) {
    const int8_t* w[4];
    int32_t bias[4];
    block_rows(g, j, w, bias);
    for (size_t i0 = 0; i0 < g.m; i0 += kRowBlock) {
      const size_t rows = g.m - i0 < kRowBlock ? g.m - i0 : kRowBlock;
      for (size_t i = 0; i < rows; ++i)
        for (size_t r = 0; r < 4; ++r) acc[i][r] = bias[r];
      for (size_t q0 = 0; q0 < words; q0 += kChunkK / 4) {
        const size_t chunk = words - q0 < kChunkK / 4 ? words - q0 : kChunkK / 4;
        const int8_t* wq[4] = {w[0] + 4 * q0, w[1] + 4 * q0, w[2] + 4 * q0, w[3] + 4 * q0};
        unpack_block(wq, chunk, packed);
        for (size_t i = 0; i < rows; ++i) qdot_packed(g.x + (i0 + i) * g.ldx + 4 * q0, packed, chunk, acc[i]);
      }
      for (size_t i = 0; i < rows; ++i) finish(g, i0 + i, j, w, acc[i]);
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
