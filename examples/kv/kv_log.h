// The KV store's durable state on one server: an append-only log and an epoch promise
// (examples/kv).
//
// Log file: a sequence of records [u32 payload length][u32 checksum][payload], the payload an
// encoded Entry (codec.h) and the checksum recordChecksum(offset, payload): CRC32C over the
// record's own file offset, then the payload. Covering the offset matters: a misdirected write can
// leave a complete, self-consistent copy of a record at another record boundary, and a payload-only
// checksum would let the scan trust it at the wrong place in the log. Durability follows
// storage.h's contract: append() writes a batch of records at the end, syncs, and reads the bytes
// back to compare before it reports success, so a lost, misdirected or corrupted write is caught
// while the entries are still in memory and is simply written again (bounded by
// kAppendAttemptsMax). Nothing is acknowledged to anyone before append() returned OK.
//
// Boot (open()): the whole file is scanned; the scan stops at the first record that is
// short (a torn write at the tail), has an impossible length, fails its checksum or does not
// decode. Everything from there on is truncated and the truncation synced: a record whose
// checksum fails is never trusted, and neither is anything after it (its length field may be
// what is broken). The replication protocol (server.h) refills what was cut from the other
// replicas.
//
// Promise file: the highest epoch a backup promised to a primary, as two copies of
// [u64 epoch][u32 crc32c] at offsets 0 and 4096. storePromise() writes, syncs and reads back
// each copy in turn, so a crash tears at most one: loadPromise() takes the highest valid
// copy. A missing (or empty) file is epoch 0; a file whose copies are all corrupt is a
// DataLoss error and the server does not start: epoch 0 would silently undo the fencing.
//
// Not thread-safe; one KvLog per file, used by one server incarnation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codec.h"
#include "moonpool/providers.h"
#include "moonpool/storage.h"
#include "moonpool/task.h"

namespace moonpool::kv {

// What open() found.
struct LogScan {
  enum class Tail : std::uint8_t {
    kClean,    // the file ended exactly after a good record
    kTorn,     // the last record was cut short (a torn or lost unsynced write)
    kCorrupt,  // a record failed its length bound, checksum or decoding
  };
  std::uint64_t records = 0;
  std::uint64_t bytesKept = 0;
  std::uint64_t bytesDropped = 0;
  Tail tail = Tail::kClean;
  std::string reason;  // why the scan stopped early (empty when clean)
};

class KvLog {
 public:
  static constexpr std::size_t kRecordHeaderBytes = 8;
  static constexpr std::uint64_t kLogBytesMax = std::uint64_t{64} << 20;
  static constexpr std::size_t kScanChunkBytes = 64 * 1024;
  static constexpr int kAppendAttemptsMax = 4;

  // Opens `path` (creating it), scans it, truncates a bad tail and syncs. Errors
  // (kUnavailable) are storage failures; the caller retries later. `time` (for a buggify
  // point: a slow device between a write and its sync) and `storage` outlive the log.
  static Task<absl::StatusOr<std::unique_ptr<KvLog>>> open(StorageProvider& storage,
                                                           TimeProvider& time, std::string path);

  KvLog(const KvLog&) = delete;
  KvLog& operator=(const KvLog&) = delete;

  const LogScan& scan() const { return scan_; }
  std::uint64_t size() const { return entries_.size(); }
  const Entry& at(std::uint64_t index) const;
  // The chained hash of the first `length` entries (length <= size()).
  std::uint64_t hashAt(std::uint64_t length) const;
  // Entries [from, from + countMax) that exist.
  std::vector<Entry> slice(std::uint64_t from, std::size_t countMax) const;

  // Appends durably (see the header comment). On error nothing was added in memory; the
  // file may hold a partial tail past the last good record, which the next append
  // overwrites and the next open() checks like any other record.
  Task<absl::Status> append(std::vector<Entry> entries);

 private:
  KvLog(std::unique_ptr<File> file, TimeProvider& time, std::string path)
      : file_(std::move(file)), time_(time), path_(std::move(path)) {}
  void adopt(Entry entry, std::span<const std::byte> payload);

  std::unique_ptr<File> file_;
  TimeProvider& time_;
  std::string path_;
  LogScan scan_;
  std::uint64_t fileEnd_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> hashes_{kEmptyLogHash};  // hashes_[n]: hash of n entries
};

// Parses a log image as open() does, without touching storage (for tests and open()).
struct ParsedLog {
  std::vector<Entry> entries;
  std::vector<std::uint64_t> recordEnds;  // file offset just past each good record
  LogScan scan;
};
ParsedLog parseLog(std::span<const std::byte> image);

// Encodes `entries` as consecutive log records, the first at file offset `offset`.
Bytes encodeRecords(std::span<const Entry> entries, std::uint64_t offset);
// The checksum of a record with `payload` at file offset `offset`.
std::uint32_t recordChecksum(std::uint64_t offset, std::span<const std::byte> payload);

// The promise file (see the header comment).
Task<absl::StatusOr<std::uint64_t>> loadPromise(StorageProvider& storage, std::string path);
Task<absl::Status> storePromise(StorageProvider& storage, std::string path, std::uint64_t epoch);

}  // namespace moonpool::kv
