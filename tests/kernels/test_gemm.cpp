// SPDX-License-Identifier: Apache-2.0
// GEMM kernels (gemm_nt/nn/tn_f32): the scalar reference and every SIMD table against an oracle
// computed in double inside this test, C = act(alpha A B + beta C0 + bias) (so the reference is
// checked too, also in a FENNEC_SIMD=OFF build), and each SIMD table against the reference.
//
// Shapes: M, N, K each swept over {1,2,3,7,8,15,16,17,31,33,63,64,65,127,129,257,513} with the
// other two fixed at odd sizes (tails of every micro-kernel dimension and of the k/m blocking),
// m == 1 (the GEMV path, null scratch), the small-dimension paths (k, m or n of 1..17 with the
// other two wide), and a few large shapes crossing the m and k blocks.
// Each shape runs with a rotating variant: unaligned pointers and leading dimensions (offsets
// 0, 1, 3 floats), beta 0 (C pre-filled with NaN: it must not be read) / 1 / -0.75, alpha 1 /
// 0.5, bias on/off and every activation. Scratch is exactly gemm_scratch_floats(m, n, k) floats
// followed by canaries, and C's padding columns are canaries too: neither may be written.
//
// Tolerance, per element, for every table against the oracle and each SIMD table against the
// reference: |x - r| <= 4 eps sqrt(k+2) S_ij + 4e-6 |r| + 1e-7, where
// S_ij = |alpha| sum_p |A_ip B_pj| + |beta C_ij| + |bias_j| bounds every partial sum (so
// cancellation cannot make the check flaky), sqrt(k) is the growth of rounding error over a
// k-term sum in any order, and the 4e-6 relative + 1e-7 absolute terms cover the activation
// (xsimd exp/tanh vs libm, a few ulp; sigmoid/tanh/relu are 1-Lipschitz so the sum's error does
// not grow through them).
//
// A bf16 table (products kBf16, isa_list.def: A and B rounded to bf16, f32 accumulation) is held
// to the oracle with (2^-7 + 2^-16) |alpha| sum_p |A_ip B_pj| added to that bound: rounding to
// bf16 (8 significant bits, round to nearest even) moves each factor by at most 2^-8 relative,
// so each product by (1+2^-8)^2 - 1 = 2^-7 + 2^-16 relative; the f32 accumulation is the f32
// term. The reference's C (f32 products) is not a bf16 table's target; test_gemm_bf16.cpp checks
// its rounding bit for bit against a scalar emulation of the instruction.
constexpr double kBf16ProductError = 1.0 / 128 + 1.0 / 65536;
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "fennec/detail/gemm_blocking.hpp"
#include "kernel_checkers.hpp"

using namespace fennec_ktest;
using fennec::ActivationSpec;
using fennec::kernels::GemmArgs;
using fennec::kernels::GemmFn;

namespace {

enum class Form { kNT, kNN, kTN };
const char* form_name(Form f) { return f == Form::kNT ? "nt" : f == Form::kNN ? "nn" : "tn"; }

struct Case {
  Form form;
  std::size_t m, n, k;
  std::size_t off;  // floats added to every pointer and leading dimension
  float alpha, beta;
  bool bias;
  ActivationSpec act;
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "gemm_" << form_name(c.form) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " off=" << c.off
    << " alpha=" << c.alpha << " beta=" << c.beta << " bias=" << c.bias
    << " act=" << fennec::activation_name(c.act.kind);
  return s.str();
}

constexpr float kCanary = 12345.f;

struct Operands {
  std::vector<float> a, b, c0, bias;
  std::size_t lda, ldb, ldc;
};

Operands make_operands(std::mt19937& rng, const Case& c) {
  Operands o;
  const bool a_t = c.form == Form::kTN;   // A stored (k x m)
  const bool b_t = c.form == Form::kNT;   // B stored (n x k)
  const std::size_t a_rows = a_t ? c.k : c.m, a_cols = a_t ? c.m : c.k;
  const std::size_t b_rows = b_t ? c.n : c.k, b_cols = b_t ? c.k : c.n;
  o.lda = a_cols + c.off;
  o.ldb = b_cols + c.off;
  o.ldc = c.n + c.off;
  o.a = uniform(rng, c.off + a_rows * o.lda);
  o.b = uniform(rng, c.off + b_rows * o.ldb);
  o.c0.assign(c.off + c.m * o.ldc, kCanary);
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j)
      o.c0[c.off + i * o.ldc + j] =
          c.beta == 0.f ? std::numeric_limits<float>::quiet_NaN() : std::uniform_real_distribution<float>(-1, 1)(rng);
  o.bias = uniform(rng, c.off + c.n);
  return o;
}

