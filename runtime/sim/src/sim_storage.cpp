// Simulated disks (see sim/sim_storage.h).
//
// Longer than the usual ~500 lines because the whole fault model of one device lives here
// and its parts share the per-file bookkeeping (visible image, durable image, unsynced
// operations, bad sectors); splitting it would expose that bookkeeping in a header.
//
// Structure:
//   Inode         one file's contents. Shared by the owner's directory and open handles,
//                 as a POSIX inode: a removed or renamed file stays usable through a handle.
//   SimDisk       one owner's file system (the StorageProvider), its options, its epoch
//                 (bumped by crash(): older handles and operations in flight are dead) and
//                 its stall deadline.
//   SimFile       a handle (the File).
// Every operation first waits out its modeled cost (SimDisk::settle), then takes effect, so
// an operation cut by a crash has no effect.
#include "moonpool/sim/sim_storage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/internal/fnv1a.h"
#include "moonpool/sim/sim_executor.h"

namespace moonpool {

namespace {

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
                 std::uint64_t offset, std::span<std::byte> out) {
  const std::uint64_t base =
      internal::fnv1a(path, internal::fnv1a(owner) ^
                                (pattern == Pattern::kCorruption ? 0x5bd1e995ULL : 0));
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint64_t at = offset + i;
    if (i == 0 || at % 8 == 0) {
      std::uint64_t state = base ^ ((at / 8) * 0x9e3779b97f4a7c15ULL);
      word = splitMix64(state);
    }
    auto value = static_cast<std::uint8_t>(word >> (8 * (at % 8)));
    if (pattern == Pattern::kCorruption) value |= 1;
    out[i] = static_cast<std::byte>(value);
  }
}

// One unsynced change, as it reached the visible image.
struct PendingOp {
  enum class Kind : std::uint8_t { kWrite, kTruncate };
  Kind kind = Kind::kWrite;
  std::uint64_t offset = 0;  // kWrite: where the bytes landed
  Bytes bytes;               // kWrite
  std::uint64_t size = 0;    // kWrite: the file size at least after it; kTruncate: new size
};

void applyOp(Bytes& image, const PendingOp& op) {
  if (op.kind == PendingOp::Kind::kTruncate) {
    image.resize(op.size);
    return;
  }
  MOONPOOL_CHECK_LE(op.offset + op.bytes.size(), op.size, "a write ends past its own size");
  if (image.size() < op.size) image.resize(op.size);
  std::copy(op.bytes.begin(), op.bytes.end(),
            image.begin() + static_cast<std::ptrdiff_t>(op.offset));
}

struct Inode {
  std::string path;  // current name: seeds patterns, names the file in fault details
  Bytes visible;     // what reads see
  Bytes durable;     // what survives a crash
  std::deque<PendingOp> pending;
  std::uint64_t pendingBytes = 0;
  std::set<std::uint64_t> badSectors;  // sticky read corruption, by sector index
};

std::string at(const std::string& path, std::uint64_t offset) {
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

std::uint64_t sectorCount(std::uint64_t offset, std::uint64_t length, std::size_t sector) {
  if (length == 0) return 0;
  return (offset + length - 1) / sector - offset / sector + 1;
}

void checkOptions(const StorageOptions& options) {
  MOONPOOL_CHECK(options.sectorBytes > 0 && options.sectorBytes <= kSectorBytesMax,
                 "sectorBytes must be in [1, 1 MiB]");
  MOONPOOL_CHECK_GT(options.iops, std::uint64_t{0}, "iops must be positive");
  MOONPOOL_CHECK_GT(options.bytesPerSecond, std::uint64_t{0}, "bytesPerSecond must be positive");
  const StorageOptions::Faults& f = options.faults;
  // The fault rates are Probability values, checked in [0, 1] when they were written.
  MOONPOOL_CHECK(f.stall.valid(), "stall range needs 0 <= stall.min <= stall.max");
}

std::string probabilityText(Probability p) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", p.value());
  return text;
}

enum class OpClass : std::uint8_t { kRead, kWrite, kSync };

class SimDisk;

}  // namespace

