// Two-party RPC server and client over a NetworkProvider (see rpc.h).
#include "moonpool/rpc/two_party.h"

#include <kj/debug.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/event.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/spawn.h"
#include "two_party_connection.h"

namespace moonpool::rpc {

namespace {

using internal::BaseStream;
using internal::RpcConnection;
using internal::WatchedMessageStream;
using Side = ::capnp::rpc::twoparty::Side;

static_assert(static_cast<std::size_t>(DisconnectCause::kRefused) + 1 == kDisconnectCauseCount,
              "kDisconnectCauseCount counts every DisconnectCause");

// Counts a live thing from construction until the Task frame holding it is destroyed.
template <typename Count>
class Counted {
 public:
  explicit Counted(Count& count) : count_(&count) { ++*count_; }
  Counted(Counted&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (count_ != nullptr) --*count_;
  }

 private:
  Count* count_;
};

IoError invalidOption(std::string what) {
  return IoError{IoErrorKind::kInvalidArgument, "RpcOptions: " + std::move(what)};
}

// At most kDisconnectLogsPerSecondMax lines per second of the executor's clock; what it
// holds back is counted and announced by the next line it lets through.
class LogLimiter {
 public:
  void warn(Executor& executor, const std::string& line) {
    const TimePoint now = executor.now();
    if (now - windowStart_ >= std::chrono::seconds(1)) {
      windowStart_ = now;
      inWindow_ = 0;
    }
    if (inWindow_ >= kDisconnectLogsPerSecondMax) {
      ++suppressed_;
      return;
    }
    ++inWindow_;
    // One plain line on stderr (KJ_LOG would print it as "expression = value").
    if (suppressed_ == 0) {
      std::fprintf(stderr, "moonpool rpc: warning: %s\n", line.c_str());
    } else {
      std::fprintf(stderr, "moonpool rpc: warning: %s (and %llu more held back)\n", line.c_str(),
                   static_cast<unsigned long long>(suppressed_));
      suppressed_ = 0;
    }
  }