double a_at(const Operands& o, const Case& c, std::size_t i, std::size_t p) {
  return c.form == Form::kTN ? o.a[c.off + p * o.lda + i] : o.a[c.off + i * o.lda + p];
}
double b_at(const Operands& o, const Case& c, std::size_t p, std::size_t j) {
  return c.form == Form::kNT ? o.b[c.off + j * o.ldb + p] : o.b[c.off + p * o.ldb + j];
}

// Runs one GEMM on a copy of C; returns C. Checks the scratch canaries.
std::vector<float> run(GemmFn gemm, const Case& c, const Operands& o) {
  std::vector<float> cbuf = o.c0;
  const std::size_t sf = fennec::gemm_scratch_floats(c.m, c.n, c.k);
  std::vector<float> scratch(sf + 64 + 16, kCanary);
  // 64-byte aligned start, as the arena gives.
  auto base = reinterpret_cast<std::uintptr_t>(scratch.data());
  const std::size_t skip = ((64 - base % 64) % 64) / sizeof(float);
  GemmArgs g;
  g.m = c.m;
  g.n = c.n;
  g.k = c.k;
  g.alpha = c.alpha;
  g.a = o.a.data() + c.off;
  g.lda = o.lda;
  g.b = o.b.data() + c.off;
  g.ldb = o.ldb;
  g.beta = c.beta;
  g.c = cbuf.data() + c.off;
  g.ldc = o.ldc;
  g.bias = c.bias ? o.bias.data() + c.off : nullptr;
  g.act = c.act;
  g.scratch = sf ? scratch.data() + skip : nullptr;
  g.scratch_floats = sf;
  gemm(g);
  for (std::size_t i = skip + sf; i < scratch.size(); ++i)
    if (scratch[i] != kCanary) FAIL_CHECK(describe(c) << ": wrote past gemm_scratch_floats at +" << i - skip - sf);
  return cbuf;
}

// act(v) in double: the oracle's activation.
double activate_exact(const ActivationSpec& a, double v) {
  switch (a.kind) {
    case fennec::Activation::kIdentity: return v;
    case fennec::Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-v));
    case fennec::Activation::kTanh: return std::tanh(v);
    case fennec::Activation::kRelu: return v > 0 ? v : 0.0;
    case fennec::Activation::kLeakyRelu: return v > 0 ? v : static_cast<double>(a.alpha) * v;
  }
  return v;
}

// The oracle, computed in double independently of every table: C_ij =
// act(alpha sum_p A_ip B_pj + beta C0_ij + bias_j), C0 not read when beta == 0; and each
// element's absolute tolerance 4 eps sqrt(k+2) S_ij + 1e-7 (header comment).
struct Exact {
  std::vector<double> value, atol;  // (m x n), row-major
};

Exact exact(const Case& c, const Operands& o, bool bf16_products) {
  Exact e;
  e.value.resize(c.m * c.n);
  e.atol.resize(c.m * c.n);
  const double eps = FLT_EPSILON;
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j) {
      double sum = 0, prods = 0;
      for (std::size_t p = 0; p < c.k; ++p) {
        const double t = a_at(o, c, i, p) * b_at(o, c, p, j);  // exact: a product of two floats
        sum += t;
        prods += std::fabs(t);
      }
      const double c0 = c.beta == 0.f ? 0.0 : static_cast<double>(c.beta) * o.c0[c.off + i * o.ldc + j];
      const double bias = c.bias ? o.bias[c.off + j] : 0.0;
      e.value[i * c.n + j] = activate_exact(c.act, static_cast<double>(c.alpha) * sum + c0 + bias);
      const double s = std::fabs(c.alpha) * prods + std::fabs(c0) + std::fabs(bias);
      e.atol[i * c.n + j] = 4 * eps * std::sqrt(static_cast<double>(c.k) + 2) * s + 1e-7 +
                            (bf16_products ? kBf16ProductError * std::fabs(c.alpha) * prods : 0.0);
    }
  return e;
}

