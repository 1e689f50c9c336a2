// The production storage provider: POSIX files under a root directory (runtime/ real
// providers).
//
// Every path is relative to the root and checked with validateStoragePath(); directories
// along a path are created on open() with a creating mode. I/O is plain POSIX (pread,
// pwrite, fsync, ftruncate, fstat, rename, unlink, opendir): synchronous under the hood, so
// each returned Task completes without suspending. That blocks the event loop for the
// duration of the system call, an accepted cost for a first implementation (TODO(perf): a
// thread pool or io_uring when a service needs it).
//
// Errors: errno becomes an IoErrorKind (ENOENT -> kNotFound, EEXIST -> kAlreadyExists,
// EINVAL -> kInvalidArgument, anything else -> kIo); the message carries the operation, the
// path and strerror. Durability: sync() is fsync(); rename() and remove() also fsync the
// parent directory so they are durable when they return, as storage.h promises.
//
// list() returns every regular file under the root, recursively, as sorted relative names;
// directories themselves are not listed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "moonpool/storage.h"
#include "moonpool/task.h"

namespace moonpool {

class RealStorageProvider final : public StorageProvider {
 public:
  // Files live under `rootDirectory`, which is created (with its parents) by the first
  // open() that creates a file; until then list() is empty and nothing exists.
  explicit RealStorageProvider(std::string rootDirectory);
  RealStorageProvider(const RealStorageProvider&) = delete;
  RealStorageProvider& operator=(const RealStorageProvider&) = delete;
  ~RealStorageProvider() override;

  const std::string& root() const { return root_; }

  // implements StorageProvider
  Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenMode mode) override;
  Task<IoResult<void>> remove(std::string path) override;
  Task<IoResult<void>> rename(std::string from, std::string to) override;
  Task<IoResult<std::vector<std::string>>> list() override;
  Task<IoResult<bool>> exists(std::string path) override;

 private:
  std::string absolute(const std::string& relative) const;
  // Removes the directories along `relative` that are now empty, deepest first.
  void pruneEmptyParents(const std::string& relative) const;

  std::string root_;
};

}  // namespace moonpool
