// Node: one server incarnation (see node.h), and runServer (server.h).
#include "node.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backup.h"
#include "kv_service.moonpool.h"
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
    if (address.port == 0) {
      return absl::StrCat("server address ", address.toString(), " has no port");
    }
  }
  if (config.logPath.empty() || config.promisePath.empty() ||
      config.logPath == config.promisePath) {
    return "the log and promise paths must be distinct and not empty";
  }
  if (!config.tuning.retry.valid()) return "tuning.retry needs 0 <= min <= max";
  const ServerRpcLimits& limits = config.limits;
  if (limits.connectionsMax == 0 || limits.incomingBytesMax == 0 ||
      limits.outgoingBytesMax == 0 || limits.budgetBytesMax == 0) {
    return "limits: connectionsMax and the byte caps must be >= 1";
  }
  if (limits.firstMessageTimeout < rpc::kRpcDurationMin ||
      limits.idleTimeout < rpc::kRpcDurationMin ||
      limits.firstMessageTimeout > rpc::kRpcDurationMax ||
      limits.idleTimeout > rpc::kRpcDurationMax) {
    return "limits: firstMessageTimeout and idleTimeout must be in [1ms, 365 days]";
  }
  return {};
}

Node::Node(Providers providers, ServerConfig config)
    : providers_(providers),
      config_(std::move(config)),
      name_(serverName(config_.id)),
      budget_(std::make_shared<rpc::RpcBudget>()) {
  budget_->incomingBytesMax = config_.limits.budgetBytesMax;
  budget_->outgoingBytesMax = config_.limits.budgetBytesMax;
}

Node::~Node() { stopServing(); }

void Node::stopServing() {
  tasks_.cancelAll();  // first: the serve task awaits the host
  calls_.cancelAll();  // the work of calls being served (their callers get an error)
  host_.reset();       // drops every connection
}

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

Task<void> Node::backoff(DurationRange range) {
  co_await providers_.time().sleep(providers_.random().durationIn(range));
}

rpc::PeerOptions Node::serverPeerOptions() {
  rpc::PeerOptions options =
      peerOptions(config_.tuning.peerTimeout, name_, config_.events, config_.counters);
  options.rpc.budget = budget_;
  options.rpc.tls = config_.security.tls;
  options.rpc.incomingBytesMax = config_.limits.incomingBytesMax;
  options.rpc.outgoingBytesMax = config_.limits.outgoingBytesMax;
  options.rpc.onDisconnect = [this](const rpc::DisconnectReport& report) {
    noteDisconnect(report, name_, config_.events, config_.counters);
    noteDropped(report);
  };
  return options;
}

rpc::RpcOptions Node::hostOptions() {
  const ServerRpcLimits& limits = config_.limits;
  rpc::RpcOptions options;
  options.backlog = kBacklog;
  options.connectionsMax = limits.connectionsMax;
  // Every real process of a test cluster shares 127.0.0.1: one IP may use every slot.
  options.connectionsPerIpMax = limits.connectionsMax;
  options.callsInFlightMax = kCallsInFlightMax;
  options.incomingBytesMax = limits.incomingBytesMax;
  options.outgoingBytesMax = limits.outgoingBytesMax;
  options.budget = budget_;
  options.firstMessageTimeout = limits.firstMessageTimeout;
  options.idleTimeout = limits.idleTimeout;
  options.tls = config_.security.tls;
  options.onDisconnect = [this](const rpc::DisconnectReport& report) { disconnected(report); };
  return options;
}

rpc::Membership Node::membership() const {
  rpc::Membership members;
  for (const NetAddress& server : config_.servers) members.ips.insert(server.ip);
  for (IpAddress ip : config_.security.extraMemberIps) members.ips.insert(ip);
  for (const std::string& name : config_.security.memberNames) {
    members.certificateNames.insert(name);
  }
  if (config_.security.memberNames.empty()) {
    for (std::uint32_t id = 1; id <= kServers; ++id) {
      members.certificateNames.insert(serverName(id));
    }
  }
  return members;
}

void Node::noteDropped(const rpc::DisconnectReport& report) {
  if (report.cause == rpc::DisconnectCause::kClosed) return;
  if (report.cause == rpc::DisconnectCause::kCorrupted) return;  // noteDisconnect did
  const TimePoint now = providers_.time().now();
  if (now - notesWindow_ >= std::chrono::seconds(1)) {
    notesWindow_ = now;
    notesInWindow_ = 0;
  }
  if (notesInWindow_ >= kDisconnectNotesPerSecondMax) {
    ++notesHeld_;
    return;
  }
  ++notesInWindow_;
  std::string detail = report.toString();
  if (notesHeld_ > 0) {
    detail += absl::StrCat(" (and ", notesHeld_, " more held back by the rate limit)");
    notesHeld_ = 0;
  }
  note("kv.connection_dropped", detail);
}

Task<absl::Status> Node::run() {
  absl::Status started = co_await start();
  if (!started.ok()) fail(started);
  if (!failed() && listen()) spawn("serve", serve());
  co_await failedEvent_.wait();
  co_return failure_;
}

bool Node::listen() {
  const NetAddress self{providers_.network().localIp(), config_.servers[config_.id - 1].port};
  IoResult<std::unique_ptr<rpc::Host>> host = rpc::Host::listen(providers_, self, hostOptions());
  if (!host.ok()) {
    fail(absl::UnavailableError(
        absl::StrCat("listen on ", self.toString(), ": ", host.error().toString())));
    return false;
  }
  host_ = std::move(host).value();
  // Created here, inside the incarnation's task: the adapters run their calls in its group.
  host_->add(schema::KvStoreServer::kServiceName,
             kj::heap<schema::KvStoreServer>(static_cast<KvStore&>(*this)));
  host_->add(schema::KvReplicaServer::kServiceName,
             kj::heap<schema::KvReplicaServer>(static_cast<KvReplica&>(*this)),
             rpc::Access::kMembers);
  host_->setMembership(membership());
  return true;
}

Task<void> Node::serve() {
  std::optional<std::string> problem;
  try {
    co_await host_->serve();
  } catch (const Exception& error) {
    problem = error.what();
  }
  fail(absl::UnavailableError(absl::StrCat("serving ended: ", problem.value_or("no reason"))));
}

void Node::disconnected(const rpc::DisconnectReport& report) {
  noteDisconnect(report, name_, config_.events, config_.counters);
  noteDropped(report);
  if (report.peer.ip == config_.servers[kPrimaryId - 1].ip) primaryConnectionEnded();
}

Task<PutReply> Node::put(Entry) { co_return PutReply{.status = Status::kNotPrimary}; }

Task<GetReply> Node::get(std::string) {
  GetReply reply;
  reply.status = Status::kNotPrimary;
  co_return reply;
}

Task<ClaimReply> Node::claim(std::uint64_t) {
  co_return ClaimReply{.status = Status::kNotBackup};
}

Task<AppendReply> Node::append(AppendRequest) {
  co_return AppendReply{.status = Status::kNotBackup};
}

Task<FetchReply> Node::fetch(std::uint64_t) {
  FetchReply reply;
  reply.status = Status::kNotBackup;
  co_return reply;
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
