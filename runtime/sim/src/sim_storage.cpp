// Simulated disks (see sim/sim_storage.h): timing and stalls, file handles, names, options
// and SimStorage. The per-file bookkeeping and SimDisk are declared in sim_storage_disk.h;
// the fault model of data operations and crashes is in sim_storage_faults.cpp.
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
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/sim/sim_executor.h"
#include "sim_storage_disk.h"

namespace moonpool {

namespace {

std::string probabilityText(Probability p) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", p.value());
  return text;
}

}  // namespace

namespace internal {

void checkOptions(const StorageOptions& options) {
  MOONPOOL_CHECK(options.sectorBytes > 0 && options.sectorBytes <= kSectorBytesMax,
                 "sectorBytes must be in [1, 1 MiB]");
  MOONPOOL_CHECK_GT(options.iops, std::uint64_t{0}, "iops must be positive");
  MOONPOOL_CHECK_GT(options.bytesPerSecond, std::uint64_t{0}, "bytesPerSecond must be positive");
  const StorageOptions::Faults& f = options.faults;
  // The fault rates are Probability values, checked in [0, 1] when they were written.
  MOONPOOL_CHECK(f.stall.valid(), "stall range needs 0 <= stall.min <= stall.max");
}

namespace {

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

}  // namespace internal

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
  internal::checkOptions(state_->defaults);
}

SimStorage::~SimStorage() = default;

namespace {

using internal::SimDisk;

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
