// SPDX-License-Identifier: Apache-2.0
// Firmware for a model trained elsewhere (examples/pytorch: the 784-512-256-10 Fashion-MNIST
// classifier PyTorch trained with DistributedDataParallel, converted to a Fennec model file):
// the model file sits in flash as it came from the host, embedded at build time
// (FENNEC_M4_IMPORTED_MODEL), and runs in place (fennec::load_model_in_place: the arena holds
// the activations only, the 2.1 MB of parameters stay in flash). The check file
// (FENNEC_M4_IMPORTED_CHECKS, written by examples/pytorch/make_m4_checks.py) holds a few test
// images and the logits the host computed for them; each image must get the host's class and
// logits within kTolerance (the host's SIMD kernels sum in another order than the scalar ones
// here). Prints "N passed, N failed" over semihosting and exits with the failure count.
//
// Check file, little-endian: "FM4C", u32 count, u32 inputs, u32 outputs, then count x inputs
// pixels (u8, scaled by 1/255 as on the host), then count x outputs float32 logits.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fennec/arena.hpp"
#include "fennec/io.hpp"
#include "fennec/model.hpp"
#include "fennec/plan.hpp"
#include "fennec/predict.hpp"
#include "heap_count.hpp"

#if !defined(FENNEC_M4_IMPORTED_MODEL_PATH) || !defined(FENNEC_M4_IMPORTED_CHECKS_PATH)
#error "set FENNEC_M4_IMPORTED_MODEL and FENNEC_M4_IMPORTED_CHECKS (CMake cache) to build this firmware"
#endif

// The two files, byte for byte, in flash (.rodata is linked into CODE), 4-byte aligned: the
// model's floats are read in place.
__asm__(".section .rodata.fennec_imported,\"a\",%progbits\n"
        ".balign 4\n"
        ".global g_imported_model\n"
        "g_imported_model:\n"
        ".incbin \"" FENNEC_M4_IMPORTED_MODEL_PATH "\"\n"
        ".global g_imported_model_end\n"
        "g_imported_model_end:\n"
        ".balign 4\n"
        ".global g_imported_checks\n"
        "g_imported_checks:\n"
        ".incbin \"" FENNEC_M4_IMPORTED_CHECKS_PATH "\"\n"
        ".global g_imported_checks_end\n"
        "g_imported_checks_end:\n"
        ".previous\n");
extern "C" const unsigned char g_imported_model[], g_imported_model_end[];
extern "C" const unsigned char g_imported_checks[], g_imported_checks_end[];

