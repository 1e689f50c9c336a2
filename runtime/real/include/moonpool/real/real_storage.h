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
// path and strerror.
//
// Durability contract (what survives a power loss once the call has returned ok):
//   - File::write(): nothing by itself; the bytes may be lost or torn until a later sync().
//   - File::sync(): fsync(2) of the file: its data and size so far.
//   - open() with a creating mode: the file's name, and every directory open() created on
//     the way to it (each new directory is fsynced into its parent, the root included,
//     before anything is made inside it). The file's contents are not made durable.
//   - rename(): the new name and the removal of the old one (both parents fsynced); the
//     directories it creates for the target, as for open().
//   - remove(): the removal of the name (its directory is fsynced). Directories left empty
//     are removed too, without a sync: after a crash an empty directory may reappear, which
//     is harmless because list() shows files only.
//   - Nothing else is durable: a crash between a write() and its sync() may keep any mix
//     of old and new bytes.
// A SyncObserver given to the constructor sees every fsync the provider made, after it
// succeeded (tests check the contract with it).
//
// list() returns every regular file under the root, recursively, as sorted relative names;
// directories themselves are not listed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moonpool/storage.h"
#include "moonpool/task.h"

namespace moonpool {

enum class SyncTarget : std::uint8_t { kFile, kDirectory };

// Sees each successful fsync of RealStorageProvider: a file's (relative path as opened) or
// a directory's (as passed to the system: the root joined with a relative path, "." or "/").
class SyncObserver {
 public:
  virtual ~SyncObserver() = default;
  virtual void synced(SyncTarget target, const std::string& path) = 0;
};

class RealStorageProvider final : public StorageProvider {
 public:
  // Files live under `rootDirectory`, which is created (with its parents) by the first
  // open() that creates a file; until then list() is empty and nothing exists. `observer`
  // (optional) must outlive the provider and its files.
  explicit RealStorageProvider(std::string rootDirectory, SyncObserver* observer = nullptr);
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
  SyncObserver* observer_;
};

}  // namespace moonpool
