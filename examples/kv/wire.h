// The KV store's wire protocol: messages and checksummed frames (examples/kv).
//
// Frame layout (all little-endian):
//   [u32 payload length][u32 crc32c(payload)][u32 crc32c(the 8 bytes before it)][payload]
// The header carries its own checksum so a corrupted length is caught before the reader
// waits for bytes that will never come. The payload starts with a message type byte, then
// the message's fields in declaration order. A frame that fails a checksum, announces a
// length outside [1, kFramePayloadBytesMax], names an unknown type, has truncated fields, an
// out-of-range enum, or trailing bytes is rejected with a clear error; the receiver closes
// that connection (never a crash, never a silently accepted corrupt value: bit flips are on
// under chaos).
//
// Conversations are request/response, one request in flight per connection:
//   client  -> primary  Put, Get                       (replies PutReply, GetReply)
//   primary -> backup   Claim, Append, Fetch           (replies ClaimReply, AppendReply,
//                                                       FetchReply)
//   backup  -> backup   Fetch                          (catching up while the primary is away)
// server.h explains what each exchange means for replication and recovery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "codec.h"
#include "moonpool/network.h"
#include "moonpool/task.h"

namespace moonpool::kv {

inline constexpr std::size_t kEntriesPerMessageMax = 64;
inline constexpr std::size_t kFrameHeaderBytes = 12;
inline constexpr std::size_t kFramePayloadBytesMax = 128 * 1024;
// The largest message: a batch of entries plus a few fixed fields.
static_assert(kEntriesPerMessageMax * kEntryBytesMax + 64 <= kFramePayloadBytesMax,
              "a full batch of maximal entries must fit in one frame");

enum class Status : std::uint8_t {
  kOk = 0,
  kNotReady = 1,     // the primary is still recovering: retry later
  kUnavailable = 2,  // no majority in time, or a local failure: retry later
  kNotPrimary = 3,   // a client request reached a backup
  kStale = 4,        // the request's epoch is older than the backup's promise
  kBehind = 5,       // the backup's log is shorter than the request assumed
  kRejected = 6,     // a request that can never succeed (entry out of bounds)
};
inline constexpr std::uint8_t kStatusMax = 6;
const char* statusName(Status status);

enum class Found : std::uint8_t { kNo = 0, kYes = 1 };

struct PutRequest {
  std::uint64_t requestId = 0;
  std::uint32_t clientId = 0;
  Entry entry;
};
struct PutReply {
  std::uint64_t requestId = 0;
  Status status = Status::kOk;
};
struct GetRequest {
  std::uint64_t requestId = 0;
  std::string key;
};
struct GetReply {
  std::uint64_t requestId = 0;
  Status status = Status::kOk;
  Found found = Found::kNo;
  std::uint64_t version = 0;
  std::string value;
};
// Primary -> backup: "promise to ignore every epoch below `epoch`".
struct ClaimRequest {
  std::uint64_t epoch = 0;
};
struct ClaimReply {
  Status status = Status::kOk;  // kOk (promised) or kStale
  std::uint64_t promised = 0;   // the backup's promise after this request
  std::uint64_t length = 0;     // the backup's log length
  std::uint64_t hash = 0;       // the chained hash of the backup's whole log
};
// Primary -> backup: the primary's entries [from, from + entries.size()); `prevHash` is the
// primary's chained hash of its first `from` entries. No entries: a probe of the length.
struct AppendRequest {
  std::uint64_t epoch = 0;
  std::uint64_t from = 0;
  std::uint64_t prevHash = 0;
  std::vector<Entry> entries;
};
struct AppendReply {
  Status status = Status::kOk;  // kOk, kStale, kBehind or kUnavailable
  std::uint64_t promised = 0;
  std::uint64_t length = 0;  // the backup's log length after the request
};
// A read of a backup's entries from `from` on: by the primary during recovery, and by the
// other backup catching up while the primary is away. Reads change nothing, so they are
// never refused for an epoch; whoever appends what it read is fenced instead.
struct FetchRequest {
  std::uint64_t from = 0;
};
struct FetchReply {
  Status status = Status::kOk;  // kOk or kBehind
  std::uint64_t promised = 0;
  std::uint64_t length = 0;
  std::uint64_t prevHash = 0;  // the backup's chained hash of its first `from` entries
  std::vector<Entry> entries;  // at most kEntriesPerMessageMax
};

using Message = std::variant<PutRequest, PutReply, GetRequest, GetReply, ClaimRequest,
                             ClaimReply, AppendRequest, AppendReply, FetchRequest, FetchReply>;

// "put", "append_reply", ... (const char*: absl::StrCat takes it as it is)
const char* messageName(const Message& message);

Bytes encodeMessage(const Message& message);
// kInvalidArgument with the reason for malformed payloads.
absl::StatusOr<Message> decodeMessage(std::span<const std::byte> payload);

// A whole frame for `message`. Checks (a bug otherwise) that the payload fits.
Bytes encodeFrame(const Message& message);

struct FrameHeader {
  std::uint32_t payloadBytes = 0;
  std::uint32_t payloadCrc = 0;
};
// kDataLoss for a header checksum mismatch, kInvalidArgument for a length out of bounds.
absl::StatusOr<FrameHeader> decodeFrameHeader(std::span<const std::byte, kFrameHeaderBytes> header);
// The message of a frame whose header decoded: kDataLoss when the payload checksum fails.
absl::StatusOr<Message> decodeFramePayload(const FrameHeader& header,
                                           std::span<const std::byte> payload);

// Reads one frame. Errors: kUnavailable when the connection failed or ended (the message
// says how), kDataLoss / kInvalidArgument for a corrupt or malformed frame (see above).
Task<absl::StatusOr<Message>> readMessage(Connection& connection);
// Writes one frame; kUnavailable when the connection failed.
Task<absl::Status> writeMessage(Connection& connection, Message message);

// True for the statuses readMessage() returns on a corrupt or malformed frame.
bool isCorruptFrame(const absl::Status& status);

}  // namespace moonpool::kv
