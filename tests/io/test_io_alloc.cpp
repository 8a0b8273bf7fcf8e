// SPDX-License-Identifier: Apache-2.0
// The loaders and writers never touch the heap: this binary links the shared allocation counter
// (common/alloc_counter.cpp: every operator new and, on glibc without sanitizers, every
// malloc-family call), proves the counter works, prepares all inputs, and then requires zero
// calls across: model file save/load (memory, stream, file), safetensors export/import (memory,
// mmap'ed file), checkpoint save/validate/restore (memory and the two-slot file protocol), and
// the rejection of malformed inputs.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/alloc_counter.hpp"
#include "fennec/checkpoint.hpp"
#include "fennec/io_file.hpp"
#include "fennec/safetensors.hpp"
#include "io_test_util.hpp"

using namespace fennec;
using namespace io_test;

namespace {
void* volatile g_sink = nullptr;
std::uint64_t heap_calls() { return fennec_tools::heap_calls(); }
}

TEST_CASE("io alloc: the counter sees deliberate allocations", "[io][alloc]") {
  const std::uint64_t a = heap_calls();
  int* p = new int(3);
  g_sink = p;
  delete p;
  CHECK(heap_calls() - a == 1);
  if (fennec_tools::alloc_counting_covers_malloc()) {
    void* q = std::malloc(10);
    g_sink = q;
    std::free(q);
    CHECK(heap_calls() - a == 2);
  } else {
    WARN("malloc not counted in this build (sanitizer or non-glibc): operator new only");
  }
}

TEST_CASE("io alloc: loaders and writers make zero heap calls", "[io][alloc]") {
  // ---- setup (allocates) ----
  OwnedModel src(small_spec(), training(OptimizerKind::kAdam, 2));
  Result<Trainer> t = Trainer::create(src.model, TrainerConfig{OptimizerConfig::adam(), ClipConfig{}});
  REQUIRE(t.is_ok());
  Trainer trainer = t.value();
  // A second trainer of the same model on a schedule: its checkpoints are version 2.
  TrainerConfig scheduled_config{OptimizerConfig::adam(), ClipConfig{}};
  scheduled_config.schedule = ScheduleConfig::plateau(2, 0.5).with_warmup(3);
  Result<Trainer> st = Trainer::create(src.model, scheduled_config);
  REQUIRE(st.is_ok());
  Trainer scheduled = st.value();
  Rng rng(5);
  const std::size_t model_bytes = static_cast<std::size_t>(model_file_size(small_spec()));
  std::vector<unsigned char> model_buf(model_bytes), st_buf(4096), ck_buf(1 << 16), bad(model_bytes);
  fennec_test::OwnedArena arena(1 << 20);
  const std::string dir = temp_dir();
  const std::string model_path = dir + "/alloc.fennec", st_path = dir + "/alloc.safetensors",
                    ck_path = dir + "/alloc.ckpt";
  std::uint64_t pos = 17, pos_out = 0;
  const ActivationSpec acts[3] = {ActivationSpec::relu(), ActivationSpec::leaky_relu(0.125f),
                                  ActivationSpec::identity()};
  SafetensorsImport imp;
  imp.activations = acts;
  imp.num_activations = 3;
  ModelOptions io = inference();
  const float x_in[2 * 5] = {0.5f, -1.f, 0.25f, 2.f, 0.f, 1.f, 1.5f, -0.5f, 0.125f, -2.f};
  const std::int32_t y_in[2] = {1, 2};
  std::vector<unsigned char> tuned_buf(model_bytes);
  MemoryWriter tw(tuned_buf.data(), tuned_buf.size());
  ByteWriter w4 = tw.writer();

  const std::uint64_t before = heap_calls();
  // ---- measured: no heap from here ----
  MemoryWriter mw(model_buf.data(), model_buf.size());
  ByteWriter w = mw.writer();
  REQUIRE(save_model(src.model, w).is_ok());
  arena.arena.reset();
  REQUIRE(load_model(model_buf.data(), model_buf.size(), io, arena.arena).is_ok());
  MemoryReader mr(model_buf.data(), model_buf.size());
  ByteReader r = mr.reader();
  arena.arena.reset();
  REQUIRE(load_model(r, io, arena.arena).is_ok());
  REQUIRE(save_model_file(src.model, model_path.c_str()).is_ok());
  arena.arena.reset();
  REQUIRE(load_model_file(model_path.c_str(), io, arena.arena).is_ok());

  MemoryWriter sw(st_buf.data(), st_buf.size());
  ByteWriter w2 = sw.writer();
  REQUIRE(save_safetensors(src.model, w2).is_ok());
  arena.arena.reset();
  REQUIRE(load_safetensors(st_buf.data(), sw.size(), imp, io, arena.arena).is_ok());
  REQUIRE(save_safetensors_file(src.model, st_path.c_str()).is_ok());
  arena.arena.reset();
  REQUIRE(load_safetensors_file(st_path.c_str(), imp, io, arena.arena).is_ok());

  MemoryWriter cw(ck_buf.data(), ck_buf.size());
  ByteWriter w3 = cw.writer();
  REQUIRE(save_checkpoint(trainer, rng, w3, &pos, sizeof(pos)).is_ok());
  REQUIRE(read_checkpoint_info(ck_buf.data(), cw.size()).is_ok());
  REQUIRE(restore_checkpoint(ck_buf.data(), cw.size(), trainer, rng, &pos_out, sizeof(pos_out)).is_ok());
  REQUIRE(save_checkpoint_file(trainer, rng, ck_path.c_str(), &pos, sizeof(pos)).is_ok());
  REQUIRE(save_checkpoint_file(trainer, rng, ck_path.c_str(), &pos, sizeof(pos)).is_ok());
  REQUIRE(read_checkpoint_file_info(ck_path.c_str()).is_ok());
  REQUIRE(restore_checkpoint_file(ck_path.c_str(), trainer, rng, &pos_out, sizeof(pos_out)).is_ok());
  REQUIRE(scheduled.observe_metric(0.5).is_ok());
  MemoryWriter cw2(ck_buf.data(), ck_buf.size());
  ByteWriter w5 = cw2.writer();
  REQUIRE(save_checkpoint(scheduled, rng, w5, &pos, sizeof(pos)).is_ok());
  REQUIRE(read_checkpoint_info(ck_buf.data(), cw2.size())->version == 2);
  REQUIRE(restore_checkpoint(ck_buf.data(), cw2.size(), scheduled, rng, &pos_out, sizeof(pos_out)).is_ok());
  REQUIRE(save_checkpoint_file(scheduled, rng, ck_path.c_str(), &pos, sizeof(pos)).is_ok());
  REQUIRE(restore_checkpoint_file(ck_path.c_str(), scheduled, rng, &pos_out, sizeof(pos_out)).is_ok());

  // In place (external parameters): inference over the buffer and over a read-only mapping,
  // fine-tuning with frozen layers read from it, and a refused misaligned copy.
  const ModelOptions xip = inference().with_external_parameters();
  const ModelOptions tune =
      ModelOptions::training(2, OptimizerConfig::adam()).with_frozen_layers(2).with_external_parameters();
  arena.arena.reset();
  {
    Result<Model> m = load_model_in_place(model_buf.data(), model_buf.size(), xip, arena.arena);
    REQUIRE(m.is_ok());
    REQUIRE(m->forward(ConstMatrixView(x_in, 2, small_spec().input)).is_ok());
    arena.arena.reset();
    MappedFile map;
    REQUIRE(map.open(model_path.c_str()).is_ok());
    Result<Model> mm = load_model_in_place(map.data(), map.size(), xip, arena.arena);
    REQUIRE(mm.is_ok());
    REQUIRE(mm->forward(ConstMatrixView(x_in, 2, small_spec().input)).is_ok());
    arena.arena.reset();
    Result<Model> ft = load_model_in_place(model_buf.data(), model_buf.size(), tune, arena.arena);
    REQUIRE(ft.is_ok());
    Result<Trainer> ftt = Trainer::create(ft.value());
    REQUIRE(ftt.is_ok());
    for (int s = 0; s < 5; ++s) REQUIRE(ftt->step(ConstMatrixView(x_in, 2, small_spec().input), Targets::classes(y_in)).is_ok());
    REQUIRE(save_model(ft.value(), w4).is_ok());
    arena.arena.reset();
    REQUIRE(!load_model_in_place(model_buf.data() + 1, model_buf.size() - 1, xip, arena.arena).is_ok());
  }

  // Rejections allocate nothing either.
  for (std::size_t i = 0; i < model_bytes; i += 7) {
    for (std::size_t k = 0; k < model_bytes; ++k) bad[k] = model_buf[k];
    bad[i] ^= 0x5A;
    arena.arena.reset();
    REQUIRE(!load_model(bad.data(), bad.size(), io, arena.arena).is_ok());
    REQUIRE(!load_safetensors(st_buf.data(), i % sw.size(), imp, io, arena.arena).is_ok());
    REQUIRE(!read_checkpoint_info(ck_buf.data(), i).is_ok());
  }
  const std::uint64_t calls = heap_calls() - before;
  // ---- end of measured region ----
  CHECK(calls == 0);
  CHECK(pos_out == 17);
}

