// The primary's incarnation: recovery, the log writer, replication and client requests
// (examples/kv, internal to the server; the protocol is described in server.h).
//
// Tasks of one incarnation:
//   recover      claims both backups, adopts the longest log, then starts the others;
//   writer       appends queued entries to the local log in batches (group commit);
//   replicate×2  one per backup: sends what the backup misses, probes it when idle, and
//                advances the commit length from its acknowledgements;
// Client calls (KvStore::put, get) run as tasks of the rpc::Host (Node). Until recovery
// finishes they get kNotReady. The backups are reached through one KvPeer each (reconnecting,
// failure-monitored) and the generated KvReplicaRemote.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kv_log.h"
#include "kv_service.moonpool.h"
#include "moonpool/sync.h"
#include "node.h"

namespace moonpool::kv {

class Primary final : public Node {
 public:
  // Queued entries not yet handed to the writer; beyond this PUTs get kUnavailable.
  static constexpr std::size_t kPendingMax = 256;
  static constexpr std::size_t kBackups = kServers - 1;
  // Recovery rounds (claims refused as stale, fetches aborted) before the incarnation gives
  // up and boots again from its files.
  static constexpr int kRecoveryRoundsMax = 100;

  Primary(Providers providers, ServerConfig config);
  ~Primary() override;

  // implements KvStore (each runs its handle* body as a served call, node.h)
  Task<PutReply> put(Entry entry) override;
  Task<GetReply> get(std::string key) override;

 protected:
  // implements Node
  Task<absl::Status> start() override;

 private:
  enum class Phase : std::uint8_t { kRecovering, kServing };
  struct KeyState {
    std::uint64_t version = 0;
    std::string value;
    std::uint64_t index = 0;  // the log index of the entry that set it
  };
  struct BackupState {
    std::uint32_t id = 0;
    NetAddress address;
    std::uint64_t acked = 0;  // the backup's log length it last acknowledged
  };

  // Recovery (primary_recovery.cpp).
  struct Claimed {
    absl::Status status;     // ok; kAborted: start recovery over; else a local failure
    std::uint64_t epoch = 0;  // the epoch this backup promised us
    ClaimReply reply;         // its answer (its log length and hash then)
  };
  // A backup's connection: its peer and the generated remote on it.
  struct BackupLink {
    std::unique_ptr<KvPeer> peer;
    std::unique_ptr<schema::KvReplicaRemote> replica;
  };
  Task<void> recover();
  // Claims `backup`, then copies what it holds beyond our log.
  Task<Claimed> recoverFrom(std::size_t backup);
  // One fetched batch appended to the log, up to `length` entries in all. kUnavailable:
  // retry; kAborted: the backup changed under us; other errors: a local failure.
  Task<absl::Status> fetchOnce(std::size_t backup, std::uint64_t length);
  void checkPrefix(const ClaimReply& reply);
  void rebuildMap();
  void startServing(std::uint64_t bootLength, std::uint64_t committed);

  // Serving (primary.cpp).
  Task<void> writer();
  Task<void> replicate(std::size_t backup);
  // One append exchange with a backup: its log length afterwards (nullopt when the
  // exchange failed) and how it answered.
  struct Exchanged {
    std::optional<std::uint64_t> length;
    Status status = Status::kUnavailable;
  };
  Task<Exchanged> replicateOnce(std::size_t backup, std::optional<std::uint64_t> known);
  Task<PutReply> handlePut(Entry entry);
  Task<GetReply> handleGet(std::string key);
  // Waits until the first `length` entries are on a majority, at most commitWaitMax.
  Task<bool> committedWithin(std::uint64_t length);
  Task<void> untilCommitted(std::uint64_t length);
  void noteAcked(std::size_t backup, std::uint64_t length);

  std::unique_ptr<KvLog> log_;
  Phase phase_ = Phase::kRecovering;
  std::uint64_t epoch_ = 0;      // the epoch this incarnation serves with
  std::uint64_t nextEpoch_ = 1;  // where the next claim starts
  Mutex fetchLock_;              // recovery's fetchers append one at a time
  std::map<std::string, KeyState> map_;
  std::vector<Entry> pending_;
  std::uint64_t nextIndex_ = 0;      // the index the next queued entry gets
  std::uint64_t commitLength_ = 0;   // entries [0, commitLength_) are on a majority
  std::array<BackupState, kBackups> backups_;
  std::array<BackupLink, kBackups> links_;  // set by start()
  Signal logGrew_;       // the writer made entries durable (replicators send them)
  Signal committed_;     // the commit length grew (requests waiting for it re-check)
  Signal pendingReady_;  // an entry was queued for the writer
};

}  // namespace moonpool::kv
