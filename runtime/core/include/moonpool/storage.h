// The storage provider: files with positional I/O and explicit durability (runtime/ core).
//
// Service code reaches disks only through a StorageProvider it was given. Two
// implementations behave the same under the conformance suite
// (test/storage/storage_contract_test.cpp):
//   - SimStorage (sim/sim_storage.h): an in-memory file system per simulated process, with
//     a latency/IOPS model and the fault model of real disks (lost and torn unsynced writes
//     on crash, corruption, misdirected I/O, sync failures, uninitialized reads, stalls);
//   - RealStorageProvider (real/real_storage.h): POSIX files (pread/pwrite/fsync) under a
//     root directory.
//
// Durability contract (what code under test must assume): a write is durable only after a
// later sync() of the same file succeeded. A crash may lose or tear (at sector granularity)
// any write not covered by a successful sync. Creating, renaming and removing a file are
// durable when they return (the real provider fsyncs the parent directory for each).
//
// Paths are relative names inside the provider's root ("log/segment-1"); ".." and absolute
// paths are kInvalidArgument. Lifetime: a File must not outlive its provider; buffers live
// until the returned Task completes or is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "moonpool/io.h"
#include "moonpool/task.h"

namespace moonpool {

enum class OpenMode : std::uint8_t {
  kOpenExisting,   // fails with kNotFound when absent
  kCreate,         // opens, creating an empty file when absent
  kCreateNew,      // fails with kAlreadyExists when present
  kCreateTruncate  // creates or empties
};

class File {
 public:
  virtual ~File() = default;

  // Reads up to buffer.size() bytes at `offset`; fewer only at end of file.
  virtual Task<IoResult<std::size_t>> read(std::uint64_t offset, std::span<std::byte> buffer) = 0;
  // Writes all of `bytes` at `offset`, extending the file (with zeros) as needed.
  virtual Task<IoResult<void>> write(std::uint64_t offset, std::span<const std::byte> bytes) = 0;
  // Makes every earlier write of this file durable.
  virtual Task<IoResult<void>> sync() = 0;
  virtual Task<IoResult<std::uint64_t>> size() = 0;
  virtual Task<IoResult<void>> truncate(std::uint64_t size) = 0;
};

class StorageProvider {
 public:
  virtual ~StorageProvider() = default;

  virtual Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenMode mode) = 0;
  virtual Task<IoResult<void>> remove(std::string path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Task<IoResult<void>> rename(std::string from, std::string to) = 0;
  // Every file name under the root, sorted.
  virtual Task<IoResult<std::vector<std::string>>> list() = 0;
  virtual Task<IoResult<bool>> exists(std::string path) = 0;
};

// Checks a relative path the way both providers do (no "..", not absolute, not empty).
IoResult<void> validateStoragePath(const std::string& path);

}  // namespace moonpool
