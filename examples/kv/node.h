// One incarnation of a KV server: the machinery shared by the primary and the backups
// (examples/kv, internal to the server).
//
// A Node serves both services of kv_service.h on one rpc::Host (the generated
// KvStoreServer and KvReplicaServer adapters, created inside the incarnation's task so the
// calls they serve run in the process's TaskGroup: a simulated kill or pause reaches them).
// The role answers what it implements; the other service's calls get kNotPrimary or
// kNotBackup. The incarnation ends when a local failure is reported with fail().
//
// Its tasks are spawned into the process's group through the TaskProvider and owned by
// TaskLists: its own (writer, replicators, ...) and the work of every call it serves
// (served()). The derived class's destructor cancels both and drops the host
// (stopServing()) before its own members go. The calls' work must be owned here because
// dropping the host does not end the calls at once (Cap'n Proto cancels them in a later
// turn) and a process kill destroys its tasks in spawn order, the incarnation's first: a
// method body running in the call's own task could outlive the members it uses.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kv_log.h"
#include "kv_service.h"
#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "moonpool/rpc/host.h"
#include "remote.h"
#include "server.h"
#include "sync.h"

namespace moonpool::kv {

class Node : public KvStore, public KvReplica {
 public:
  static constexpr std::size_t kTasksMax = 16;
  // Calls served at once; beyond, a call is answered kUnavailable.
  static constexpr std::size_t kCallsMax = 256;
  // Per-connection and per-host bounds of the rpc::Host (two_party.h RpcOptions) besides
  // ServerConfig::limits.
  static constexpr std::uint32_t kCallsInFlightMax = 64;
  // Connections the kernel completes while the server has not accepted them yet. A burst of
  // connects beyond it has its SYNs dropped, and each of those clients waits out the
  // kernel's SYN retry (1 s, then 3 s, ...): with 16, 60 connects at once got 16 through in
  // 5 ms and the rest after 1010 ms. The kernel clamps it to net.core.somaxconn.
  static constexpr std::size_t kBacklog = 1024;
  // Connections that ended abnormally are noted (why, and with whom) at most this many
  // times a second; the rest are counted into the next note.
  static constexpr std::uint32_t kDisconnectNotesPerSecondMax = 5;

  Node(Providers providers, ServerConfig config);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() override;

  // Boots (start()), serves, and returns the failure that ended this incarnation.
  Task<absl::Status> run();

  // implements KvStore: what a backup answers (the primary overrides both).
  Task<PutReply> put(Entry entry) override;
  Task<GetReply> get(std::string key) override;
  // implements KvReplica: what the primary answers (the backups override all three).
  Task<ClaimReply> claim(std::uint64_t epoch) override;
  Task<AppendReply> append(AppendRequest request) override;
  Task<FetchReply> fetch(std::uint64_t from) override;

 protected:
  // Opens the files and starts the role's own tasks. An error ends the incarnation.
  virtual Task<absl::Status> start() = 0;
  // A connection from the primary's address has ended (a backup takes it as a hint that
  // the primary may be gone; the default ignores it). On real processes sharing 127.0.0.1
  // every peer's address is the primary's: the hint then fires more often, which only
  // starts a harmless catch-up round earlier (backup.h).
  virtual void primaryConnectionEnded() {}

  // Ends the incarnation (the first failure wins).
  void fail(absl::Status why);
  bool failed() const { return !failure_.ok(); }
  // Spawns a task of this incarnation; false (and logged) when kTasksMax are running.
  bool spawn(std::string name, Task<void> task);
  // Cancels the tasks and the calls' work and drops the host: derived destructors call it
  // first, since all of them reference their members.
  void stopServing();
  // Runs the work of one served call as a task this incarnation owns (see the top), and
  // returns its reply; kUnavailable when kCallsMax calls are running. Nothing of the Node
  // is touched after `work` ended (the incarnation may be gone by then).
  template <typename Reply>
  Task<Reply> served(std::string name, Task<Reply> work) {
    auto reply = std::make_shared<std::optional<Reply>>();
    if (!co_await calls_.runJoined(providers_.tasks(), std::move(name),
                                   fill(reply, std::move(work)))) {
      Reply busy{};
      busy.status = Status::kUnavailable;
      co_return busy;
    }
    MOONPOOL_CHECK(reply->has_value(), "a served call ended without a reply");
    co_return std::move(**reply);
  }
  void note(std::string_view kind, const std::string& detail);
  // Opens this server's log (config_.logPath); a torn or corrupt tail the scan cut off is
  // counted and noted.
  Task<absl::StatusOr<std::unique_ptr<KvLog>>> openLog();
  // A random delay drawn from `range` (RandomProvider::durationIn), for retries.
  Task<void> backoff(DurationRange range);
  // Options of this server's peers (to the backups, or to the other backup): they share the
  // host's byte budget, and their abnormal disconnects are noted like the host's.
  rpc::PeerOptions serverPeerOptions();

  Providers providers_;
  const ServerConfig config_;
  const std::string name_;

 private:
  // Listens and registers both services; false (and the incarnation failed) on error.
  bool listen();
  Task<void> serve();
  void disconnected(const rpc::DisconnectReport& report);
  // Notes why a connection ended abnormally, rate limited (kDisconnectNotesPerSecondMax).
  void noteDropped(const rpc::DisconnectReport& report);
  rpc::RpcOptions hostOptions();
  rpc::Membership membership() const;

  template <typename Reply>
  static Task<void> fill(std::shared_ptr<std::optional<Reply>> out, Task<Reply> work) {
    out->emplace(co_await std::move(work));
  }

  TaskList tasks_{kTasksMax};
  TaskList calls_{kCallsMax};
  std::unique_ptr<rpc::Host> host_;
  std::shared_ptr<rpc::RpcBudget> budget_;
  TimePoint notesWindow_{};
  std::uint32_t notesInWindow_ = 0;
  std::uint64_t notesHeld_ = 0;
  Event failedEvent_;
  absl::Status failure_;
};

// Builds the node of config.id: the primary or a backup.
std::unique_ptr<Node> makeNode(Providers providers, const ServerConfig& config);

}  // namespace moonpool::kv