namespace internal {

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

}  // namespace internal

namespace {

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
    return probability.value() > 0 && state_.random.chance(probability);
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

class SimFile final : public File {
 public:
  SimFile(SimDisk& disk, std::shared_ptr<Inode> inode)
      : disk_(disk), inode_(std::move(inode)), epoch_(disk.epoch()) {
    MOONPOOL_CHECK(inode_ != nullptr, "a SimFile needs its inode");
  }
  SimFile(const SimFile&) = delete;
  SimFile& operator=(const SimFile&) = delete;

  // implements File
  Task<IoResult<std::size_t>> read(std::uint64_t offset, std::span<std::byte> buffer) override {
    if (auto dead = checkAlive()) co_return *dead;
    IoResult<void> settled =
        co_await disk_.settle(OpClass::kRead, buffer.size(), "read " + inode_->path);
    if (!settled.ok()) co_return settled.error();
    co_return disk_.applyRead(*inode_, offset, buffer);
  }
  Task<IoResult<void>> write(std::uint64_t offset, std::span<const std::byte> bytes) override {
    if (auto dead = checkAlive()) co_return *dead;
    if (auto big = checkExtent(offset, bytes.size())) co_return *big;
    IoResult<void> settled =
        co_await disk_.settle(OpClass::kWrite, bytes.size(), "write " + inode_->path);
    if (!settled.ok()) co_return settled;
    disk_.applyWrite(*inode_, offset, bytes);
    co_return IoResult<void>();
  }
  Task<IoResult<void>> sync() override {
    if (auto dead = checkAlive()) co_return *dead;
    IoResult<void> settled =
        co_await disk_.settle(OpClass::kSync, inode_->pendingBytes, "sync " + inode_->path);
    if (!settled.ok()) co_return settled;
    co_return disk_.applySync(*inode_);
  }
  Task<IoResult<std::uint64_t>> size() override {
    if (auto dead = checkAlive()) co_return *dead;
    IoResult<void> settled = co_await disk_.settle(OpClass::kRead, 0, "size " + inode_->path);
    if (!settled.ok()) co_return settled.error();
    co_return std::uint64_t{inode_->visible.size()};
  }
  Task<IoResult<void>> truncate(std::uint64_t size) override {
    if (auto dead = checkAlive()) co_return *dead;
    if (auto big = checkExtent(size, 0)) co_return *big;
    IoResult<void> settled = co_await disk_.settle(OpClass::kWrite, 0, "truncate " + inode_->path);
    if (!settled.ok()) co_return settled;
    disk_.applyTruncate(*inode_, size);
    co_return IoResult<void>();
  }

 private:
  std::optional<IoError> checkAlive() const {
    if (epoch_ == disk_.epoch()) return std::nullopt;
    return IoError{IoErrorKind::kInvalidArgument,
                   "file closed by a crash: '" + inode_->path + "' of " + disk_.owner()};
  }
  std::optional<IoError> checkExtent(std::uint64_t offset, std::uint64_t length) const {
    if (length <= SimStorage::kFileBytesMax && offset <= SimStorage::kFileBytesMax - length) {
      return std::nullopt;
    }
    return IoError{IoErrorKind::kIo, "file too large: '" + inode_->path + "' would reach " +
                                         std::to_string(offset) + "+" + std::to_string(length) +
                                         " bytes, past the simulated limit of 1 GiB per file"};
  }