// One table's C against the oracle and, for a SIMD table, against the reference's C; every
// entry outside the (m x n) block (C's padding columns and the floats before C) must still hold
// the sentinel it was filled with.
void check_output(const char* table, const Case& c, const Operands& o, const Exact& e, const std::vector<float>& x,
                  const std::vector<float>* r) {
  INFO(table << " " << describe(c));
  std::size_t bad = 0;
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j) {
      const std::size_t at = c.off + i * o.ldc + j;
      const double want = e.value[i * c.n + j], atol = e.atol[i * c.n + j];
      if (!close(x[at], want, atol, 4e-6) && bad++ < 5)
        FAIL_CHECK("C(" << i << "," << j << ") = " << x[at] << ", exact " << want << ", atol " << atol);
      if (r && !close(x[at], (*r)[at], atol, 4e-6) && bad++ < 5)
        FAIL_CHECK("C(" << i << "," << j << ") = " << x[at] << ", ref " << (*r)[at] << ", atol " << atol);
    }
  CHECK(bad == 0);
  CHECK(canaries_overwritten(x, o.c0, c.off, c.m, c.n, o.ldc) == 0);
}

// The reference against the oracle; a SIMD table against the oracle and the reference's C on
// the same operands (every section draws the same cases from the same seed).
void check_case(GemmFn KernelTable::*fn, const TableUnderTest& t, const Case& c, std::mt19937& rng) {
  const Operands o = make_operands(rng, c);
  const bool bf16 = fennec::kernels::isa_info(t.isa)->products == fennec::kernels::GemmProducts::kBf16;
  const Exact e = exact(c, o, bf16);
  const std::vector<float> r = run(ref().*fn, c, o);
  if (t.isa == fennec::Isa::kRef) {
    check_output("ref", c, o, e, r, nullptr);
  } else {
    check_output(t.name, c, o, e, run(t.table->*fn, c, o), bf16 ? nullptr : &r);
  }
}

const std::size_t kSizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 257, 513};

std::vector<Case> cases(Form f) {
  const ActivationSpec acts[] = {ActivationSpec::identity(), ActivationSpec::relu(), ActivationSpec::sigmoid(),
                                 ActivationSpec::tanh(), ActivationSpec::leaky_relu(0.1f)};
  const std::size_t offs[] = {0, 1, 3};
  const float betas[] = {0.f, 1.f, 0.f, -0.75f};
  std::vector<Case> out;
  std::size_t v = 0;
  auto add = [&](std::size_t m, std::size_t n, std::size_t k) {
    Case c;
    c.form = f;
    c.m = m;
    c.n = n;
    c.k = k;
    c.off = offs[v % 3];
    c.beta = betas[v % 4];
    c.alpha = v % 5 == 3 ? 0.5f : 1.f;
    c.bias = v % 2 == 0;
    c.act = acts[v % 5];
    ++v;
    out.push_back(c);
  };
  for (std::size_t s : kSizes) add(s, 17, 33);  // M tails (and m blocks at 257, 513)
  for (std::size_t s : kSizes) add(7, s, 65);   // N tails
  for (std::size_t s : kSizes) add(13, 19, s);  // K tails (and k blocks at 257, 513)
  for (std::size_t s : kSizes) add(1, s, 65);   // GEMV over n
  for (std::size_t s : kSizes) add(1, 19, s);   // GEMV over k
  // The small-dimension paths (gemm_impl.hpp, SmallTile) across several whole register tiles
  // and the tail tile: NN with small k, TN with small m, NT with n below the packed tile's NR;
  // 203 columns end in a partial vector on every table, 9 rows in a partial row tile.
  for (std::size_t s : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17}) {
    add(37, 203, s);
    add(s, 203, 37);
    add(9, s, 300);
  }
  add(2, 1, 1);
  add(5, 3, 0);  // k == 0: C = act(beta*C + bias)
  if (test_scale() >= 1.0) {
    add(64, 257, 513);
    add(200, 40, 600);  // two m blocks, three k blocks
    add(129, 129, 129);
  } else {
    add(33, 65, 300);
  }
  return out;
}

// The operand layout a GEMM id names: gemm_<op(A)><op(B)>_f32.
bool form_of(const std::string& id, Form* f) {
  for (Form x : {Form::kNT, Form::kNN, Form::kTN})
    if (id == std::string("gemm_") + form_name(x) + "_f32") {
      *f = x;
      return true;
    }
  return false;
}

}  // namespace

void fennec_ktest::check_kernel(const char* id, GemmFn KernelTable::*fn, const TableUnderTest& t) {
  Form f{};
  if (!form_of(id, &f)) FAIL("GEMM id " << id << " names no operand layout this checker knows (nt, nn, tn)");
  std::mt19937 rng(test_seed());
  for (const Case& c : cases(f)) check_case(fn, t, c, rng);
}
