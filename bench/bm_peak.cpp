// SPDX-License-Identifier: Apache-2.0
// The machine's limits, measured in this binary: BM_fma_peak (12 independent FMA chains per
// ISA: the single-core FLOP/s ceiling), BM_bf16_peak (the same with AVX512_BF16's vdpbf16ps,
// where the CPU has it: the ceiling of a bf16 GEMM, reported against the f32 one) and BM_triad (a[i] = b[i] + s*c[i], STREAM's 3 arrays of
// traffic per element) over DRAM-sized and L3-sized arrays.
#include <algorithm>
#include <ctime>

#include "bench_common.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fennec_bench {
namespace {

struct PeakKernel {
  const char* name;
  double flops_per_iter;
  float (*fn)(long iters, float seed);
  bool (*available)();
};

#if !defined(__x86_64__)
// Scalar fallback (non-x86 hosts): 12 independent multiply-add chains.
float peak_scalar(long iters, float seed) {
  float a[12];
  for (int j = 0; j < 12; ++j) a[j] = seed + static_cast<float>(j);
  for (long i = 0; i < iters; ++i)
    for (int j = 0; j < 12; ++j) a[j] = a[j] * 0.999999f + 1e-7f;
  float s = 0;
  for (int j = 0; j < 12; ++j) s += a[j];
  return s;
}
#endif
bool always() { return true; }

#if defined(__x86_64__)
#define FENNEC_PEAK_BODY(V, SET1, FMA, ADD)                                                          \
  const V m = SET1(0.999999f), c = SET1(1e-7f);                                                       \
  V a0 = SET1(seed), a1 = SET1(seed + 1), a2 = SET1(seed + 2), a3 = SET1(seed + 3), a4 = SET1(seed + 4), \
    a5 = SET1(seed + 5), a6 = SET1(seed + 6), a7 = SET1(seed + 7), a8 = SET1(seed + 8),                \
    a9 = SET1(seed + 9), a10 = SET1(seed + 10), a11 = SET1(seed + 11);                                 \
  for (long i = 0; i < iters; ++i) {                                                                  \
    a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);                   \
    a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);                   \
    a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);               \
  }                                                                                                   \
  const V s = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))), ADD(ADD(a8, a9), ADD(a10, a11)));

// SSE2 has no FMA: a multiply and an add per lane (2 FLOP, 2 instructions).
inline __m128 sse_madd(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
float peak_sse2(long iters, float seed) {
  FENNEC_PEAK_BODY(__m128, _mm_set1_ps, sse_madd, _mm_add_ps)
  return _mm_cvtss_f32(s);
}
__attribute__((target("avx2,fma"))) float peak_avx2(long iters, float seed) {
  FENNEC_PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)
  return _mm_cvtss_f32(_mm256_castps256_ps128(s));
}
__attribute__((target("avx512f"))) float peak_avx512(long iters, float seed) {
  FENNEC_PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
  return _mm512_cvtss_f32(s);
}
// vdpbf16ps: per f32 lane, two bf16 products added to the accumulator (4 FLOP a lane, 64 an
// instruction). The inputs stay tiny, so 1e6 iterations neither overflow nor reach denormals.
__attribute__((target("avx512f,avx512bf16"))) float peak_avx512bf16(long iters, float seed) {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(2e-4f));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(3e-4f));
#define FENNEC_DP(a, m, c) ((void)(m), (void)(c), _mm512_dpbf16_ps(a, x, y))
  FENNEC_PEAK_BODY(__m512, _mm512_set1_ps, FENNEC_DP, _mm512_add_ps)
#undef FENNEC_DP
  return _mm512_cvtss_f32(s);
}
bool has_avx512bf16() {
  return fennec::isa_supported(fennec::Isa::kAvx512) && __builtin_cpu_supports("avx512bf16");
}

bool has_avx2() { return fennec::isa_supported(fennec::Isa::kAvx2Fma); }
bool has_avx512() { return fennec::isa_supported(fennec::Isa::kAvx512); }

// Not part of the f32 limit (fma_peak_flops): a separate row, for the bf16 GEMM's ceiling.
const PeakKernel kBf16Peaks[] = {{"avx512bf16", 12 * 16 * 4, peak_avx512bf16, has_avx512bf16}};