  SimDisk& disk_;
  std::shared_ptr<Inode> inode_;
  std::uint64_t epoch_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Timing and stalls.

Duration SimDisk::cost(OpClass op, std::uint64_t bytes) {
  const LatencyModel& model = op == OpClass::kRead    ? options_.readLatency
                              : op == OpClass::kWrite ? options_.writeLatency
                                                      : options_.syncLatency;
  const double perOp = kNsPerSecond / static_cast<double>(options_.iops);
  const double transfer =
      static_cast<double>(bytes) * kNsPerSecond / static_cast<double>(options_.bytesPerSecond);
  return model.sample(state_.random) + Duration(static_cast<Duration::rep>(perOp + transfer));
}

void SimDisk::maybeStall(const std::string& what) {
  const StorageOptions::Faults& f = options_.faults;
  if (!fires(f.stallProbability)) return;
  const Duration length = state_.random.durationIn(f.stall);
  stallUntil_ = std::max(stallUntil_, state_.executor.now() + length);
  state_.fault("disk.stall", owner_, what + " stalls the disk for " + formatDuration(length));
}

Task<IoResult<void>> SimDisk::settle(OpClass op, std::uint64_t bytes, std::string what) {
  const std::uint64_t epoch = epoch_;
  const Duration delay = cost(op, bytes);
  MOONPOOL_CHECK_GE(delay, Duration{0}, "a negative modeled cost");
  maybeStall(what);
  co_await state_.executor.sleep(delay);
  // A stall that began while this operation was in flight holds it too (the whole disk).
  for (std::uint64_t waits = 0; stallUntil_ > state_.executor.now(); ++waits) {
    MOONPOOL_CHECK_LT(waits, kStallWaitsMax, "a disk stall never ends");
    co_await state_.executor.sleepUntil(stallUntil_);
  }
  if (epoch != epoch_) {
    co_return IoError{IoErrorKind::kIo,
                      "the disk of " + owner_ + " crashed during " + what + " (in flight)"};
  }
  co_return IoResult<void>();
}

// ---------------------------------------------------------------------------------------
// Data operations (after settle()).

std::optional<std::uint64_t> SimDisk::misdirect(std::uint64_t offset, std::uint64_t length,
                                                std::uint64_t extent) {
  const std::size_t sector = options_.sectorBytes;
  const std::uint64_t sectors = (extent + sector - 1) / sector;
  if (sectors <= 1) return std::nullopt;  // nowhere else to go: no draw
  std::uint64_t index = state_.random.below(sectors - 1);
  if (index >= offset / sector) ++index;  // any sector but the intended one
  const std::uint64_t target = index * sector + offset % sector;
  if (target + length > SimStorage::kFileBytesMax) return std::nullopt;
  return target;
}

void SimDisk::applyWrite(Inode& inode, std::uint64_t offset, std::span<const std::byte> bytes) {
  ++state_.stats.writes;
  state_.stats.bytesWritten += bytes.size();
  if (bytes.empty()) return;  // POSIX: a zero-length write changes nothing
  const StorageOptions::Faults& f = options_.faults;
  const std::size_t sector = options_.sectorBytes;
  if (fires(f.lostWrite)) {
    state_.fault("disk.lost_write", owner_, at(inode.path, offset));
    return;
  }
  std::uint64_t landed = offset;
  if (f.misdirectedWrite.value() > 0) {
    const std::uint64_t extent =
        std::max<std::uint64_t>(inode.visible.size(), offset + bytes.size());
    std::optional<std::uint64_t> target;
    if (extent > sector && fires(f.misdirectedWrite))
      target = misdirect(offset, bytes.size(), extent);
    if (target) {
      landed = *target;
      state_.fault("disk.misdirected_write", owner_,
                   at(inode.path, offset) + " landed @" + std::to_string(landed));
    }
  }
  PendingOp op{.kind = PendingOp::Kind::kWrite,
               .offset = landed,
               .bytes = Bytes(bytes.begin(), bytes.end()),
               .size = std::max(offset, landed) + bytes.size()};
  const std::uint64_t pieceBase = landed;
  forEachSectorPiece(landed, bytes.size(), sector, [&](std::uint64_t here, std::uint64_t length) {
    inode.badSectors.erase(here / sector);  // a rewrite remaps a bad sector
    if (!fires(f.writeCorruption)) return;
    Bytes mask(length);
    fillPattern(Pattern::kCorruption, owner_, inode.path, here, mask);
    for (std::uint64_t i = 0; i < length; ++i) op.bytes[here - pieceBase + i] ^= mask[i];
    state_.fault("disk.write_corruption", owner_, at(inode.path, here));
  });
  applyOp(inode.visible, op);
  pushPending(inode, std::move(op));
}

std::size_t SimDisk::applyRead(Inode& inode, std::uint64_t offset, std::span<std::byte> buffer) {
  ++state_.stats.reads;
  const std::uint64_t size = inode.visible.size();
  if (offset >= size || buffer.empty()) return 0;
  const std::size_t count =
      static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - offset));
  const std::size_t sector = options_.sectorBytes;
  std::uint64_t source = offset;
  if (options_.faults.misdirectedRead.value() > 0 && size > sector &&
      fires(options_.faults.misdirectedRead)) {
    if (std::optional<std::uint64_t> other = misdirect(offset, count, size)) {
      source = *other;
      state_.fault("disk.misdirected_read", owner_,
                   at(inode.path, offset) + " read @" + std::to_string(source));
    }
  }
  // A misdirected read may start near the end: the part past end of file reads as zeros.
  std::size_t available = 0;
  if (source < size) {
    available = static_cast<std::size_t>(std::min<std::uint64_t>(count, size - source));
    std::copy_n(inode.visible.begin() + static_cast<std::ptrdiff_t>(source), available,
                buffer.begin());
  }
  MOONPOOL_CHECK_LE(available, count);
  std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(available),
            buffer.begin() + static_cast<std::ptrdiff_t>(count), std::byte{0});
  forEachSectorPiece(source, count, sector, [&](std::uint64_t here, std::uint64_t length) {
    const std::uint64_t index = here / sector;
    if (!inode.badSectors.contains(index)) {
      if (!fires(options_.faults.readCorruption)) return;
      inode.badSectors.insert(index);
      state_.fault("disk.read_corruption", owner_, at(inode.path, index * sector));
    }
    Bytes mask(length);
    fillPattern(Pattern::kCorruption, owner_, inode.path, here, mask);
    for (std::uint64_t i = 0; i < length; ++i) buffer[here - source + i] ^= mask[i];
  });
  state_.stats.bytesRead += count;
  return count;
}

