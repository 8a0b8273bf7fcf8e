// SPDX-License-Identifier: Apache-2.0
// The checker of the fused optimizer updates (OptimStepFn rows; test_kernel_registry.cpp runs it
// on every table against the scalar reference): each optimizer,
// with and without weight decay, three consecutive steps with the state carried over (so the
// state each step reads is the kernel's own), sizes around the lane count, unaligned offsets.
//
// Tolerance |x - r| <= 1e-7 + 8 eps |r| on w and the state after each step: every formula is a
// handful of rounded operations (FMA contraction and, on ARM, xsimd's Newton-refined division
// differ by an ulp or two from the reference); 3 steps cannot compound that beyond a few ulp.
#include <cfloat>

#include <string>

#include "fennec/optim.hpp"
#include "kernel_checkers.hpp"

using namespace fennec_ktest;
using fennec::kernels::OptimStepArgs;
using fennec::kernels::OptimStepFn;

namespace {

struct State {
  std::vector<float> w, s1, s2;
};

// The optimizer an update kernel's id names (<optimizer_name>_step_f32), whose state slots it
// reads and writes; the slots it does not use are passed as null.
bool optimizer_of(const std::string& id, fennec::OptimizerKind* kind) {
  for (int k = 0; k < fennec::kOptimizerCount; ++k) {
    const auto kk = static_cast<fennec::OptimizerKind>(k);
    if (id == std::string(fennec::optimizer_name(kk)) + "_step_f32") {
      *kind = kk;
      return true;
    }
  }
  return false;
}

}  // namespace

void fennec_ktest::check_kernel(const char* id, OptimStepFn KernelTable::*fn, const TableUnderTest& st) {
  fennec::OptimizerKind kind{};
  if (!optimizer_of(id, &kind)) FAIL("update kernel " << id << " names no optimizer (<optimizer_name>_step_f32)");
  const std::size_t slots = fennec::optimizer_state_slots(kind);
  std::mt19937 rng(test_seed());
  std::vector<std::size_t> sizes = lane_sizes(st.lanes);
  sizes.push_back(1000);
  for (float wd : {0.f, 0.05f})
    for (std::size_t n : sizes)
      for (std::size_t off : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        INFO(st.name << " " << id << " wd=" << wd << " n=" << n << " off=" << off);
        const std::size_t len = off + n + 2;  // the offset and two floats after: sentinels
        State r, x;
        r.w = uniform(rng, len);
        r.s1.assign(len, 0.f);
        r.s2.assign(len, 0.f);
        x = r;
        const State before = r;  // the floats outside [off, off + n) are sentinels
        std::size_t bad = 0;
        for (int t = 1; t <= 3; ++t) {
          const std::vector<float> g = uniform(rng, len, -0.5f, 0.5f);
          OptimStepArgs a;
          a.n = n;
          a.lr = 0.05f;
          a.momentum = 0.9f;
          a.rho = 0.9f;
          a.one_minus_rho = 0.1f;
          a.beta1 = 0.9f;
          a.one_minus_beta1 = 0.1f;
          a.beta2 = 0.999f;
          a.one_minus_beta2 = 0.001f;
          a.eps = 1e-8f;
          a.weight_decay = wd;
          a.decoupled_decay = 1.f - a.lr * wd;
          a.inv_bias_correction1 = static_cast<float>(1.0 / (1.0 - std::pow(0.9, t)));
          a.inv_bias_correction2 = static_cast<float>(1.0 / (1.0 - std::pow(0.999, t)));
          a.g = g.data() + off;
          OptimStepArgs ar = a, ax = a;
          ar.w = r.w.data() + off;
          ar.s1 = slots >= 1 ? r.s1.data() + off : nullptr;
          ar.s2 = slots >= 2 ? r.s2.data() + off : nullptr;
          ax.w = x.w.data() + off;
          ax.s1 = slots >= 1 ? x.s1.data() + off : nullptr;
          ax.s2 = slots >= 2 ? x.s2.data() + off : nullptr;
          (st.oracle->*fn)(ar);
          (st.table->*fn)(ax);
          for (const State* t_out : {&r, &x}) {
            bad += canaries_overwritten(t_out->w, before.w, off, 1, n, n + 2);
            bad += canaries_overwritten(t_out->s1, before.s1, off, 1, n, n + 2);
            bad += canaries_overwritten(t_out->s2, before.s2, off, 1, n, n + 2);
          }
          for (std::size_t i = off; i < off + n; ++i) {
            if (!close(x.w[i], r.w[i], 1e-7, 8 * FLT_EPSILON) && bad++ < 3)
              FAIL_CHECK("step " << t << " w[" << i << "] " << x.w[i] << " vs " << r.w[i]);
            if (!close(x.s1[i], r.s1[i], 1e-7, 8 * FLT_EPSILON) && bad++ < 3)
              FAIL_CHECK("step " << t << " s1[" << i << "] " << x.s1[i] << " vs " << r.s1[i]);
            if (!close(x.s2[i], r.s2[i], 1e-7, 8 * FLT_EPSILON) && bad++ < 3)
              FAIL_CHECK("step " << t << " s2[" << i << "] " << x.s2[i] << " vs " << r.s2[i]);
          }
        }
        CHECK(bad == 0);
      }
}
