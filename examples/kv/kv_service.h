// The KV store's protocol (examples/kv): its messages and its two services, as annotated C++.
// moonpool-annotate generates the Cap'n Proto schema (kv_service.capnp) and the glue
// (kv_service.moonpool.h): KvStoreServer / KvReplicaServer serve an implementation on an
// rpc::Host, KvStoreRemote / KvReplicaRemote call one through an rpc::Peer.
//
//   client  -> primary  KvStore::put, get
//   primary -> backup   KvReplica::claim, append, fetch
//   backup  -> backup   KvReplica::fetch (catching up while the primary is away)
// server.h explains what each call means for replication and recovery. Every server serves
// both services; a store call at a backup answers kNotPrimary, a replica call at the primary
// kNotBackup.
//
// Delivery (rpc/peer.h). A method marked [[moonpool::idempotent]] is resent by the
// generated remote after its connection broke (at-least-once), so the server may run it
// twice; the others are sent at most once (a broken connection: "maybe delivered").
//   put    idempotent: versioned. A version at or below the key's current one appends
//          nothing; it is answered once the entry holding the key's version is committed.
//   get    idempotent: a read.
//   fetch  idempotent: a read.
//   append idempotent: positional. It writes the entries at [from, from + n) of a log whose
//          first `from` entries hash to prevHash; entries the backup already holds are
//          skipped, so running it again leaves the log as once. A copy running late meets
//          either the same log (a no-op) or a higher promise (kStale), as any append does.
//   claim  NOT idempotent: the backup promises an epoch only if it is above its promise
//          (equal is refused). A second delivery of claim(e) is answered kStale, and the
//          primary moves to a higher epoch — correct, but not "the same as once". Accepting
//          an equal epoch instead would let two primary incarnations hold one epoch and
//          defeat the fencing (server.h "Epochs"). So a claim whose connection broke comes
//          back as "maybe delivered", and the primary simply claims again.
//
// Bounds: keys up to kKeyBytesMax, values up to kValueBytesMax, versions from 1, at most
// kEntriesPerMessageMax entries per append or fetch. Cap'n Proto itself bounds nothing of
// this, so the servers check every request and answer kRejected when it is out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "moonpool/task.h"

namespace moonpool::kv {

inline constexpr std::size_t kKeyBytesMax = 64;
inline constexpr std::size_t kValueBytesMax = 1024;
inline constexpr std::size_t kEntriesPerMessageMax = 64;
// Epoch bounds. A primary claims one above the highest promise it was told of, so a
// backup refuses (kRejected, noted) a claim or append that raises its promise by more than
// kEpochStepMax, or goes beyond kEpochMax. One caller can then not end the store's epochs in
// one call (2^64 - 1 would leave no epoch above it); it would need 2^30 accepted claims, each
// a synced write, and the replica service is for cluster members only. A primary that meets
// a promise at kEpochMax stops with an error instead of wrapping around.
inline constexpr std::uint64_t kEpochMax = std::uint64_t{1} << 62;
inline constexpr std::uint64_t kEpochStepMax = std::uint64_t{1} << 32;

// How a server answered. Transport failures are not statuses: they arrive as rpc::RpcError.
enum class Status : std::uint8_t {
  kOk = 0,
  kNotReady = 1,     // the primary is still recovering: retry later
  kUnavailable = 2,  // no majority in time, or a local failure: retry later
  kNotPrimary = 3,   // a client request reached a backup
  kStale = 4,        // the request's epoch is older than the backup's promise
  kBehind = 5,       // the backup's log is shorter than the request assumed
  kRejected = 6,     // a request that can never succeed (out of bounds)
  kNotBackup = 7,    // a replica request reached the primary
};
// "ok", "not_ready", ... (const char*: absl::StrCat takes it as it is)
const char* statusName(Status status);

enum class Found : std::uint8_t { kNo = 0, kYes = 1 };

// One write of the replicated log: key := value at version.
struct [[moonpool::message]] Entry {
  std::string key;
  std::uint64_t version = 0;
  std::string value;

  bool operator==(const Entry&) const = default;
};

struct [[moonpool::message]] PutReply {
  Status status = Status::kOk;
};

struct [[moonpool::message]] GetReply {
  Status status = Status::kOk;
  Found found = Found::kNo;
  std::uint64_t version = 0;
  std::string value;
};

struct [[moonpool::message]] ClaimReply {
  Status status = Status::kOk;  // kOk (promised), kStale or kRejected (epoch out of bounds)
  std::uint64_t promised = 0;   // the backup's promise after this request
  std::uint64_t length = 0;     // the backup's log length
  std::uint64_t hash = 0;       // the chained hash of the backup's whole log
};

// The primary's entries [from, from + entries.size()); `prevHash` is the primary's chained
// hash of its first `from` entries. No entries: a probe of the backup's length.
struct [[moonpool::message]] AppendRequest {
  std::uint64_t epoch = 0;
  std::uint64_t from = 0;
  std::uint64_t prevHash = 0;
  std::vector<Entry> entries;
};

struct [[moonpool::message]] AppendReply {
  Status status = Status::kOk;  // kOk, kStale, kBehind, kRejected or kNotBackup
  std::uint64_t promised = 0;
  std::uint64_t length = 0;     // the backup's log length after the request
};

struct [[moonpool::message]] FetchReply {
  Status status = Status::kOk;  // kOk, kBehind or kNotBackup
  std::uint64_t promised = 0;
  std::uint64_t length = 0;
  std::uint64_t prevHash = 0;   // the backup's chained hash of its first `from` entries
  std::vector<Entry> entries;   // at most kEntriesPerMessageMax
};

// What clients call, on the primary.
class [[moonpool::service]] KvStore {
 public:
  virtual ~KvStore() = default;
  // Writes entry.key := entry.value at entry.version (kOk once on a majority).
  [[moonpool::idempotent]] virtual Task<PutReply> put(Entry entry) = 0;
  // The key's committed version and value (found = kNo: never written).
  [[moonpool::idempotent]] virtual Task<GetReply> get(std::string key) = 0;
};

// What servers call on each other.
class [[moonpool::service]] KvReplica {
 public:
  virtual ~KvReplica() = default;
  // "Promise to ignore every epoch below `epoch`."
  virtual Task<ClaimReply> claim(std::uint64_t epoch) = 0;
  [[moonpool::idempotent]] virtual Task<AppendReply> append(AppendRequest request) = 0;
  // The backup's entries from `from` on (reads change nothing, so they are never refused
  // for an epoch: whoever appends what it read is fenced instead).
  [[moonpool::idempotent]] virtual Task<FetchReply> fetch(std::uint64_t from) = 0;
};

}  // namespace moonpool::kv
