// Node: one server incarnation (see node.h), and runServer (server.h).
#include "node.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backup.h"
#include "link.h"
#include "moonpool/buggify.h"
#include "primary.h"

namespace moonpool::kv {

std::string serverName(std::uint32_t id) { return "kv-" + std::to_string(id); }

std::string validateServerConfig(const ServerConfig& config) {
  if (config.id < 1 || config.id > kServers) {
    return absl::StrCat("server id ", config.id, " is not in [1, ", kServers, "]");
  }
  std::set<NetAddress> distinct(config.servers.begin(), config.servers.end());
  if (distinct.size() != kServers) return "the three server addresses must be distinct";
  for (const NetAddress& address : config.servers) {
    if (address.port == 0) return absl::StrCat("server address ", address.toString(), " has no port");
  }
  if (config.logPath.empty() || config.promisePath.empty() || config.logPath == config.promisePath) {
    return "the log and promise paths must be distinct and not empty";
  }
  return {};
}

Node::Node(Providers providers, ServerConfig config)
    : providers_(providers), config_(std::move(config)), name_(serverName(config_.id)) {}

Node::~Node() { stopTasks(); }

void Node::fail(absl::Status why) {
  MOONPOOL_CHECK(!why.ok(), "fail() needs an error");
  if (failed()) return;
  failure_ = std::move(why);
  failedEvent_.set();
}

bool Node::spawn(std::string name, Task<void> task) {
  if (tasks_.spawn(providers_.tasks(), std::move(name), std::move(task))) return true;
  note("kv.tasks_full", absl::StrCat(kTasksMax, " tasks running: refusing another"));
  return false;
}

void Node::note(std::string_view kind, const std::string& detail) {
  if (config_.events != nullptr) config_.events->note(name_, kind, detail);
}

Task<absl::StatusOr<std::unique_ptr<KvLog>>> Node::openLog() {
  absl::StatusOr<std::unique_ptr<KvLog>> opened =
      co_await KvLog::open(providers_.storage(), providers_.time(), config_.logPath);
  if (!opened.ok()) co_return opened;
  const LogScan& scan = (*opened)->scan();
  if (scan.bytesDropped > 0) {
    if (config_.counters != nullptr) ++config_.counters->logTruncations;
    note("kv.log_truncated", absl::StrCat(scan.reason, "; kept ", scan.records, " records, cut ",
                                          scan.bytesDropped, " bytes"));
  }
  co_return opened;
}

Task<void> Node::backoff(Duration lo, Duration hi) {
  co_await providers_.time().sleep(providers_.random().durationBetween(lo, hi));
}

Task<absl::Status> Node::run() {
  absl::Status started = co_await start();
  if (!started.ok()) fail(started);
  if (!failed()) {
    const NetAddress self{providers_.network().localIp(), config_.servers[config_.id - 1].port};
    IoResult<std::unique_ptr<Listener>> listener = providers_.network().listen(self, kBacklog);
    if (listener.ok()) {
      spawn("accept", acceptLoop(std::move(*listener)));
    } else {
      fail(absl::UnavailableError(
          absl::StrCat("listen on ", self.toString(), ": ", listener.error().toString())));
    }
  }
  co_await failedEvent_.wait();
  co_return failure_;
}

Task<void> Node::acceptLoop(std::unique_ptr<Listener> listener) {
  for (;;) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await listener->accept();
    if (!accepted.ok()) {
      fail(absl::UnavailableError(absl::StrCat("accept: ", accepted.error().toString())));
      co_return;
    }
    // A refused spawn drops the task and with it the connection (closed).
    spawn("connection", serveConnection(std::move(*accepted)));
  }
}

Task<void> Node::serveConnection(std::unique_ptr<Connection> connection) {
  Replication replication = Replication::kNone;
  co_await serveRequests(*connection, &replication);
  if (replication == Replication::kSeen) primaryConnectionEnded();
}

Task<void> Node::serveRequests(Connection& connection, Replication* replication) {
  for (;;) {
    auto got = co_await tryWithin(providers_.time(), config_.tuning.idleTimeout,
                                  readMessage(connection));
    if (!got) co_return;  // idle: close
    if (!got->ok()) {
      noteReadFailure(got->status(), name_, config_.events, config_.counters);
      co_return;
    }
    if (std::holds_alternative<ClaimRequest>(**got) || std::holds_alternative<AppendRequest>(**got)) {
      *replication = Replication::kSeen;
    }
    std::optional<Message> reply = co_await handle(std::move(*got).value());
    if (!reply) co_return;
    if (buggify()) {
      connection.abort();  // a server that drops a connection instead of answering
      co_return;
    }
    absl::Status sent = co_await writeMessage(connection, std::move(*reply));
    if (!sent.ok()) co_return;
  }
}

std::unique_ptr<Node> makeNode(Providers providers, const ServerConfig& config) {
  if (config.id == kPrimaryId) return std::make_unique<Primary>(providers, config);
  return std::make_unique<Backup>(providers, config);
}

namespace {

Task<absl::Status> runIncarnation(Providers providers, ServerConfig config) {
  std::unique_ptr<Node> node = makeNode(providers, config);
  co_return co_await node->run();
}

}  // namespace

Task<void> runServer(Providers providers, ServerConfig config) {
  const std::string problem = validateServerConfig(config);
  MOONPOOL_CHECK(problem.empty(), problem);
  for (;;) {
    absl::Status ended = co_await runIncarnation(providers, config);
    if (config.counters != nullptr) ++config.counters->localRestarts;
    if (config.events != nullptr) {
      config.events->note(serverName(config.id), "kv.restart",
                          absl::StrCat("incarnation ended: ", ended.ToString()));
    }
    co_await providers.time().sleep(config.tuning.restartDelay);
  }
}

}  // namespace moonpool::kv