namespace {

constexpr float kTolerance = 1e-4f;
constexpr fennec::ModelOptions kOptions = fennec::ModelOptions::inference(1).with_external_parameters();
constexpr std::size_t kMaxInputs = 1024;
constexpr std::size_t kMaxOutputs = 64;
// Batch-1 activations (two ping-pong rows of the widest layer: room for about 4,000 units); the
// exact need is asked of the file (model_arena_bytes) and printed.
alignas(fennec::kArenaAlignment) unsigned char g_arena[32 * 1024];
float g_input[kMaxInputs];

std::uint32_t u32_at(const unsigned char* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

struct Report {
  int passed = 0, failed = 0;
  bool check(bool ok) {
    ok ? ++passed : ++failed;
    return ok;
  }
};

long nano(float v) { return static_cast<long>(v * 1e9f); }  // nano printf has no %f

void run(Report& report) {
  const std::size_t model_bytes = static_cast<std::size_t>(g_imported_model_end - g_imported_model);
  const std::size_t check_bytes = static_cast<std::size_t>(g_imported_checks_end - g_imported_checks);
  if (check_bytes < 16 || std::memcmp(g_imported_checks, "FM4C", 4) != 0) {
    std::printf("FAIL check file: no FM4C header\n");
    report.check(false);
    return;
  }
  const std::size_t count = u32_at(g_imported_checks + 4), inputs = u32_at(g_imported_checks + 8),
                    outputs = u32_at(g_imported_checks + 12);
  if (inputs > kMaxInputs || outputs > kMaxOutputs || check_bytes != 16 + count * (inputs + 4 * outputs)) {
    std::printf("FAIL check file: %u bytes for %u images of %u inputs and %u outputs (this firmware "
                "takes up to %u inputs and %u outputs)\n",
                static_cast<unsigned>(check_bytes), static_cast<unsigned>(count), static_cast<unsigned>(inputs),
                static_cast<unsigned>(outputs), static_cast<unsigned>(kMaxInputs), static_cast<unsigned>(kMaxOutputs));
    report.check(false);
    return;
  }
  const unsigned char* pixels = g_imported_checks + 16;
  const unsigned char* host_logits = pixels + count * inputs;

  fennec::Result<std::size_t> need = fennec::model_arena_bytes(g_imported_model, model_bytes, kOptions);
  if (!need) {
    std::printf("FAIL model file: %s\n", need.status().message());
    report.check(false);
    return;
  }
  fennec::Arena arena(g_arena, sizeof g_arena);
  fennec::Result<fennec::Model> model = fennec::load_model_in_place(g_imported_model, model_bytes, kOptions, arena);
  if (!model) {
    std::printf("FAIL load_model_in_place: %s\n", model.status().message());
    report.check(false);
    return;
  }
  const fennec::ModelSpec& spec = model->spec();
  std::printf("fennec cortex-m4 imported model: %u inputs, %u layers, %u outputs, %u parameters; "
              "model file %u bytes in flash, arena %u of %u bytes\n",
              static_cast<unsigned>(spec.input), static_cast<unsigned>(spec.num_layers),
              static_cast<unsigned>(spec.output()), static_cast<unsigned>(spec.num_parameters()),
              static_cast<unsigned>(model_bytes), static_cast<unsigned>(arena.used()),
              static_cast<unsigned>(need.value()));
  if (spec.input != inputs || spec.output() != outputs) {
    std::printf("FAIL check file is for %u inputs and %u outputs\n", static_cast<unsigned>(inputs),
                static_cast<unsigned>(outputs));
    report.check(false);
    return;
  }
  report.check(true);  // the file loads in place and fits the check file

  float worst = 0;
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = 0; j < inputs; ++j) g_input[j] = static_cast<float>(pixels[i * inputs + j]) / 255.0f;
    fennec::Result<fennec::ConstMatrixView> z = model->forward({g_input, 1, inputs});
    if (!z) {
      std::printf("FAIL forward: %s\n", z.status().message());
      report.check(false);
      return;
    }
    float diff = 0;
    std::size_t host_class = 0;
    float host_best = 0;
    for (std::size_t k = 0; k < outputs; ++k) {
      float host;
      std::memcpy(&host, host_logits + 4 * (i * outputs + k), sizeof host);
      if (k == 0 || host > host_best) host_best = host, host_class = k;
      const float d = z->row(0)[k] > host ? z->row(0)[k] - host : host - z->row(0)[k];
      if (!(d <= diff)) diff = d;  // NaN becomes the difference
    }
    const std::size_t device_class = fennec::argmax({z->row(0), outputs});
    const bool ok = report.check(device_class == host_class && diff <= kTolerance);
    if (!(diff <= worst)) worst = diff;
    std::printf("%s image %u: class %u (host %u), max |logit difference| %ld e-9\n", ok ? "ok" : "FAIL",
                static_cast<unsigned>(i), static_cast<unsigned>(device_class), static_cast<unsigned>(host_class),
                nano(diff));
  }
  std::printf("%u images: max |logit difference| against the host %ld e-9 (tolerance %ld e-9)\n",
              static_cast<unsigned>(count), nano(worst), nano(kTolerance));
}

}  // namespace

int main() {
  std::printf("fennec cortex-m4: a PyTorch-trained model, in flash, run in place\n");
  const unsigned heap_before = heap_calls();  // after the first printf (newlib's stdio buffer)
  Report report;
  run(report);
  if (!report.check(heap_calls() == heap_before)) std::printf("FAIL heap allocation while loading or running the model\n");
  std::printf("%d passed, %d failed\n", report.passed, report.failed);
  return report.failed;
}
