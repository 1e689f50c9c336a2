// The two-party RPC server: admission, deadlines, TLS handshakes and the accept loop (see
// rpc/two_party.h).
#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/event.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/rpc/tls.h"
#include "moonpool/rpc/two_party.h"
#include "moonpool/spawn.h"
#include "tls_session.h"
#include "two_party_connection.h"
#include "two_party_shared.h"

namespace moonpool::rpc {

namespace {

using internal::BaseStream;
using internal::budgetFor;
using internal::Counted;
using internal::deliver;
using internal::invalidOption;
using internal::LogLimiter;
using internal::millis;
using internal::RpcConnection;
using internal::WatchedMessageStream;
using Side = ::capnp::rpc::twoparty::Side;

}  // namespace

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
    // Never past one idleTimeout: a first message arriving meanwhile starts the idle clock,
    // which must not wait out the rest of the first-message deadline.
    co_await time.sleep(std::min(deadline - now, server->options.idleTimeout));
  }
}

Task<void> untilDisconnected(RpcConnection* rpc) { co_await awaitPromise(rpc->onDisconnect()); }

// The outcome of a TLS handshake: the encrypted stream and the peer's name, or why not.
struct Handshake {
  kj::Own<kj::AsyncIoStream> stream;
  std::string peerName;
  std::string failure;
};

std::string handshakeFailure(const Exception& error) {
  std::string why = "TLS handshake failed: " + error.description();
  // OpenSSL's words for bytes that are not a TLS record.
  if (why.find("wrong version number") != std::string::npos ||
      why.find("http request") != std::string::npos ||
      why.find("packet length too long") != std::string::npos) {
    why += " (a plaintext peer: TLS is required)";
  }
  return why;
}

Task<Handshake> acceptTls(Tls* tls, kj::AsyncIoStream* stream) {
  Handshake out;
  try {
    internal::TlsSession session = co_await awaitPromise(internal::tlsAccept(*tls, *stream));
    out.stream = kj::mv(session.stream);
    out.peerName = std::move(session.peerName);
  } catch (const Exception& error) {
    out.failure = handshakeFailure(error);
  }
  co_return out;
}

// Runs the server's TLS handshake under the first-message deadline. False (and `live`
// holds the cause and reason) when the connection is to be closed instead.
Task<bool> secure(RpcServer::Impl* server, LiveConnection* live, BaseStream* base,
                  kj::Own<kj::AsyncIoStream>* layered, PeerInfo* peer) {
  const TimePoint deadline = live->acceptedAt + server->options.firstMessageTimeout;
  const Duration left = std::max(Duration{0}, deadline - server->time.now());
  auto done = co_await whenAny(acceptTls(server->options.tls.get(), &base->stream()),
                               server->time.sleep(left), live->closing.wait());
  if (done.index() == 1) {
    live->reason = "no TLS handshake within firstMessageTimeout (" +
                   millis(server->options.firstMessageTimeout) + ")";
    co_return false;
  }
  if (done.index() == 2) co_return false;  // evicted: live holds why
  Handshake& handshake = std::get<0>(done);
  if (!handshake.failure.empty()) {
    live->cause = DisconnectCause::kRefused;
    live->reason = std::move(handshake.failure);
    co_return false;
  }
  *layered = kj::mv(handshake.stream);
  peer->certificateName = std::move(handshake.peerName);
  co_return true;
}

// Ends a connection that never got to RPC (a failed or late handshake, an eviction).
void endEarly(RpcServer::Impl* server, LiveConnection& live, BaseStream& base) {
  server->release(live);
  base.abort();
  const DisconnectReport report{.local = base.localAddress(),
                                .peer = base.remoteAddress(),
                                .cause = live.cause,
                                .reason = live.reason};
  ++server->disconnects[static_cast<std::size_t>(report.cause)];
  deliver(server->options, server->logs, server->executor, report);
}

Task<void> serveConnection(RpcServer::Impl* server, [[maybe_unused]] Counted<std::size_t> open,
                           std::unique_ptr<Connection> connection, std::uint64_t id) {
  LiveConnection live;
  live.id = id;
  live.peer = connection->remoteAddress();
  live.acceptedAt = server->time.now();
  server->hold(live);
  RpcOptions options = server->options;
  options.framing = resolveFraming(options.framing, *connection);
  auto base = std::make_unique<BaseStream>(std::move(connection));
  kj::Own<kj::AsyncIoStream> layered;
  PeerInfo peer{.address = live.peer, .certificateName = ""};
  if (options.tls != nullptr && !co_await secure(server, &live, base.get(), &layered, &peer)) {
    endEarly(server, live, *base);
    co_return;
  }
  RpcConnection rpc(std::move(base), kj::mv(layered), Side::SERVER,
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

}  // namespace moonpool::rpc