IoResult<void> SimDisk::applySync(Inode& inode) {
  ++state_.stats.syncs;
  if (fires(options_.faults.syncFailure)) {
    state_.fault("disk.sync_failure", owner_, inode.path);
    return IoError{IoErrorKind::kIo, "sync of '" + inode.path +
                                         "' failed (injected device error); "
                                         "its writes are not durable"};
  }
  for (const PendingOp& op : inode.pending) applyOp(inode.durable, op);
  inode.pending.clear();
  inode.pendingBytes = 0;
  MOONPOOL_CHECK_EQ(inode.durable.size(), inode.visible.size(),
                    "sync left images of different size");
  return IoResult<void>();
}

void SimDisk::applyTruncate(Inode& inode, std::uint64_t size) {
  const std::size_t sector = options_.sectorBytes;
  std::erase_if(inode.badSectors, [&](std::uint64_t index) { return index * sector >= size; });
  PendingOp op{.kind = PendingOp::Kind::kTruncate, .offset = 0, .bytes = {}, .size = size};
  applyOp(inode.visible, op);
  pushPending(inode, std::move(op));
}

void SimDisk::pushPending(Inode& inode, PendingOp op) {
  MOONPOOL_CHECK_LE(inode.visible.size(), SimStorage::kFileBytesMax, "a file grew past its bound");
  inode.pendingBytes += op.bytes.size();
  inode.pending.push_back(std::move(op));
  while (inode.pending.size() > kUnsyncedOpsMax || inode.pendingBytes > kUnsyncedBytesMax) {
    const PendingOp& oldest = inode.pending.front();
    applyOp(inode.durable, oldest);
    MOONPOOL_CHECK_GE(inode.pendingBytes, oldest.bytes.size());
    inode.pendingBytes -= oldest.bytes.size();
    inode.pending.pop_front();
    state_.timeline.trace("disk.writeback", owner_, inode.path);
  }
}

// ---------------------------------------------------------------------------------------
// Crashes.

void SimDisk::growWithGarbage(const Inode& inode, Bytes& image, std::uint64_t size) const {
  const std::uint64_t old = image.size();
  if (size <= old) return;
  image.resize(size);
  fillPattern(Pattern::kUninitialized, owner_, inode.path, old,
              std::span(image).subspan(static_cast<std::size_t>(old)));
}

