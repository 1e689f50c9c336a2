// The simulated disks: an in-memory file system per simulated process, with a performance
// model and the fault model of real disks (runtime/ simulated world).
//
// Model. Every owner (a process name; it survives reboots) has its own file system and its
// own StorageOptions. A file keeps two images:
//   - the visible image: every write is applied here at once, so reads see it;
//   - the durable image: what survives a crash. sync() copies the visible image into it.
// Between the two sits the list of unsynced writes. On crash() each unsynced write is lost
// or, with probability faults.crashTear, torn: a random prefix of its sectors reaches the
// durable image (possibly all of them). An unsynced truncate (also kCreateTruncate of an
// existing file) survives with probability crashTear, else the old size comes back.
// rename(), remove() and the creation of a name are durable at once (storage.h's contract
// for rename and remove; creation is a stated simplification). The unsynced backlog is
// bounded per file (4096 operations, 64 MiB): beyond it the oldest operation is written back
// (made durable) on its own, as an OS flushes dirty pages; a "disk.writeback" trace line
// records it.
//
// Corruption. A corrupted read marks its sector bad: later reads of it return the same
// garbage (a retry does not help) until a write to that sector remaps it. Bad sectors
// survive crashes. Corrupted and garbage bytes are deterministic functions of (owner, path,
// offset), and corruption changes every byte it touches.
//
// Uninitialized bytes. Sectors that a crash left without their data (a lost or torn write
// that extended the file, or a truncate-extension that never got synced) read back as
// deterministic pseudo-random garbage derived from (owner, path, offset), not zeros: real
// disks do not promise zeros after a crash. A plain write past end of file zero-fills the
// gap, as POSIX says.
//
// Performance. An operation completes after
//     latency sample + 1/iops + bytes/bandwidth (+ whatever is left of a stall)
// of logical time. Operations of one owner do not queue behind each other (a disk with
// unbounded internal parallelism, bounded only by the iops term per operation).
//
// Faults (StorageOptions::Faults). Every fault is a draw from the counted main stream made
// only when its probability is > 0, so a fault-free configuration draws nothing for faults
// (the latency model still draws one sample per operation unless the model is fixed, which
// LatencyModel::fixed and StorageOptions::quiet() are). Every fault that fires is recorded in
// the Timeline under a "disk.*" kind with the owner as subject and "path @offset" detail
// (disk.lost_unsynced: one record per file and crash, with the count):
//   disk.read_corruption disk.write_corruption disk.lost_write disk.misdirected_write
//   disk.misdirected_read disk.sync_failure disk.torn_write disk.lost_unsynced disk.stall
//   disk.crash disk.wipe
//
// Bounds: kFileBytesMax per file (kIo "file too large" beyond), kFilesPerOwnerMax files per
// owner (kIo "too many files"), kOwnersMax owners (a check: a test bug).
//
// Lifetime: the SimStorage must outlive every File and Task it handed out; disk(owner)
// references stay valid for its whole lifetime. Not thread-safe (simulation is one thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "moonpool/random.h"
#include "moonpool/sim/latency.h"
#include "moonpool/sim/timeline.h"
#include "moonpool/storage.h"
#include "moonpool/time.h"

namespace moonpool {

class SimExecutor;
namespace internal {
struct SimStorageState;  // sim_storage.cpp
}  // namespace internal

struct StorageOptions {
  // Performance model: completion = latency sample + 1/iops + bytes/bandwidth (+ stall left).
  LatencyModel readLatency =
      LatencyModel::uniform(std::chrono::microseconds(50), std::chrono::microseconds(200));
  LatencyModel writeLatency =
      LatencyModel::uniform(std::chrono::microseconds(100), std::chrono::microseconds(500));
  LatencyModel syncLatency =
      LatencyModel::uniform(std::chrono::milliseconds(1), std::chrono::milliseconds(5));
  std::uint64_t iops = 25'000;
  std::uint64_t bytesPerSecond = 150'000'000;
  std::size_t sectorBytes = 512;

  struct Faults {
    // Per sector read: the sector reads as deterministic garbage. Sticky: the sector stays
    // bad (in the visible image) so a retry does not help.
    Probability readCorruption{};
    // Per sector written: the sector is stored corrupted.
    Probability writeCorruption{};
    // Per write: reports success but is never applied (a phantom write).
    Probability lostWrite{};
    // Per write: lands at another sector-aligned offset of the same file.
    Probability misdirectedWrite{};
    // Per read: returns another sector-aligned offset's data.
    Probability misdirectedRead{};
    // Per sync: returns kIo and the writes stay unsynced.
    Probability syncFailure{};
    // On crash, per unsynced write: torn (a random prefix of its sectors applied) rather
    // than lost entirely. Unsynced writes are always lost or torn on crash.
    Probability crashTear{0.5};
    // Per operation: the whole disk of that owner stalls for a draw from `stall`.
    Probability stallProbability{};
    DurationRange stall{std::chrono::milliseconds(100), std::chrono::seconds(1)};
  };
  Faults faults;

  // No faults: 1us fixed latencies, effectively unbounded iops and bandwidth, crashTear 0,
  // so an operation draws nothing (the storage side of WorldOptions::quiet()).
  static StorageOptions quiet();
  // Every fault family on with small random rates, random latency shapes
  // (LatencyModel::randomVariant). Draws only from `config` (a derived stream).
  static StorageOptions chaotic(RandomStream& config);
  // This configuration with each fault family switched off with probability 1/2.
  StorageOptions swarm(RandomStream& config) const;
  // The whole configuration on a few lines, printed next to the seed.
  std::string toString() const;
};

class SimStorage {
 public:
  static constexpr std::uint64_t kFileBytesMax = std::uint64_t{1} << 30;  // 1 GiB
  static constexpr std::size_t kFilesPerOwnerMax = 10'000;
  static constexpr std::size_t kOwnersMax = 10'000;

  // `executor`, `random` and `timeline` outlive this object. `random` should be the
  // simulation's counted main stream. `defaults` applies to owners without setOptions().
  SimStorage(SimExecutor& executor, RandomProvider& random, Timeline& timeline,
             StorageOptions defaults);
  SimStorage(const SimStorage&) = delete;
  SimStorage& operator=(const SimStorage&) = delete;
  ~SimStorage();

  // The file system of `owner`. Created on first use; the reference stays valid for the
  // SimStorage's lifetime, across crash() and wipe().
  StorageProvider& disk(const std::string& owner);
  // Replaces owner's options from now on (operations in flight keep their timing).
  void setOptions(const std::string& owner, StorageOptions options);
  // Owner's current options (the defaults when never set).
  const StorageOptions& options(const std::string& owner) const;

  // A crash of owner's machine: every write not covered by a successful sync is lost or
  // torn (sector granularity, per faults.crashTear); every open File of owner becomes dead
  // (later calls return kInvalidArgument "file closed by a crash"); operations in flight
  // complete with kIo and have no effect.
  void crash(const std::string& owner);
  // Erases every file of owner (crash-and-wipe reboots). Implies crash().
  void wipe(const std::string& owner);

  struct Stats {
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
    std::uint64_t syncs = 0;
    std::uint64_t bytesRead = 0;
    std::uint64_t bytesWritten = 0;
    std::uint64_t faults = 0;  // disk.* timeline records, crashes and wipes included
  };
  // Totals over every owner since construction.
  Stats stats() const;

 private:
  std::unique_ptr<internal::SimStorageState> state_;
};

}  // namespace moonpool
