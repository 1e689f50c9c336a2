// Internal state of the simulated disks, shared by sim_storage.cpp (timing, handles, names,
// options, SimStorage) and sim_storage_faults.cpp (data operations with their faults, crashes).
//
//   Inode         one file's contents. Shared by the owner's directory and open handles,
//                 as a POSIX inode: a removed or renamed file stays usable through a handle.
//   SimDisk       one owner's file system (the StorageProvider), its options, its epoch
//                 (bumped by crash(): older handles and operations in flight are dead) and
//                 its stall deadline.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moonpool/sim/sim_executor.h"
#include "moonpool/sim/sim_storage.h"

namespace moonpool::internal {

using Bytes = std::vector<std::byte>;

// Unsynced operations kept per file; beyond either bound the oldest is written back (made
// durable), as an OS flushes dirty pages on its own. Bounds memory for never-syncing code.
constexpr std::size_t kUnsyncedOpsMax = 4096;
constexpr std::uint64_t kUnsyncedBytesMax = std::uint64_t{64} << 20;
constexpr std::size_t kSectorBytesMax = std::size_t{1} << 20;
constexpr std::uint64_t kStallWaitsMax = 1'000'000;
constexpr double kNsPerSecond = 1e9;
static_assert(kUnsyncedBytesMax < SimStorage::kFileBytesMax);
static_assert(kSectorBytesMax < SimStorage::kFileBytesMax);

enum class Pattern : std::uint8_t { kUninitialized, kCorruption };

// Deterministic pseudo-random bytes at file offsets [offset, offset + out.size()) of
// (owner, path): a function of the absolute offset only, so any slicing sees the same bytes.
// kCorruption bytes are never zero (they are XOR masks that must change every byte).
void fillPattern(Pattern pattern, const std::string& owner, const std::string& path,
                 std::uint64_t offset, std::span<std::byte> out);

// One unsynced change, as it reached the visible image.
struct PendingOp {
  enum class Kind : std::uint8_t { kWrite, kTruncate };
  Kind kind = Kind::kWrite;
  std::uint64_t offset = 0;  // kWrite: where the bytes landed
  Bytes bytes;               // kWrite
  std::uint64_t size = 0;    // kWrite: the file size at least after it; kTruncate: new size
};

void applyOp(Bytes& image, const PendingOp& op);

struct Inode {
  std::string path;  // current name: seeds patterns, names the file in fault details
  Bytes visible;     // what reads see
  Bytes durable;     // what survives a crash
  std::deque<PendingOp> pending;
  std::uint64_t pendingBytes = 0;
  std::set<std::uint64_t> badSectors;  // sticky read corruption, by sector index
};

inline std::string at(const std::string& path, std::uint64_t offset) {
  return path + " @" + std::to_string(offset);
}

// Calls fn(pieceOffset, pieceLength) for [offset, offset + length) cut at sector boundaries.
template <typename Fn>
void forEachSectorPiece(std::uint64_t offset, std::uint64_t length, std::size_t sector, Fn fn) {
  std::uint64_t done = 0;
  while (done < length) {
    const std::uint64_t here = offset + done;
    const std::uint64_t piece = std::min<std::uint64_t>(length - done, sector - here % sector);
    fn(here, piece);
    done += piece;
  }
}

inline std::uint64_t sectorCount(std::uint64_t offset, std::uint64_t length, std::size_t sector) {
  if (length == 0) return 0;
  return (offset + length - 1) / sector - offset / sector + 1;
}

void checkOptions(const StorageOptions& options);

enum class OpClass : std::uint8_t { kRead, kWrite, kSync };

class SimDisk;

struct SimStorageState {
  SimExecutor& executor;
  RandomProvider& random;
  Timeline& timeline;
  StorageOptions defaults;
  std::map<std::string, std::unique_ptr<SimDisk>, std::less<>> disks;
  SimStorage::Stats stats;

  void fault(std::string_view kind, const std::string& owner, std::string detail) {
    ++stats.faults;
    timeline.fault(kind, owner, std::move(detail));
  }
};

class SimDisk final : public StorageProvider {
 public:
  SimDisk(internal::SimStorageState& state, std::string owner, StorageOptions options)
      : state_(state), owner_(std::move(owner)), options_(std::move(options)) {}
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  const std::string& owner() const { return owner_; }
  std::uint64_t epoch() const { return epoch_; }
  const StorageOptions& options() const { return options_; }
  void setOptions(StorageOptions options) {
    checkOptions(options);
    options_ = std::move(options);
  }

  // Waits out the modeled cost of one operation moving `bytes`; kIo if a crash came first.
  Task<IoResult<void>> settle(OpClass op, std::uint64_t bytes, std::string what);

  void applyWrite(Inode& inode, std::uint64_t offset, std::span<const std::byte> bytes);
  std::size_t applyRead(Inode& inode, std::uint64_t offset, std::span<std::byte> buffer);
  IoResult<void> applySync(Inode& inode);
  void applyTruncate(Inode& inode, std::uint64_t size);

  void crash();
  void wipe();

  // implements StorageProvider
  Task<IoResult<std::unique_ptr<File>>> open(std::string path, OpenMode mode) override;
  Task<IoResult<void>> remove(std::string path) override;
  Task<IoResult<void>> rename(std::string from, std::string to) override;
  Task<IoResult<std::vector<std::string>>> list() override;
  Task<IoResult<bool>> exists(std::string path) override;

 private:
  bool fires(Probability probability) {
    return state_.random.chance(probability);
  }
  Duration cost(OpClass op, std::uint64_t bytes);
  void maybeStall(const std::string& what);
  std::optional<IoError> conflict(const std::string& path) const;
  std::optional<std::uint64_t> misdirect(std::uint64_t offset, std::uint64_t length,
                                         std::uint64_t extent);
  void pushPending(Inode& inode, PendingOp op);
  void crashInode(Inode& inode);
  // Applies what of `op` survives a crash to `image`; returns the sectors kept.
  std::uint64_t applySurvivingWrite(Inode& inode, Bytes& image, const PendingOp& op);
  void growWithGarbage(const Inode& inode, Bytes& image, std::uint64_t size) const;

  internal::SimStorageState& state_;
  std::string owner_;
  StorageOptions options_;
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> files_;
  std::uint64_t epoch_ = 0;
  TimePoint stallUntil_ = kTimeZero;
};

}  // namespace moonpool::internal