TEST_CASE("io alloc: batch-norm safetensors export and import make zero heap calls", "[io][alloc][batchnorm]") {
  // ---- setup (allocates) ----
  const ModelSpec spec = ModelSpec(5).dense(6, ActivationSpec::relu()).batchnorm().dropout(0.25f)
                             .dense(3, ActivationSpec::identity());
  OwnedModel src(spec, training(OptimizerKind::kAdam, 2));
  src.model.set_batches_tracked(9);
  std::vector<unsigned char> st_buf(static_cast<std::size_t>(safetensors_file_size(src.model)));
  fennec_test::OwnedArena arena(1 << 20);
  const std::string st_path = temp_dir() + "/alloc_bn.safetensors";
  const SafetensorsImport imp;  // activations and layer options from the metadata
  const ModelOptions io = inference();

  const std::uint64_t before = heap_calls();
  // ---- measured: no heap from here ----
  MemoryWriter sw(st_buf.data(), st_buf.size());
  ByteWriter w = sw.writer();
  REQUIRE(save_safetensors(src.model, w).is_ok());
  arena.arena.reset();
  REQUIRE(load_safetensors(st_buf.data(), sw.size(), imp, io, arena.arena).is_ok());
  REQUIRE(save_safetensors_file(src.model, st_path.c_str()).is_ok());
  arena.arena.reset();
  Result<Model> m = load_safetensors_file(st_path.c_str(), imp, io, arena.arena);
  REQUIRE(m.is_ok());
  REQUIRE(m->batches_tracked() == 9);
  for (std::size_t i = 0; i < sw.size(); i += 5) {
    arena.arena.reset();
    REQUIRE(!load_safetensors(st_buf.data(), i, imp, io, arena.arena).is_ok());
  }
  const std::uint64_t calls = heap_calls() - before;
  // ---- end of measured region ----
  CHECK(calls == 0);
}