 private:
  TimePoint windowStart_{};
  std::uint32_t inWindow_ = 0;
  std::uint64_t suppressed_ = 0;
};

bool abnormal(DisconnectCause cause) {
  switch (cause) {
    case DisconnectCause::kClosed:
    case DisconnectCause::kIoError:
      return false;
    case DisconnectCause::kCorrupted:
    case DisconnectCause::kProtocolError:
    case DisconnectCause::kPeerAborted:
    case DisconnectCause::kLimit:
    case DisconnectCause::kRefused:
      return true;
  }
  return true;
}

void deliver(const RpcOptions& options, LogLimiter& limiter, Executor& executor,
             const DisconnectReport& report) {
  if (options.onDisconnect) {
    options.onDisconnect(report);
    return;
  }
  if (abnormal(report.cause)) {
    limiter.warn(executor, "rpc connection dropped: " + report.toString());
  }
}

std::shared_ptr<RpcBudget> budgetFor(const RpcOptions& options) {
  return options.budget != nullptr ? options.budget : std::make_shared<RpcBudget>();
}

}  // namespace

Framing resolveFraming(Framing framing, const Connection& connection) {
  if (framing != Framing::kAuto) return framing;
  return connection.corruptsBytes() ? Framing::kChecksummed : Framing::kPlain;
}

std::string_view disconnectCauseName(DisconnectCause cause) {
  switch (cause) {
    case DisconnectCause::kClosed:
      return "closed";
    case DisconnectCause::kIoError:
      return "i/o error";
    case DisconnectCause::kCorrupted:
      return "corrupted";
    case DisconnectCause::kProtocolError:
      return "protocol error";
    case DisconnectCause::kPeerAborted:
      return "peer aborted";
    case DisconnectCause::kLimit:
      return "limit";
    case DisconnectCause::kRefused:
      return "refused";
  }
  return "unknown";
}

std::string DisconnectReport::toString() const {
  return local.toString() + " <- " + peer.toString() + ": " +
         std::string(disconnectCauseName(cause)) + ": " + reason;
}

IoResult<void> validateRpcOptions(const RpcOptions& options) {
  if (options.traversalLimitWords == 0) return invalidOption("traversalLimitWords must be >= 1");
  if (options.nestingLimit < 1) return invalidOption("nestingLimit must be >= 1");
  if (options.callsInFlightMax == 0) return invalidOption("callsInFlightMax must be >= 1");
  if (options.callWordsInFlightMax == 0) {
    return invalidOption("callWordsInFlightMax must be >= 1");
  }
  if (options.incomingBytesMax == 0) return invalidOption("incomingBytesMax must be >= 1");
  if (options.outgoingBytesMax == 0) return invalidOption("outgoingBytesMax must be >= 1");
  if (options.budget != nullptr &&
      (options.budget->incomingBytesMax == 0 || options.budget->outgoingBytesMax == 0)) {
    return invalidOption("budget caps must be >= 1");
  }
  if (options.backlog == 0) return invalidOption("backlog must be >= 1");
  if (options.connectionsMax == 0) return invalidOption("connectionsMax must be >= 1");
  if (options.connectionsPerIpMax == 0) return invalidOption("connectionsPerIpMax must be >= 1");
  const std::pair<const char*, Duration> durations[] = {
      {"firstMessageTimeout", options.firstMessageTimeout},
      {"idleTimeout", options.idleTimeout},
      {"evictIdleAfter", options.evictIdleAfter},
      {"acceptBackoffInitial", options.acceptBackoffInitial},
      {"acceptBackoffMax", options.acceptBackoffMax}};
  for (const auto& [name, value] : durations) {
    if (value < kRpcDurationMin || value > kRpcDurationMax) {
      return invalidOption(std::string(name) + " must be in [1ms, 365 days]");
    }
  }
  if (options.acceptBackoffMax < options.acceptBackoffInitial) {
    return invalidOption("acceptBackoffMax must be >= acceptBackoffInitial");
  }
  return IoResult<void>();
}

// ---------------------------------------------------------------------------------------
// Server

namespace {

// One connection the server serves, from accept until its task ends.
struct LiveConnection {
  std::uint64_t id = 0;
  NetAddress peer;
  TimePoint acceptedAt;
  RpcConnection* rpc = nullptr;  // set once the connection is built
  // Set (with cause and reason) to end the connection from outside: an eviction.
  Event closing;
  DisconnectCause cause = DisconnectCause::kLimit;
  std::string reason;
};

}  // namespace

struct RpcServer::Impl {
  Impl(std::unique_ptr<Listener> listener, TimeProvider& time, BootstrapFactory bootstrap,
       RpcOptions options, Executor& executor)
      : listener(std::move(listener)),
        time(time),
        bootstrap(std::move(bootstrap)),
        options(std::move(options)),
        budget(budgetFor(this->options)),
        executor(executor),
        connections(executor, "rpc server " + this->listener->localAddress().toString()) {}

  std::unique_ptr<Listener> listener;
  TimeProvider& time;
  BootstrapFactory bootstrap;
  RpcOptions options;
  std::shared_ptr<RpcBudget> budget;
  Executor& executor;
  LogLimiter logs;
  std::size_t open = 0;
  std::uint32_t serving = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::uint64_t evicted = 0;
  std::uint64_t acceptErrors = 0;
  std::uint64_t nextId = 0;
  std::array<std::uint64_t, kDisconnectCauseCount> disconnects{};
  // The connections holding a slot, by accept order (the oldest first), and per IP.
  std::map<std::uint64_t, LiveConnection*> live;
  std::map<IpAddress, std::uint32_t> perIp;
  // Last: destroyed first, cancelling connection tasks while the fields above still live.
  TaskGroup connections;

