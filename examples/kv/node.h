// One incarnation of a KV server: the machinery shared by the primary and the backups
// (examples/kv, internal to the server).
//
// A Node listens, serves each connection in its own task (one request at a time: read a
// frame, handle it, write the reply), and ends when a local failure is reported with
// fail(). Its tasks are spawned into the process's group through the TaskProvider (so a
// simulated kill or pause reaches them) and owned by a TaskList; the derived class's
// destructor cancels them (stopTasks()) before its own members go.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kv_log.h"
#include "moonpool/network.h"
#include "moonpool/providers.h"
#include "server.h"
#include "sync.h"
#include "wire.h"

namespace moonpool::kv {

class Node {
 public:
  static constexpr std::size_t kConnectionsMax = 64;
  static constexpr std::size_t kTasksMax = kConnectionsMax + 8;
  static constexpr std::size_t kBacklog = 16;

  Node(Providers providers, ServerConfig config);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node();

  // Boots (start()), serves, and returns the failure that ended this incarnation.
  Task<absl::Status> run();

 protected:
  // Opens the files and starts the role's own tasks. An error ends the incarnation.
  virtual Task<absl::Status> start() = 0;
  // The reply to one request, or nullopt to close the connection.
  virtual Task<std::optional<Message>> handle(Message request) = 0;
  // A connection that carried replication traffic (a Claim or an Append: the primary
  // talking) has ended, for whatever reason. Backups take it as a hint that the primary may
  // be gone; the default ignores it.
  virtual void primaryConnectionEnded() {}

  // Ends the incarnation (the first failure wins).
  void fail(absl::Status why);
  bool failed() const { return !failure_.ok(); }
  // Spawns a task of this incarnation; false (and logged) when kTasksMax are running.
  bool spawn(std::string name, Task<void> task);
  void stopTasks() { tasks_.cancelAll(); }
  void note(std::string_view kind, const std::string& detail);
  // Opens this server's log (config_.logPath); a torn or corrupt tail the scan cut off is
  // counted and noted.
  Task<absl::StatusOr<std::unique_ptr<KvLog>>> openLog();
  // A random delay in [lo, hi), for retries.
  Task<void> backoff(Duration lo, Duration hi);

  Providers providers_;
  const ServerConfig config_;
  const std::string name_;

 private:
  Task<void> acceptLoop(std::unique_ptr<Listener> listener);
  enum class Replication : std::uint8_t { kNone, kSeen };
  Task<void> serveConnection(std::unique_ptr<Connection> connection);
  // Reads, handles and answers requests until the connection fails, idles or is dropped;
  // notes whether the primary's replication traffic went through it.
  Task<void> serveRequests(Connection& connection, Replication* replication);

  TaskList tasks_{kTasksMax};
  Event failedEvent_;
  absl::Status failure_;
};

// Builds the node of config.id: the primary or a backup.
std::unique_ptr<Node> makeNode(Providers providers, const ServerConfig& config);

}  // namespace moonpool::kv