std::uint64_t SimDisk::applySurvivingWrite(Inode& inode, Bytes& image, const PendingOp& op) {
  const std::size_t sector = options_.sectorBytes;
  const std::uint64_t sectors = sectorCount(op.offset, op.bytes.size(), sector);
  std::uint64_t kept = 0;
  if (fires(options_.faults.crashTear)) {
    kept = sectors > 1 ? 1 + state_.random.below(sectors) : sectors;
    state_.fault("disk.torn_write", owner_,
                 at(inode.path, op.offset) + " kept " + std::to_string(kept) + " of " +
                     std::to_string(sectors) + " sectors");
  }
  std::uint64_t piecesLeft = kept;
  forEachSectorPiece(
      op.offset, op.bytes.size(), sector, [&](std::uint64_t here, std::uint64_t length) {
        if (piecesLeft == 0) return;
        --piecesLeft;
        growWithGarbage(inode, image, here + length);
        const auto from = op.bytes.begin() + static_cast<std::ptrdiff_t>(here - op.offset);
        std::copy(from, from + static_cast<std::ptrdiff_t>(length),
                  image.begin() + static_cast<std::ptrdiff_t>(here));
      });
  if (kept == sectors) growWithGarbage(inode, image, op.size);
  return kept;
}

void SimDisk::crashInode(Inode& inode) {
  Bytes image = inode.durable;
  std::uint64_t lost = 0;  // recorded once per file: a long backlog is one event, not thousands
  for (const PendingOp& op : inode.pending) {
    if (op.kind == PendingOp::Kind::kWrite) {
      if (applySurvivingWrite(inode, image, op) == 0) ++lost;
      continue;
    }
    // An unsynced truncate: its new size reached the metadata (with crashTear) or not. An
    // extension that survives holds no data: garbage, not zeros.
    if (fires(options_.faults.crashTear)) {
      if (op.size < image.size()) image.resize(op.size);
      growWithGarbage(inode, image, op.size);
    } else {
      ++lost;
    }
  }
  if (lost > 0) {
    state_.fault("disk.lost_unsynced", owner_,
                 inode.path + ": " + std::to_string(lost) + " of " +
                     std::to_string(inode.pending.size()) + " unsynced operations lost");
  }
  MOONPOOL_CHECK_LE(image.size(), SimStorage::kFileBytesMax, "a crash grew a file past its bound");
  inode.durable = image;
  inode.visible = std::move(image);
  inode.pending.clear();
  inode.pendingBytes = 0;
  std::erase_if(inode.badSectors, [&](std::uint64_t index) {
    return index * options_.sectorBytes >= inode.visible.size();
  });
}

void SimDisk::crash() {
  ++epoch_;  // every handle and operation in flight is now dead
  stallUntil_ = kTimeZero;
  state_.fault("disk.crash", owner_, std::to_string(files_.size()) + " files");
  for (auto& [path, inode] : files_) crashInode(*inode);  // sorted by path: deterministic
}

void SimDisk::wipe() {
  ++epoch_;
  stallUntil_ = kTimeZero;
  state_.fault("disk.wipe", owner_, std::to_string(files_.size()) + " files erased");
  files_.clear();
}

// ---------------------------------------------------------------------------------------
// Names.

std::optional<IoError> SimDisk::conflict(const std::string& path) const {
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    if (files_.contains(parent)) {
      return IoError{IoErrorKind::kIo,
                     "'" + path + "': '" + parent + "' is a file, not a directory"};
    }
  }
  const std::string prefix = path + "/";
  auto it = files_.lower_bound(prefix);
  if (it != files_.end() && it->first.starts_with(prefix)) {
    return IoError{IoErrorKind::kIo, "'" + path + "' is a directory"};
  }
  return std::nullopt;
}