  void hold(LiveConnection& connection) {
    live.emplace(connection.id, &connection);
    ++perIp[connection.peer.ip];
  }
  // Gives the slot back (once: an evicted connection gives it back when evicted).
  void release(LiveConnection& connection) {
    if (live.erase(connection.id) == 0) return;
    auto count = perIp.find(connection.peer.ip);
    MOONPOOL_CHECK(count != perIp.end() && count->second > 0, "per-IP count underflow");
    if (--count->second == 0) perIp.erase(count);
  }
};

namespace {

bool proven(const LiveConnection& connection) {
  return connection.rpc != nullptr && connection.rpc->messages().messagesReceived() > 0;
}

TimePoint idleSince(const LiveConnection& connection) {
  if (connection.rpc == nullptr) return connection.acceptedAt;
  return connection.rpc->messages().lastMessageAt().value_or(connection.acceptedAt);
}

std::string millis(Duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) +
         " ms";
}

std::string millisSince(TimePoint now, TimePoint then) { return millis(now - then); }

// The connection to close so that a new one (from `ip`, when only that IP's slots are
// full) gets a slot: the oldest that never sent a whole message, else the one idle the
// longest if idle for evictIdleAfter. Null when every candidate is busy.
LiveConnection* pickVictim(RpcServer::Impl& server, std::optional<IpAddress> ip, TimePoint now) {
  LiveConnection* idlest = nullptr;
  for (const auto& [id, connection] : server.live) {
    if (ip && connection->peer.ip != *ip) continue;
    if (!proven(*connection)) {
      connection->reason = "evicted to admit a new connection: it had sent no complete message " +
                           millisSince(now, connection->acceptedAt) + " after it was accepted";
      return connection;
    }
    if (idlest == nullptr || idleSince(*connection) < idleSince(*idlest)) idlest = connection;
  }
  if (idlest == nullptr || now - idleSince(*idlest) < server.options.evictIdleAfter) return nullptr;
  idlest->reason = "evicted to admit a new connection: the one idle the longest (" +
                   millisSince(now, idleSince(*idlest)) + ")";
  return idlest;
}

// Makes room for a connection from `peer`: true when a slot is free or was freed.
bool admit(RpcServer::Impl& server, NetAddress peer) {
  const TimePoint now = server.time.now();
  auto fromIp = server.perIp.find(peer.ip);
  if (fromIp != server.perIp.end() && fromIp->second >= server.options.connectionsPerIpMax) {
    LiveConnection* victim = pickVictim(server, peer.ip, now);
    if (victim == nullptr) return false;
    victim->reason += " (connectionsPerIpMax " +
                      std::to_string(server.options.connectionsPerIpMax) + " reached)";
    server.release(*victim);
    victim->closing.set();
    ++server.evicted;
  }
  if (server.live.size() < server.options.connectionsMax) return true;
  LiveConnection* victim = pickVictim(server, std::nullopt, now);
  if (victim == nullptr) return false;
  victim->reason +=
      " (connectionsMax " + std::to_string(server.options.connectionsMax) + " reached)";
  server.release(*victim);
  victim->closing.set();
  ++server.evicted;
  return true;
}

// Ends (returns) when the connection missed its first-message or idle deadline.
Task<void> watchdog(RpcServer::Impl* server, LiveConnection* connection) {
  TimeProvider& time = server->time;
  for (;;) {
    const WatchedMessageStream& messages = connection->rpc->messages();
    const bool first = messages.messagesReceived() == 0;
    const TimePoint deadline = first ? connection->acceptedAt + server->options.firstMessageTimeout
                                     : idleSince(*connection) + server->options.idleTimeout;
    const TimePoint now = time.now();
    if (now >= deadline) {
      connection->reason =
          first ? "no complete first message within firstMessageTimeout (" +
                      millisSince(deadline, connection->acceptedAt) + ")"
                : "no message for idleTimeout (" + millisSince(now, idleSince(*connection)) + ")";
      co_return;
    }
    co_await time.sleep(deadline - now);
  }
}

Task<void> untilDisconnected(RpcConnection* rpc) { co_await awaitPromise(rpc->onDisconnect()); }

Task<void> serveConnection(RpcServer::Impl* server, [[maybe_unused]] Counted<std::size_t> open,
                           std::unique_ptr<Connection> connection, std::uint64_t id) {
  LiveConnection live;
  live.id = id;
  live.peer = connection->remoteAddress();
  live.acceptedAt = server->time.now();
  server->hold(live);
  RpcOptions options = server->options;
  options.framing = resolveFraming(options.framing, *connection);
  const PeerInfo peer{.address = live.peer, .certificateName = ""};
  RpcConnection rpc(std::make_unique<BaseStream>(std::move(connection)),
                    kj::Own<kj::AsyncIoStream>(), Side::SERVER,
                    kj::Maybe<::capnp::Capability::Client>(server->bootstrap(peer)), options,
                    server->budget, &server->time, server->executor);
  live.rpc = &rpc;
  auto ended =
      co_await whenAny(untilDisconnected(&rpc), watchdog(server, &live), live.closing.wait());
  server->release(live);
  DisconnectReport report = rpc.report();
  if (ended.index() != 0) {
    rpc.close(live.cause, live.reason);
    report.cause = live.cause;
    report.reason = live.reason;
  }
  ++server->disconnects[static_cast<std::size_t>(report.cause)];
  deliver(server->options, server->logs, server->executor, report);
}

}  // namespace

