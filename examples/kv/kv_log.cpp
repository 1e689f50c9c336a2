// The KV store's log and promise files (see kv_log.h).
#include "kv_log.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "moonpool/assertions.h"
#include "moonpool/buggify.h"
#include "moonpool/check.h"

namespace moonpool::kv {
namespace {

constexpr std::size_t kPromiseBytes = 12;
// Two copies of the promise, a sector apart or more, so that a torn sector holds one only.
constexpr std::size_t kPromiseCopies = 2;
constexpr std::uint64_t kPromiseSlotStride = 4096;

absl::Status storageError(const char* what, const std::string& path, const IoError& error) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", error.toString()));
}

// Reads the first `size` bytes of `file` (short reads are retried until end of file).
Task<IoResult<Bytes>> readWhole(File& file, std::uint64_t size) {
  Bytes image(size);
  std::uint64_t done = 0;
  while (done < size) {
    const std::size_t chunk = static_cast<std::size_t>(
        std::min<std::uint64_t>(KvLog::kScanChunkBytes, size - done));
    IoResult<std::size_t> got = co_await file.read(done, std::span(image).subspan(done, chunk));
    if (!got.ok()) co_return got.error();
    if (*got == 0) break;  // the file shrank under us: parse what we have
    done += *got;
  }
  image.resize(done);
  co_return image;
}

// One record at `offset`, or the reason the scan stops there.
struct RecordAt {
  std::span<const std::byte> payload;
  LogScan::Tail stop = LogScan::Tail::kClean;
  std::string reason;
};

RecordAt recordAt(std::span<const std::byte> image, std::uint64_t offset) {
  const std::uint64_t left = image.size() - offset;
  if (left < KvLog::kRecordHeaderBytes) {
    return {{}, LogScan::Tail::kTorn,
            absl::StrCat("short record header at offset ", offset, " (", left, " bytes)")};
  }
  ByteReader header(image.subspan(offset, KvLog::kRecordHeaderBytes));
  const std::uint32_t length = *header.u32();
  const std::uint32_t crc = *header.u32();
  if (length == 0 || length > kEntryBytesMax) {
    return {{}, LogScan::Tail::kCorrupt,
            absl::StrCat("record length ", length, " at offset ", offset, " is out of bounds")};
  }
  if (left - KvLog::kRecordHeaderBytes < length) {
    return {{}, LogScan::Tail::kTorn,
            absl::StrCat("record at offset ", offset, " needs ", length, " bytes, ",
                         left - KvLog::kRecordHeaderBytes, " left")};
  }
  std::span<const std::byte> payload = image.subspan(offset + KvLog::kRecordHeaderBytes, length);
  if (recordChecksum(offset, payload) != crc) {
    return {{}, LogScan::Tail::kCorrupt,
            absl::StrCat("record at offset ", offset, " fails its checksum")};
  }
  return {payload, LogScan::Tail::kClean, {}};
}

// Writes `bytes` at `offset`, syncs and reads them back, retrying the whole sequence: a
// lost, misdirected or corrupted write, or a failed sync, is repaired while we still hold the
// bytes. (Retrying after a failed sync rewrites the data too, so it does not depend on the
// dirty pages surviving the failure.)
Task<absl::Status> writeVerified(File& file, TimeProvider* time, std::string path,
                                 std::uint64_t offset, std::span<const std::byte> bytes) {
  absl::Status last = absl::UnavailableError("no attempt made");
  for (int attempt = 0; attempt < KvLog::kAppendAttemptsMax; ++attempt) {
    IoResult<void> wrote = co_await file.write(offset, bytes);
    if (!wrote.ok()) {
      last = storageError("write", path, wrote.error());
      continue;
    }
    // A device that takes its time before the sync: widens the window in which a crash
    // tears the unsynced tail (what open() must then cut).
    const Duration stall = buggifyKnob(Duration(0), Duration(std::chrono::milliseconds(50)),
                                       Duration(std::chrono::seconds(1)));
    if (time != nullptr && stall > Duration(0)) co_await time->sleep(stall);
    IoResult<void> synced = co_await file.sync();
    if (!synced.ok()) {
      last = storageError("sync", path, synced.error());
      continue;
    }
    Bytes back(bytes.size());
    IoResult<std::size_t> got = co_await file.read(offset, back);
    if (!got.ok()) {
      last = storageError("read back", path, got.error());
      continue;
    }
    if (*got == bytes.size() && std::memcmp(back.data(), bytes.data(), bytes.size()) == 0) {
      co_return absl::OkStatus();
    }
    last = absl::DataLossError(absl::StrCat("read-back of ", bytes.size(), " bytes at offset ",
                                            offset, " of ", path, " differs"));
  }
  co_return last;
}

}  // namespace

