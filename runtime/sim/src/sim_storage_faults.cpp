// The fault model of the simulated disks (see sim/sim_storage.h and sim_storage_disk.h):
// reads and writes with corruption, lost and misdirected I/O and sticky bad sectors, sync
// failures, the unsynced-operation backlog, and crashes that tear or drop unsynced writes.
// Every draw here happens after settle(), in the order the operations take effect.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/internal/fnv1a.h"
#include "sim_storage_disk.h"

namespace moonpool::internal {

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

}  // namespace moonpool::internal