IoResult<std::unique_ptr<RpcServer>> RpcServer::listen(NetworkProvider& network,
                                                       TimeProvider& time, NetAddress address,
                                                       ::capnp::Capability::Client bootstrap,
                                                       RpcOptions options) {
  // A shared holder: Cap'n Proto's Client copies only from a non-const reference.
  auto shared = std::make_shared<::capnp::Capability::Client>(kj::mv(bootstrap));
  BootstrapFactory same = [shared](const PeerInfo&) { return *shared; };
  return listen(network, time, address, std::move(same), std::move(options));
}

IoResult<std::unique_ptr<RpcServer>> RpcServer::listen(NetworkProvider& network,
                                                       TimeProvider& time, NetAddress address,
                                                       BootstrapFactory bootstrap,
                                                       RpcOptions options) {
  IoResult<void> valid = validateRpcOptions(options);
  if (!valid.ok()) return valid.error();
  if (!bootstrap) return invalidOption("listen: no bootstrap factory");
  IoResult<std::unique_ptr<Listener>> listener = network.listen(address, options.backlog);
  if (!listener.ok()) return listener.error();
  return std::unique_ptr<RpcServer>(new RpcServer(
      std::make_unique<Impl>(std::move(listener).value(), time, std::move(bootstrap),
                             std::move(options), Executor::current())));
}

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RpcServer::~RpcServer() {
  MOONPOOL_CHECK_EQ(impl_->serving, 0u, "RpcServer destroyed while its serve() Task lives");
}

NetAddress RpcServer::localAddress() const { return impl_->listener->localAddress(); }

Task<void> RpcServer::serve() {
  Impl& server = *impl_;
  MOONPOOL_CHECK_EQ(server.serving, 0u, "one serve() at a time");
  Counted<std::uint32_t> serving(server.serving);
  Duration backoff = server.options.acceptBackoffInitial;
  for (;;) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await server.listener->accept();
    if (!accepted.ok()) {
      // A closed listener is the end; anything else (descriptors exhausted, a connection
      // aborted before accept, no buffers) passes: wait, then accept again.
      if (accepted.error().kind == IoErrorKind::kInvalidArgument) accepted.error().raise();
      ++server.acceptErrors;
      server.logs.warn(server.executor, "rpc accept on " + localAddress().toString() +
                                            " failed (retrying in " +
                                            millis(backoff) +
                                            "): " + accepted.error().toString());
      co_await server.time.sleep(backoff);
      backoff = std::min(backoff * 2, server.options.acceptBackoffMax);
      continue;
    }
    backoff = server.options.acceptBackoffInitial;
    std::unique_ptr<Connection> connection = std::move(accepted).value();
    if (!admit(server, connection->remoteAddress())) {
      ++server.refused;  // destroying it closes it
      server.logs.warn(server.executor, "rpc server " + localAddress().toString() +
                                            " refused " + connection->remoteAddress().toString() +
                                            ": every connection slot is busy");
      continue;
    }
    ++server.accepted;
    std::string name = "rpc " + connection->localAddress().toString() + " <- " +
                       connection->remoteAddress().toString();
    server.connections
        .spawn(std::move(name), serveConnection(&server, Counted<std::size_t>(server.open),
                                                std::move(connection), server.nextId++))
        .detach();
  }
}

