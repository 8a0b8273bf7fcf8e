// SPDX-License-Identifier: Apache-2.0
// File-system helpers for model files, safetensors and checkpoints (POSIX: stdio, fsync, rename,
// mmap). Not part of FENNEC_INFERENCE_ONLY builds: boards load from a byte array (io.hpp).
//
// Every writer is crash-safe: it writes PATH.tmp, flushes and fsyncs it, renames it over PATH and
// fsyncs the directory, so PATH is always either the old complete file or the new complete one.
// PATH.tmp is created afresh (a stale one is unlinked, O_EXCL | O_NOFOLLOW), so a symlink planted
// there is never followed; a failed write or rename removes it. Every descriptor is O_CLOEXEC.
// Nothing is written from non-finite parameters or optimizer state (kNonFinite, see io.hpp).
// Checkpoints keep two slots: before the rename, the current PATH becomes PATH.prev if it is a
// valid checkpoint (a torn or corrupt PATH is replaced instead, so it never pushes the last good
// checkpoint out of .prev), and a torn or corrupted PATH (power loss during the rename window,
// bit rot) falls back to PATH.prev. A kill between the two renames leaves PATH missing, the old
// checkpoint in PATH.prev and the new one complete in PATH.tmp (it was fsynced before the first
// rename): a PATH.tmp that validates like any slot and holds a later step than PATH.prev is used,
// and the next save first completes the interrupted one (renames that PATH.tmp to PATH).
// Readers never allocate: model files, checkpoints and safetensors files are read through POSIX
// descriptors (no stdio buffers); tests/io/test_io_alloc.cpp counts zero heap calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fennec/io.hpp"
#include "fennec/safetensors.hpp"
#include "fennec/status.hpp"

#if !defined(FENNEC_INFERENCE_ONLY)
#include "fennec/checkpoint.hpp"
#endif

namespace fennec {

class QuantizedModel;

// Longest path accepted (PATH.prev and PATH.tmp must fit too).
inline constexpr std::size_t kMaxPathBytes = 4096;

[[nodiscard]] Status save_model_file(const Model& model, const char* path);
// The int8 model file (save_quantized_model, fennec/quant_io.hpp), written the same crash-safe way.
[[nodiscard]] Status save_quantized_model_file(const QuantizedModel& model, const char* path);
// Header validation plus the size check against the file's length (no CRC pass).
[[nodiscard]] Result<ModelFileInfo> read_model_file_info(const char* path);
// Arena capacity load_model_file needs for `path` and `options` (see model_arena_bytes in
// io.hpp): read the header, plan, add the alignment slack.
[[nodiscard]] Result<std::size_t> model_file_arena_bytes(const char* path, const ModelOptions& options);
// Streams header -> plan -> bind -> parameters (CRC checked at the end; the arena is rewound on
// any failure).
[[nodiscard]] Result<Model> load_model_file(const char* path, const ModelOptions& options,
                                            Arena& arena, const LoadOptions& load_options = {});

// A read-only memory map of a whole file (mmap PROT_READ, MAP_SHARED; no heap), for
// load_model_in_place: the model reads its parameters from the page cache, nothing is copied.
// The mapping must outlive every model bound over it. Contract: the file must not shrink while
// it is mapped. If another process truncates it, touching a page past the new end raises SIGBUS
// in this process (POSIX), which no library call can turn into a Status: use it for files nobody
// rewrites in place (writers here replace files by rename, which leaves a mapping intact), or
// install a SIGBUS handler that reports the truncation (fennec-infer does), or load with
// load_model_file instead (a copy, read with read(2): a shrinking file is a kCorruptData).
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  // kIoError when the file cannot be opened, inspected or mapped; an empty file maps to
  // (nullptr, 0). A second open() unmaps the first file.
  [[nodiscard]] Status open(const char* path);
  const void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

[[nodiscard]] Status save_safetensors_file(const Model& model, const char* path);
// Reads the file with pread into the arena (load_safetensors over a RandomReader): the header
// into the arena's free space, then the tensors chunk by chunk. A file truncated or rewritten by
// another process during the load gives an error, never a signal.
[[nodiscard]] Result<Model> load_safetensors_file(const char* path, const SafetensorsImport& import,
                                                  const ModelOptions& options, Arena& arena);
// Memory-maps the file and calls load_safetensors on the mapping. Contract: the file must not
// shrink while it is mapped (during this call). If another process truncates it, reading a page
// past the new end raises SIGBUS in this process, which the library cannot turn into a Status; use
// it only for files nobody else writes (a read-only image, a private copy).
[[nodiscard]] Result<Model> load_safetensors_file_mapped(const char* path,
                                                         const SafetensorsImport& import,
                                                         const ModelOptions& options, Arena& arena);
// Largest header read_safetensors_file_spec reads (on its stack); larger is kOutOfMemory.
inline constexpr std::size_t kSafetensorsFileSpecHeader = 64 * 1024;
[[nodiscard]] Result<ModelSpec> read_safetensors_file_spec(const char* path,
                                                           const SafetensorsImport& import);

#if !defined(FENNEC_INFERENCE_ONLY)
struct CheckpointFileInfo {
  CheckpointInfo info{};
  // 0: PATH itself; 1: PATH.prev (PATH was missing, torn or corrupt); 2: PATH.tmp (PATH missing
  // or bad, PATH.tmp valid and later than PATH.prev: a kill between the two renames).
  int slot = 0;
  // Why PATH was rejected when slot != 0.
  Status rejected{};
};

// Crash-safe two-slot write (see above) of what save_checkpoint writes.
[[nodiscard]] Status save_checkpoint_file(const Trainer& trainer, const Rng& rng, const char* path,
                                          const void* user = nullptr, std::size_t user_bytes = 0);
// Validates PATH, else the later valid one of PATH.tmp and PATH.prev (see slot). kCorruptData / kIoError when neither is.
[[nodiscard]] Result<CheckpointFileInfo> read_checkpoint_file_info(const char* path);
// Restores from the slot read_checkpoint_file_info picks (validated fully before any write).
[[nodiscard]] Status restore_checkpoint_file(const char* path, Trainer& trainer, Rng& rng,
                                             void* user = nullptr, std::size_t user_capacity = 0,
                                             CheckpointFileInfo* used = nullptr);

// The argument order before 0.2.0; forwards to the one above and will be removed in 0.3.0.
[[deprecated("use save_checkpoint_file(trainer, rng, path, user, user_bytes)")]] [[nodiscard]] inline Status
save_checkpoint_file(const char* path, const Trainer& trainer, const Rng& rng,
                     const void* user = nullptr, std::size_t user_bytes = 0) {
  return save_checkpoint_file(trainer, rng, path, user, user_bytes);
}
#endif

}  // namespace fennec