Task<IoResult<std::unique_ptr<File>>> SimDisk::open(std::string path, OpenMode mode) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid.error();
  const OpClass op = mode == OpenMode::kOpenExisting ? OpClass::kRead : OpClass::kWrite;
  IoResult<void> settled = co_await settle(op, 0, "open " + path);
  if (!settled.ok()) co_return settled.error();
  if (auto bad = conflict(path)) co_return *bad;
  auto it = files_.find(path);
  if (it != files_.end()) {
    if (mode == OpenMode::kCreateNew) {
      co_return IoError{IoErrorKind::kAlreadyExists, "'" + path + "' already exists"};
    }
    if (mode == OpenMode::kCreateTruncate) applyTruncate(*it->second, 0);
    co_return std::unique_ptr<File>(std::make_unique<SimFile>(*this, it->second));
  }
  if (mode == OpenMode::kOpenExisting) {
    co_return IoError{IoErrorKind::kNotFound, "no file '" + path + "' on " + owner_};
  }
  if (files_.size() >= SimStorage::kFilesPerOwnerMax) {
    co_return IoError{IoErrorKind::kIo, "too many files on " + owner_ +
                                            " (the simulated limit is " +
                                            std::to_string(SimStorage::kFilesPerOwnerMax) + ")"};
  }
  auto inode = std::make_shared<Inode>();
  inode->path = path;
  files_.emplace(path, inode);
  co_return std::unique_ptr<File>(std::make_unique<SimFile>(*this, std::move(inode)));
}

Task<IoResult<void>> SimDisk::remove(std::string path) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid;
  IoResult<void> settled = co_await settle(OpClass::kSync, 0, "remove " + path);
  if (!settled.ok()) co_return settled;
  if (auto bad = conflict(path)) co_return *bad;
  if (files_.erase(path) == 0) {
    co_return IoError{IoErrorKind::kNotFound, "no file '" + path + "' on " + owner_};
  }
  co_return IoResult<void>();
}

Task<IoResult<void>> SimDisk::rename(std::string from, std::string to) {
  if (IoResult<void> valid = validateStoragePath(from); !valid.ok()) co_return valid;
  if (IoResult<void> valid = validateStoragePath(to); !valid.ok()) co_return valid;
  IoResult<void> settled = co_await settle(OpClass::kSync, 0, "rename " + from + " to " + to);
  if (!settled.ok()) co_return settled;
  if (auto bad = conflict(from)) co_return *bad;
  auto it = files_.find(from);
  if (it == files_.end()) {
    co_return IoError{IoErrorKind::kNotFound, "no file '" + from + "' on " + owner_};
  }
  if (from == to) co_return IoResult<void>();  // POSIX: renaming a file onto itself is a no-op
  if (auto bad = conflict(to)) co_return *bad;
  std::shared_ptr<Inode> inode = std::move(it->second);
  files_.erase(it);
  inode->path = to;
  files_.insert_or_assign(to, std::move(inode));
  co_return IoResult<void>();
}

Task<IoResult<std::vector<std::string>>> SimDisk::list() {
  IoResult<void> settled = co_await settle(OpClass::kRead, 0, "list");
  if (!settled.ok()) co_return settled.error();
  std::vector<std::string> names;
  names.reserve(files_.size());
  for (const auto& [path, inode] : files_) names.push_back(path);  // std::map: sorted
  co_return names;
}

Task<IoResult<bool>> SimDisk::exists(std::string path) {
  if (IoResult<void> valid = validateStoragePath(path); !valid.ok()) co_return valid.error();
  IoResult<void> settled = co_await settle(OpClass::kRead, 0, "exists " + path);
  if (!settled.ok()) co_return settled.error();
  co_return files_.contains(path);
}

// ---------------------------------------------------------------------------------------
// Options.

StorageOptions StorageOptions::quiet() {
  const LatencyModel quick = LatencyModel::fixed(std::chrono::microseconds(1));
  StorageOptions options;
  options.readLatency = quick;
  options.writeLatency = quick;
  options.syncLatency = quick;
  options.iops = 1'000'000'000'000;
  options.bytesPerSecond = 1'000'000'000'000'000;
  options.faults = Faults{};
  options.faults.crashTear = Probability{};  // unsynced writes simply vanish on crash: no draws
  return options;
}

