// SPDX-License-Identifier: Apache-2.0
// File-system helpers (include/fennec/io_file.hpp). POSIX; not in inference-only builds.
#include "fennec/io_file.hpp"
#include "fennec/quant_io.hpp"

#include <cerrno>
#include <cstdio>  // rename, remove
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/bind_and_load.hpp"
#include "io/io_util.hpp"

namespace fennec {

namespace {

Status io_error(const char* what, const char* path) {
  return Status::error(StatusCode::kIoError, "%s '%s': %s", what, path, std::strerror(errno));
}

Status suffixed(const char* path, const char* suffix, char* out) {
  FENNEC_ENSURE(path != nullptr && path[0] != 0, StatusCode::kInvalidArgument, "empty path");
  const std::size_t n = std::strlen(path), m = std::strlen(suffix);
  FENNEC_ENSURE(n + m < kMaxPathBytes, StatusCode::kInvalidArgument, "path longer than %zu bytes",
                kMaxPathBytes - m - 1);
  std::memcpy(out, path, n);
  std::memcpy(out + n, suffix, m + 1);
  return Status::ok();
}

// ---- files: raw POSIX descriptors (stdio's FILE would malloc its buffer) ----
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status open_read(const char* path) {
    path_ = path;
    fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return io_error("cannot open", path);
    return Status::ok();
  }
  // A new file: a stale one (a crash's leftover, or a link planted by whoever can write to the
  // directory) is unlinked first, never followed, and O_EXCL refuses one planted in between.
  Status create_new(const char* path) {
    path_ = path;
    if (::unlink(path) != 0 && errno != ENOENT && errno != EROFS)
      return io_error("cannot remove the stale", path);
    fd_ = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0) return io_error("cannot create", path);
    return Status::ok();
  }
  ByteReader reader() {
    ByteReader r;
    r.read = &File::read;
    r.context = this;
    return r;
  }
  ByteWriter writer() {
    ByteWriter w;
    w.write = &File::write;
    w.context = this;
    return w;
  }
  // fsync, close.
  Status commit() {
    if (::fsync(fd_) != 0) return io_error("cannot fsync", path_);
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return io_error("cannot close", path_);
    return Status::ok();
  }
  // pread loop; fewer bytes than asked only at the end of the file.
  static Status read_at(void* self, std::uint64_t offset, void* data, std::size_t size,
                        std::size_t* got) {
    File& f = *static_cast<File*>(self);
    unsigned char* p = static_cast<unsigned char*>(data);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(f.fd_, p + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read", f.path_);
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    *got = done;
    return Status::ok();
  }
  Result<RandomReader> random_reader() {
    Result<std::uint64_t> n = size();
    if (!n.is_ok()) return n.status();
    RandomReader r;
    r.read_at = &File::read_at;
    r.context = this;
    r.size = n.value();
    return r;
  }
  Result<std::uint64_t> size() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return io_error("cannot stat", path_);
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  static Status read(void* self, void* data, std::size_t size, std::size_t* got) {
    File& f = *static_cast<File*>(self);
    unsigned char* p = static_cast<unsigned char*>(data);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::read(f.fd_, p + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read", f.path_);
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    *got = done;
    return Status::ok();
  }
  static Status write(void* self, const void* data, std::size_t size) {
    File& f = *static_cast<File*>(self);
    const unsigned char* p = static_cast<const unsigned char*>(data);
    while (size) {
      const ssize_t n = ::write(f.fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("cannot write", f.path_);
      p += n;
      size -= static_cast<std::size_t>(n);
    }
    return Status::ok();
  }
  int fd_ = -1;
  const char* path_ = "";
};

Status fsync_parent(const char* path) {
  char dir[kMaxPathBytes];
  const std::size_t n = std::strlen(path);
  if (n >= sizeof(dir)) return Status::ok();
  std::memcpy(dir, path, n + 1);
  char* slash = std::strrchr(dir, '/');
  if (slash == dir) {
    slash[1] = 0;
  } else if (slash) {
    *slash = 0;
  } else {
    dir[0] = '.';
    dir[1] = 0;
  }
  const int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  // Some file systems refuse fsync on directories; the rename is still atomic there.
  if (rc != 0 && errno != EINVAL && errno != EBADF) return io_error("cannot fsync directory", dir);
  return Status::ok();
}

using Producer = Status (*)(ByteWriter& out, const void* context);

// Writes PATH.tmp through `produce`, fsyncs it, optionally moves PATH to PATH.prev, renames
// PATH.tmp to PATH, fsyncs the directory.
Status write_atomically(const char* path, Producer produce, const void* context, bool keep_prev) {
  char tmp[kMaxPathBytes], prev[kMaxPathBytes];
  FENNEC_RETURN_IF_ERROR(suffixed(path, ".tmp", tmp));
  FENNEC_RETURN_IF_ERROR(suffixed(path, ".prev", prev));
  {
    File f;
    FENNEC_RETURN_IF_ERROR(f.create_new(tmp));
    ByteWriter w = f.writer();
    Status s = produce(w, context);
    if (s.is_ok()) s = f.commit();
    if (!s.is_ok()) {
      ::unlink(tmp);
      return s;
    }
  }
  // A failed rename leaves no full copy behind in PATH.tmp.
  if (keep_prev && std::rename(path, prev) != 0 && errno != ENOENT) {
    const Status s = io_error("cannot rename to", prev);
    ::unlink(tmp);
    return s;
  }
  if (std::rename(tmp, path) != 0) {
    const Status s = io_error("cannot rename to", path);
    ::unlink(tmp);
    return s;
  }
  return fsync_parent(path);
}

}  // namespace

// ---- read-only mappings ----
MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

Status MappedFile::open(const char* path) {
  FENNEC_ENSURE(path != nullptr && path[0] != 0, StatusCode::kInvalidArgument, "empty path");
  if (data_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const Status s = io_error("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (static_cast<std::uint64_t>(st.st_size) > static_cast<std::size_t>(-1)) {
    ::close(fd);
    return Status::error(StatusCode::kOutOfMemory, "'%s' is too large to map", path);
  }
  const std::size_t n = static_cast<std::size_t>(st.st_size);
  if (n > 0) {
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const Status s = io_error("cannot map", path);
      ::close(fd);
      return s;
    }
    data_ = p;
    size_ = n;
  }
  ::close(fd);
  return Status::ok();
}

// ---- model files ----
Status save_model_file(const Model& model, const char* path) {
  return write_atomically(
      path,
      [](ByteWriter& w, const void* m) { return save_model(*static_cast<const Model*>(m), w); },
      &model, false);
}

Status save_quantized_model_file(const QuantizedModel& model, const char* path) {
  return write_atomically(
      path,
      [](ByteWriter& w, const void* m) { return save_quantized_model(*static_cast<const QuantizedModel*>(m), w); },
      &model, false);
}

namespace {
Result<ModelFileInfo> open_model(File& f, const char* path, ByteReader& r) {
  FENNEC_RETURN_IF_ERROR(f.open_read(path));
  Result<std::uint64_t> size = f.size();
  if (!size.is_ok()) return size.status();
  Result<ModelFileInfo> info = read_model_info(r);
  if (!info.is_ok()) return info;
  FENNEC_ENSURE(info->file_bytes == size.value(), StatusCode::kCorruptData,
                "model file is %llu bytes, its header describes %llu",
                static_cast<unsigned long long>(size.value()),
                static_cast<unsigned long long>(info->file_bytes));
  return info;
}
}  // namespace

Result<ModelFileInfo> read_model_file_info(const char* path) {
  File f;
  ByteReader r = f.reader();
  return open_model(f, path, r);
}

Result<std::size_t> model_file_arena_bytes(const char* path, const ModelOptions& options) {
  FENNEC_ENSURE(options.max_batch >= 1, StatusCode::kInvalidArgument,
                "model_file_arena_bytes: max_batch must be >= 1");
  Result<ModelFileInfo> info = read_model_file_info(path);
  if (!info.is_ok()) return info.status();
  return model_arena_bytes(info.value(), options);
}

Result<Model> load_model_file(const char* path, const ModelOptions& options, Arena& arena,
                              const LoadOptions& load_options) {
  File f;
  ByteReader r = f.reader();
  Result<ModelFileInfo> info = open_model(f, path, r);
  if (!info.is_ok()) return info.status();
  return io_detail::bind_and_load(info->spec, info->parameter_count, options, arena,
                                  [&](Model& model) {
                                    return restore_model_parameters(r, info.value(), model,
                                                                    load_options);
                                  });
}

// ---- safetensors ----
Status save_safetensors_file(const Model& model, const char* path) {
  return write_atomically(
      path,
      [](ByteWriter& w, const void* m) { return save_safetensors(*static_cast<const Model*>(m), w); },
      &model, false);
}

Result<Model> load_safetensors_file(const char* path, const SafetensorsImport& import,
                                    const ModelOptions& options, Arena& arena) {
  File f;
  FENNEC_RETURN_IF_ERROR(f.open_read(path));
  Result<RandomReader> r = f.random_reader();
  if (!r.is_ok()) return r.status();
  Result<Model> m = load_safetensors(r.value(), import, options, arena);
  if (!m.is_ok()) return Status::error(m.status().code(), "%s: %s", path, m.status().message());
  return m;
}

Result<Model> load_safetensors_file_mapped(const char* path, const SafetensorsImport& import,
                                           const ModelOptions& options, Arena& arena) {
  MappedFile m;
  FENNEC_RETURN_IF_ERROR(m.open(path));
  return load_safetensors(m.data(), m.size(), import, options, arena);
}

Result<ModelSpec> read_safetensors_file_spec(const char* path, const SafetensorsImport& import) {
  File f;
  FENNEC_RETURN_IF_ERROR(f.open_read(path));
  Result<RandomReader> r = f.random_reader();
  if (!r.is_ok()) return r.status();
  unsigned char scratch[kSafetensorsFileSpecHeader];
  return read_safetensors_spec(r.value(), import, scratch, sizeof(scratch));
}

// ---- checkpoints ----
#if !defined(FENNEC_INFERENCE_ONLY)
namespace {

struct CheckpointArgs {
  const Trainer* trainer;
  const Rng* rng;
  const void* user;
  std::size_t user_bytes;
};

Result<CheckpointInfo> validate_checkpoint_file(const char* path) {
  File f;
  FENNEC_RETURN_IF_ERROR(f.open_read(path));
  ByteReader r = f.reader();
  return read_checkpoint_info(r);
}

}  // namespace

Status save_checkpoint_file(const Trainer& trainer, const Rng& rng, const char* path,
                            const void* user, std::size_t user_bytes) {
  const CheckpointArgs args{&trainer, &rng, user, user_bytes};
  // Rotate PATH into the .prev slot only when PATH is a valid checkpoint: a torn or corrupt PATH
  // must not push the last good checkpoint out of .prev (the new PATH simply replaces it).
  bool current_is_valid = validate_checkpoint_file(path).is_ok();
  if (!current_is_valid) {
    // An earlier save was killed between its two renames and PATH.tmp is the newest valid slot
    // (perhaps the one this run resumed from): finish that save first, or creating the new
    // PATH.tmp would destroy it before its successor is durable.
    Result<CheckpointFileInfo> found = read_checkpoint_file_info(path);
    if (found.is_ok() && found->slot == 2) {
      char tmp[kMaxPathBytes];
      FENNEC_RETURN_IF_ERROR(suffixed(path, ".tmp", tmp));
      if (std::rename(tmp, path) != 0) return io_error("cannot rename to", path);
      FENNEC_RETURN_IF_ERROR(fsync_parent(path));
      current_is_valid = true;
    }
  }
  return write_atomically(
      path,
      [](ByteWriter& w, const void* c) {
        const CheckpointArgs& a = *static_cast<const CheckpointArgs*>(c);
        return save_checkpoint(*a.trainer, *a.rng, w, a.user, a.user_bytes);
      },
      &args, current_is_valid);
}

Result<CheckpointFileInfo> read_checkpoint_file_info(const char* path) {
  char prev[kMaxPathBytes], tmp[kMaxPathBytes];
  FENNEC_RETURN_IF_ERROR(suffixed(path, ".prev", prev));
  FENNEC_RETURN_IF_ERROR(suffixed(path, ".tmp", tmp));
  CheckpointFileInfo out;
  Result<CheckpointInfo> cur = validate_checkpoint_file(path);
  if (cur.is_ok()) {
    out.info = cur.value();
    out.slot = 0;
    return out;
  }
  Result<CheckpointInfo> old = validate_checkpoint_file(prev);
  // A kill between the two renames of a save: PATH.tmp was complete and fsynced before PATH moved
  // to .prev. It counts only when it validates like any slot and is later than .prev.
  Result<CheckpointInfo> pending = validate_checkpoint_file(tmp);
  if (pending.is_ok() && (!old.is_ok() || pending->step > old->step)) {
    out.info = pending.value();
    out.slot = 2;
    out.rejected = cur.status();
    return out;
  }
  if (old.is_ok()) {
    out.info = old.value();
    out.slot = 1;
    out.rejected = cur.status();
    return out;
  }
  return Status::error(cur.status().code() == StatusCode::kIoError ? old.status().code()
                                                                   : cur.status().code(),
                       "no valid checkpoint: %s; %s.prev: %s", cur.status().message(), path,
                       old.status().message());
}

Status restore_checkpoint_file(const char* path, Trainer& trainer, Rng& rng, void* user,
                               std::size_t user_capacity, CheckpointFileInfo* used) {
  Result<CheckpointFileInfo> info = read_checkpoint_file_info(path);
  if (!info.is_ok()) return info.status();
  char slot_path[kMaxPathBytes];
  FENNEC_RETURN_IF_ERROR(suffixed(path, info->slot == 0 ? "" : info->slot == 1 ? ".prev" : ".tmp",
                                  slot_path));
  File f;
  FENNEC_RETURN_IF_ERROR(f.open_read(slot_path));
  ByteReader r = f.reader();
  FENNEC_RETURN_IF_ERROR(restore_checkpoint(r, trainer, rng, user, user_capacity));
  if (used) *used = info.value();
  return Status::ok();
}
#endif

}  // namespace fennec