const PeakKernel kPeaks[] = {
    {"sse2", 12 * 4 * 2, peak_sse2, always},
    {"avx2fma", 12 * 8 * 2, peak_avx2, has_avx2},
    {"avx512", 12 * 16 * 2, peak_avx512, has_avx512},
};
#else
const PeakKernel kPeaks[] = {{"scalar", 12 * 2, peak_scalar, always}};
const PeakKernel kBf16Peaks[] = {{"none", 0, peak_scalar, [] { return false; }}};
#endif

void triad_plain(std::size_t n, float* a, const float* b, const float* c, float s) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}
#if defined(__x86_64__)
__attribute__((target("avx2"))) void triad_avx2(std::size_t n, float* a, const float* b, const float* c, float s) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}
#endif
void triad(std::size_t n, float* a, const float* b, const float* c, float s) {
#if defined(__x86_64__)
  if (fennec::isa_supported(fennec::Isa::kAvx2Fma)) return triad_avx2(n, a, b, c, s);
#endif
  triad_plain(n, a, b, c, s);
}

constexpr std::size_t kTriadDram = std::size_t{1} << 24;  // 3 x 64 MiB
constexpr std::size_t kTriadL3 = 535818;                   // 3 x 2.1 MB: the MLP's parameter count

// Thread CPU time, as Google Benchmark's counters use by default: on a shared machine wall time
// includes time the thread was not running at all.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = cpu_seconds();
    f();
    best = std::min(best, cpu_seconds() - t0);
  }
  return best;
}

Limits g_limits;

}  // namespace

const Limits& limits() { return g_limits; }

void measure_limits() {
  const long iters = 4'000'000;
  for (const PeakKernel& k : kPeaks) {
    if (!k.available()) continue;
    float sink = 0;
    const double s = best_seconds(5, [&] { sink += k.fn(iters, 1.f); });
    benchmark::DoNotOptimize(sink);
    g_limits.fma_peak_flops = std::max(g_limits.fma_peak_flops, k.flops_per_iter * iters / s);
  }
  for (std::size_t n : {kTriadDram, kTriadL3}) {
    Buffer a(n), b(n, 2), c(n, 3);
    const int inner = n == kTriadL3 ? 20 : 1;
    const double s = best_seconds(n == kTriadL3 ? 10 : 4, [&] {
      for (int i = 0; i < inner; ++i) triad(n, a.data(), b.data(), c.data(), 0.5f);
      benchmark::ClobberMemory();
    });
    const double bw = 3.0 * sizeof(float) * n * inner / s;
    (n == kTriadL3 ? g_limits.triad_l3_bytes : g_limits.triad_dram_bytes) = bw;
  }
}

template <std::size_t N>
void register_peaks(const char* prefix, const PeakKernel (&kernels)[N]) {
  for (const PeakKernel& k : kernels) {
    if (!k.available()) continue;
    benchmark::RegisterBenchmark((std::string(prefix) + k.name).c_str(), [k](benchmark::State& st) {
      const long iters = 1'000'000;
      float sink = 0;
      for (auto _ : st) sink += k.fn(iters, 1.f);
      benchmark::DoNotOptimize(sink);
      flop_counters(st, k.flops_per_iter * iters);
    });
  }
}

void register_peak() {
  register_peaks("BM_fma_peak/", kPeaks);
  register_peaks("BM_bf16_peak/", kBf16Peaks);  // its "peak" counter: times the f32 FMA peak
  for (std::size_t n : {kTriadDram, kTriadL3}) {
    const std::string name = std::string("BM_triad/") + (n == kTriadL3 ? "l3/" : "dram/") + std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(), [n](benchmark::State& st) {
      Buffer a(n), b(n, 2), c(n, 3);
      for (auto _ : st) {
        triad(n, a.data(), b.data(), c.data(), 0.5f);
        benchmark::ClobberMemory();
      }
      byte_counters(st, 3.0 * sizeof(float) * n, n == kTriadL3);
    });
  }
}

}  // namespace fennec_bench