std::uint32_t recordChecksum(std::uint64_t offset, std::span<const std::byte> payload) {
  Bytes position;
  ByteWriter(position).u64(offset);
  return crc32c(payload, crc32c(position));
}

Bytes encodeRecords(std::span<const Entry> entries, std::uint64_t offset) {
  Bytes out;
  ByteWriter w(out);
  Bytes payload;
  for (const Entry& entry : entries) {
    payload.clear();
    ByteWriter p(payload);
    encodeEntry(p, entry);
    const std::uint64_t at = offset + out.size();  // where this record starts in the file
    w.u32(static_cast<std::uint32_t>(payload.size()));
    w.u32(recordChecksum(at, payload));
    w.raw(payload);
  }
  return out;
}

ParsedLog parseLog(std::span<const std::byte> image) {
  ParsedLog out;
  std::uint64_t offset = 0;
  while (offset < image.size()) {
    RecordAt record = recordAt(image, offset);
    if (record.stop == LogScan::Tail::kClean) {
      ByteReader in(record.payload);
      absl::StatusOr<Entry> entry = decodeEntry(in);
      if (!entry.ok() || in.remaining() != 0 || !entryFits(*entry)) {
        record.stop = LogScan::Tail::kCorrupt;
        record.reason = absl::StrCat("record at offset ", offset, " does not decode: ",
                                     entry.ok() ? "bad entry" : entry.status().message());
      } else {
        // The property the loader exists for, checked on the exact bytes that became the
        // entry (the scan above decided; this re-derives the verdict independently).
        ByteReader header(image.subspan(offset, KvLog::kRecordHeaderBytes));
        (void)header.u32();
        MOONPOOL_ALWAYS(recordChecksum(offset, record.payload) == *header.u32(),
                        "the recovered log never contains a record failing its CRC");
        out.entries.push_back(std::move(*entry));
        offset += KvLog::kRecordHeaderBytes + record.payload.size();
        out.recordEnds.push_back(offset);
        continue;
      }
    }
    out.scan.tail = record.stop;
    out.scan.reason = std::move(record.reason);
    break;
  }
  out.scan.records = out.entries.size();
  out.scan.bytesKept = offset;
  out.scan.bytesDropped = image.size() - offset;
  return out;
}

Task<absl::StatusOr<std::unique_ptr<KvLog>>> KvLog::open(StorageProvider& storage,
                                                         TimeProvider& time, std::string path) {
  IoResult<std::unique_ptr<File>> file = co_await storage.open(path, OpenMode::kCreate);
  if (!file.ok()) co_return storageError("open", path, file.error());
  IoResult<std::uint64_t> size = co_await (*file)->size();
  if (!size.ok()) co_return storageError("size of", path, size.error());
  if (*size > kLogBytesMax) {
    co_return absl::ResourceExhaustedError(
        absl::StrCat(path, " holds ", *size, " bytes (kLogBytesMax is ", kLogBytesMax, ")"));
  }
  IoResult<Bytes> image = co_await readWhole(**file, *size);
  if (!image.ok()) co_return storageError("read", path, image.error());
  ParsedLog parsed = parseLog(*image);
  if (parsed.scan.bytesDropped > 0) {
    IoResult<void> cut = co_await (*file)->truncate(parsed.scan.bytesKept);
    if (!cut.ok()) co_return storageError("truncate", path, cut.error());
    IoResult<void> synced = co_await (*file)->sync();
    if (!synced.ok()) co_return storageError("sync", path, synced.error());
  }
  MOONPOOL_SOMETIMES(parsed.scan.bytesDropped > 0, "a torn log tail was truncated on boot");
  std::unique_ptr<KvLog> log(new KvLog(std::move(*file), time, std::move(path)));
  log->scan_ = std::move(parsed.scan);
  log->fileEnd_ = log->scan_.bytesKept;
  std::uint64_t start = 0;
  for (std::size_t i = 0; i < parsed.entries.size(); ++i) {
    const std::uint64_t end = parsed.recordEnds[i];
    log->adopt(
        std::move(parsed.entries[i]),
        std::span(*image).subspan(start + kRecordHeaderBytes, end - start - kRecordHeaderBytes));
    start = end;
  }
  co_return log;
}

void KvLog::adopt(Entry entry, std::span<const std::byte> payload) {
  hashes_.push_back(chainHash(hashes_.back(), payload));
  entries_.push_back(std::move(entry));
  MOONPOOL_CHECK_EQ(hashes_.size(), entries_.size() + 1);
}

const Entry& KvLog::at(std::uint64_t index) const {
  MOONPOOL_CHECK_LT(index, entries_.size(), "log index out of range");
  return entries_[index];
}

std::uint64_t KvLog::hashAt(std::uint64_t length) const {
  MOONPOOL_CHECK_LE(length, entries_.size(), "hash of a prefix longer than the log");
  return hashes_[length];
}