StorageOptions StorageOptions::chaotic(RandomStream& config) {
  // Log-uniform in [lo, hi): rare faults of every magnitude across seeds.
  auto rate = [&config](double lo, double hi) {
    return Probability(lo * std::pow(hi / lo, config.unit()));
  };
  StorageOptions options;
  options.readLatency = options.readLatency.randomVariant(config);
  options.writeLatency = options.writeLatency.randomVariant(config);
  options.syncLatency = options.syncLatency.randomVariant(config);
  Faults& f = options.faults;
  f.readCorruption = rate(1e-6, 1e-4);
  f.writeCorruption = rate(1e-6, 1e-4);
  f.lostWrite = rate(1e-5, 1e-3);
  f.misdirectedWrite = rate(1e-6, 1e-4);
  f.misdirectedRead = rate(1e-6, 1e-4);
  f.syncFailure = rate(1e-4, 1e-2);
  f.crashTear = Probability(0.2 + 0.6 * config.unit());
  f.stallProbability = rate(1e-5, 1e-3);
  return options;
}

StorageOptions StorageOptions::swarm(RandomStream& config) const {
  StorageOptions options = *this;
  Faults& f = options.faults;
  // One draw per family, always, so the config stream stays aligned whatever is on.
  for (Probability* family :
       {&f.readCorruption, &f.writeCorruption, &f.lostWrite, &f.misdirectedWrite,
        &f.misdirectedRead, &f.syncFailure, &f.crashTear, &f.stallProbability}) {
    if (config.below(2) == 0) *family = Probability{};
  }
  return options;
}

std::string StorageOptions::toString() const {
  const Faults& f = faults;
  return "storage: read " + readLatency.toString() + ", write " + writeLatency.toString() +
         ", sync " + syncLatency.toString() + "\n  iops " + std::to_string(iops) + ", bandwidth " +
         std::to_string(bytesPerSecond) + " B/s, sector " + std::to_string(sectorBytes) +
         " B\n  faults: read_corruption " + probabilityText(f.readCorruption) +
         ", write_corruption " + probabilityText(f.writeCorruption) + ", lost_write " +
         probabilityText(f.lostWrite) + ", misdirected_write " +
         probabilityText(f.misdirectedWrite) + ", misdirected_read " +
         probabilityText(f.misdirectedRead) + "\n          sync_failure " +
         probabilityText(f.syncFailure) + ", crash_tear " + probabilityText(f.crashTear) +
         ", stall " + probabilityText(f.stallProbability) + " for [" + formatDuration(f.stall.min) +
         ", " + formatDuration(f.stall.max) + ")";
}

// ---------------------------------------------------------------------------------------
// SimStorage.

SimStorage::SimStorage(SimExecutor& executor, RandomProvider& random, Timeline& timeline,
                       StorageOptions defaults)
    : state_(std::make_unique<internal::SimStorageState>(
          internal::SimStorageState{executor, random, timeline, std::move(defaults), {}, {}})) {
  checkOptions(state_->defaults);
}

SimStorage::~SimStorage() = default;

namespace {

SimDisk& diskOf(internal::SimStorageState& state, const std::string& owner) {
  auto it = state.disks.find(owner);
  if (it == state.disks.end()) {
    MOONPOOL_CHECK_LT(state.disks.size(), SimStorage::kOwnersMax, "too many simulated disks");
    it = state.disks.emplace(owner, std::make_unique<SimDisk>(state, owner, state.defaults)).first;
  }
  return *it->second;
}

}  // namespace

StorageProvider& SimStorage::disk(const std::string& owner) { return diskOf(*state_, owner); }

void SimStorage::setOptions(const std::string& owner, StorageOptions options) {
  diskOf(*state_, owner).setOptions(std::move(options));
}

const StorageOptions& SimStorage::options(const std::string& owner) const {
  auto it = state_->disks.find(owner);
  return it == state_->disks.end() ? state_->defaults : it->second->options();
}

void SimStorage::crash(const std::string& owner) { diskOf(*state_, owner).crash(); }

void SimStorage::wipe(const std::string& owner) { diskOf(*state_, owner).wipe(); }

SimStorage::Stats SimStorage::stats() const { return state_->stats; }

}  // namespace moonpool