std::size_t RpcServer::openConnections() const { return impl_->open; }
std::uint64_t RpcServer::acceptedConnections() const { return impl_->accepted; }
std::uint64_t RpcServer::refusedConnections() const { return impl_->refused; }
std::uint64_t RpcServer::evictedConnections() const { return impl_->evicted; }
std::uint64_t RpcServer::acceptErrors() const { return impl_->acceptErrors; }
std::uint64_t RpcServer::disconnects(DisconnectCause cause) const {
  return impl_->disconnects[static_cast<std::size_t>(cause)];
}

// ---------------------------------------------------------------------------------------
// Client

struct RpcClient::Impl {
  Impl(std::unique_ptr<Connection> connection, RpcOptions options, Executor& executor)
      : options(std::move(options)),
        executor(executor),
        connection(std::make_unique<BaseStream>(std::move(connection)),
                   kj::Own<kj::AsyncIoStream>(), Side::CLIENT,
                   nullptr, this->options, budgetFor(this->options), nullptr, executor) {
    watch = this->connection.onDisconnect()
                .then([this]() {
                  deliver(this->options, logs, this->executor, this->connection.report());
                })
                .eagerlyEvaluate(nullptr);
  }

  RpcOptions options;
  Executor& executor;
  LogLimiter logs;
  RpcConnection connection;
  // Last: destroyed first, so a client destroyed by its owner reports nothing.
  kj::Promise<void> watch = nullptr;
};

Task<IoResult<std::unique_ptr<RpcClient>>> RpcClient::connect(NetworkProvider& network,
                                                              NetAddress address,
                                                              RpcOptions options) {
  IoResult<void> valid = validateRpcOptions(options);
  if (!valid.ok()) co_return valid.error();
  IoResult<std::unique_ptr<Connection>> connection = co_await network.connect(address);
  if (!connection.ok()) co_return connection.error();
  co_return over(std::move(connection).value(), std::move(options));
}

IoResult<std::unique_ptr<RpcClient>> RpcClient::over(std::unique_ptr<Connection> connection,
                                                     RpcOptions options) {
  IoResult<void> valid = validateRpcOptions(options);
  if (!valid.ok()) return valid.error();
  if (connection == nullptr) {
    return IoError{IoErrorKind::kInvalidArgument, "RpcClient::over: no connection"};
  }
  options.framing = resolveFraming(options.framing, *connection);
  return std::unique_ptr<RpcClient>(new RpcClient(
      std::make_unique<Impl>(std::move(connection), std::move(options), Executor::current())));
}

RpcClient::RpcClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RpcClient::~RpcClient() = default;

::capnp::Capability::Client RpcClient::bootstrap() { return impl_->connection.bootstrap(); }

Task<DisconnectReport> RpcClient::disconnected() {
  co_await awaitPromise(impl_->connection.onDisconnect());
  co_return impl_->connection.report();
}

bool RpcClient::ended() const { return impl_->connection.ended(); }

NetAddress RpcClient::localAddress() const { return impl_->connection.localAddress(); }
NetAddress RpcClient::remoteAddress() const { return impl_->connection.remoteAddress(); }

}  // namespace moonpool::rpc