std::vector<Entry> KvLog::slice(std::uint64_t from, std::size_t countMax) const {
  if (from >= entries_.size()) return {};
  const std::uint64_t end = std::min<std::uint64_t>(entries_.size(), from + countMax);
  return std::vector<Entry>(entries_.begin() + static_cast<std::ptrdiff_t>(from),
                            entries_.begin() + static_cast<std::ptrdiff_t>(end));
}

Task<absl::Status> KvLog::append(std::vector<Entry> entries) {
  if (entries.empty()) co_return absl::OkStatus();
  for (const Entry& e : entries) MOONPOOL_CHECK(entryFits(e), "appending an entry out of bounds");
  const Bytes bytes = encodeRecords(entries, fileEnd_);
  if (fileEnd_ + bytes.size() > kLogBytesMax) {
    co_return absl::ResourceExhaustedError(absl::StrCat(path_, " would exceed kLogBytesMax"));
  }
  absl::Status written = co_await writeVerified(*file_, &time_, path_, fileEnd_, bytes);
  if (!written.ok()) co_return written;
  std::uint64_t offset = 0;
  for (Entry& entry : entries) {
    ByteReader header(std::span(bytes).subspan(offset, kRecordHeaderBytes));
    const std::uint32_t length = *header.u32();
    adopt(std::move(entry), std::span(bytes).subspan(offset + kRecordHeaderBytes, length));
    offset += kRecordHeaderBytes + length;
  }
  MOONPOOL_CHECK_EQ(offset, bytes.size());
  fileEnd_ += bytes.size();
  co_return absl::OkStatus();
}

namespace {

enum class SlotState : std::uint8_t { kEmpty, kValid, kCorrupt };
struct PromiseSlot {
  SlotState state = SlotState::kEmpty;
  std::uint64_t epoch = 0;
};

// Reads one copy: empty (never written: the file is shorter than the slot's start), valid,
// or corrupt (short, or its checksum fails).
Task<IoResult<PromiseSlot>> readSlot(File& file, std::uint64_t offset) {
  std::array<std::byte, kPromiseBytes> raw{};
  IoResult<std::size_t> got = co_await file.read(offset, raw);
  if (!got.ok()) co_return got.error();
  if (*got == 0) co_return PromiseSlot{};
  if (*got != kPromiseBytes) co_return PromiseSlot{.state = SlotState::kCorrupt};
  ByteReader in(raw);
  const std::uint64_t epoch = *in.u64();
  if (*in.u32() != crc32c(std::span(raw).first(8))) {
    co_return PromiseSlot{.state = SlotState::kCorrupt};
  }
  co_return PromiseSlot{.state = SlotState::kValid, .epoch = epoch};
}

}  // namespace

Task<absl::StatusOr<std::uint64_t>> loadPromise(StorageProvider& storage, std::string path) {
  IoResult<std::unique_ptr<File>> file = co_await storage.open(path, OpenMode::kCreate);
  if (!file.ok()) co_return storageError("open", path, file.error());
  std::optional<std::uint64_t> best;
  bool corrupt = false;
  for (std::size_t slot = 0; slot < kPromiseCopies; ++slot) {
    IoResult<PromiseSlot> read = co_await readSlot(**file, slot * kPromiseSlotStride);
    if (!read.ok()) co_return storageError("read", path, read.error());
    if (read->state == SlotState::kCorrupt) corrupt = true;
    if (read->state == SlotState::kValid) best = std::max(best.value_or(0), read->epoch);
  }
  if (best) co_return *best;  // a copy torn by a crash mid-store: the other one holds
  if (corrupt) {
    co_return absl::DataLossError(absl::StrCat(
        path, ": every copy of the epoch promise is corrupt; refusing to start with epoch 0, "
              "which would let a fenced-off primary's messages in. Restore the file or wipe "
              "this server's data directory to rejoin as an empty backup"));
  }
  co_return std::uint64_t{0};  // never promised anything
}

Task<absl::Status> storePromise(StorageProvider& storage, std::string path, std::uint64_t epoch) {
  IoResult<std::unique_ptr<File>> file = co_await storage.open(path, OpenMode::kCreate);
  if (!file.ok()) co_return storageError("open", path, file.error());
  Bytes raw;
  ByteWriter w(raw);
  w.u64(epoch);
  w.u32(crc32c(raw));
  // One copy after the other, each synced and read back before the next is touched: a crash
  // tears at most one, and the other holds the old or the new promise.
  for (std::size_t slot = 0; slot < kPromiseCopies; ++slot) {
    absl::Status written =
        co_await writeVerified(**file, nullptr, path, slot * kPromiseSlotStride, raw);
    if (!written.ok()) co_return written;
  }
  co_return absl::OkStatus();
}

}  // namespace moonpool::kv
