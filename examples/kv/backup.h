// A backup's incarnation: it keeps a copy of the primary's log and answers the primary's
// claim, append and fetch (KvReplica, kv_service.h; examples/kv, internal to the server;
// protocol in server.h).
//
// Every change of the log or of the promise happens under one lock, so two calls of the
// primary (a live one and a stale one, or a resent append and its first copy) never
// interleave inside an append.
//
// Peer catch-up (server.h): while the primary is silent, the backup reads the other
// backup's entries beyond its own log and appends them — only if, by then, its promise and
// its length are what they were when it asked (no primary spoke in between). Both logs are
// prefixes of one history, so this never makes them diverge; the chained hash checks it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "kv_log.h"
#include "kv_service.moonpool.h"
#include "moonpool/sync.h"
#include "node.h"

namespace moonpool::kv {

class Backup final : public Node {
 public:
  // Batches copied from the other backup in one catch-up round.
  static constexpr int kPeerBatchesMax = 64;
  // Pause between catch-up rounds while the primary stays away.
  static constexpr DurationRange kPeerRound{std::chrono::seconds(1), std::chrono::seconds(2)};

  Backup(Providers providers, ServerConfig config) : Node(providers, std::move(config)) {}
  ~Backup() override;

  // implements KvReplica (claim and append run their handle* body as a served call,
  // node.h; fetch never suspends, so it cannot outlive the backup)
  Task<ClaimReply> claim(std::uint64_t epoch) override;
  Task<AppendReply> append(AppendRequest request) override;
  Task<FetchReply> fetch(std::uint64_t from) override;

 protected:
  // implements Node
  Task<absl::Status> start() override;
  void primaryConnectionEnded() override;

 private:
  Task<ClaimReply> handleClaim(std::uint64_t epoch);
  Task<AppendReply> handleAppend(AppendRequest request);
  // Peer catch-up: a loop, and one batch (false when there is nothing more to copy now).
  Task<void> syncFromPeer();
  Task<bool> copyBatchFromPeer();
  // Whether `epoch` (above the promise) is one the protocol allows (kv_service.h); if not,
  // notes why and the request is answered kRejected.
  bool epochAllowed(std::uint64_t epoch, const char* request);
  // Persists a higher promise; false (and the incarnation fails) when storage failed.
  Task<bool> promise(std::uint64_t epoch);

  std::unique_ptr<KvLog> log_;
  std::uint64_t promised_ = 0;
  TimePoint lastFromPrimary_{};  // the last Claim or Append, on our clock
  enum class PrimaryLink : std::uint8_t { kMaybeAlive, kLost };
  PrimaryLink primaryLink_ = PrimaryLink::kMaybeAlive;  // kLost: a replication connection ended
  Signal primaryLost_;  // notified when primaryLink_ becomes kLost
  Mutex lock_;
  // The other backup, for catch-up (set by start()).
  std::unique_ptr<KvPeer> otherPeer_;
  std::unique_ptr<schema::KvReplicaRemote> other_;
};

}  // namespace moonpool::kv
