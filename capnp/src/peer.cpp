// Peer: the background connection task, backoff and failure monitor (see peer.h).
#include "moonpool/rpc/peer.h"

#include <algorithm>
#include <utility>

#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/kj/sim_kj_loop.h"
#include "session.h"

namespace moonpool::rpc {

std::string_view peerStateName(PeerState state) {
  switch (state) {
    case PeerState::kConnecting:
      return "connecting";
    case PeerState::kAvailable:
      return "available";
    case PeerState::kFailed:
      return "failed";
  }
  return "?";
}

std::string validatePeerOptions(const PeerOptions& options) {
  const std::pair<const char*, Duration> durations[] = {
      {"connectTimeout", options.connectTimeout}, {"backoffInitial", options.backoffInitial},
      {"backoffMax", options.backoffMax},         {"pingInterval", options.pingInterval},
      {"pingTimeout", options.pingTimeout},       {"callTimeout", options.callTimeout}};
  for (const auto& [name, value] : durations) {
    if (value < kPeerDurationMin || value > kPeerDurationMax) {
      return std::string(name) + " must be in [1ms, 365 days]";
    }
  }
  if (options.backoffMax < options.backoffInitial) return "backoffMax must be >= backoffInitial";
  if (options.missedPingsMax == 0) return "missedPingsMax must be >= 1";
  if (options.connectFailuresMax == 0) return "connectFailuresMax must be >= 1";
  IoResult<void> rpc = rpc::validateRpcOptions(options.rpc);
  if (!rpc.ok()) return "rpc: " + rpc.error().toString();
  return {};
}

namespace internal {

::capnp::Capability::Client Session::service(std::string_view name) {
  auto found = services.find(name);
  if (found != services.end()) return found->second;
  auto request = hub.lookupRequest();
  request.setName(::capnp::Text::Reader(name.data(), name.size()));
  ::capnp::Capability::Client pipelined = request.send().getService();
  services.emplace(std::string(name), pipelined);
  return pipelined;
}

void Session::end() {
  if (ended) return;
  ended = true;
  services.clear();
  hub = nullptr;
  client.reset();  // calls still on the connection fail with DISCONNECTED
  lost.set();
}

}  // namespace internal

namespace {

NetAddress resolve(const Directory& directory, std::string_view name) {
  std::optional<NetAddress> address = directory.find(name);
  if (!address) {
    throw Exception(ErrorKind::kFailed,
                    "rpc::Peer: no address for the name '" + std::string(name) + "'");
  }
  return *address;
}

// The host's incarnation, or nothing when the ping failed or answered something else.
using PingResponse = ::capnp::Response<schema::Hub::PingResults>;

Task<std::optional<std::uint64_t>> pingAnswer(kj::Promise<PingResponse> ping, std::uint64_t nonce) {
  try {
    auto answer = co_await awaitPromise(kj::mv(ping));
    if (answer.getNonce() != nonce) co_return std::nullopt;
    co_return answer.getIncarnation();
  } catch (const Exception&) {
    co_return std::nullopt;
  }
}

Task<std::unique_ptr<rpc::RpcClient>> dial(NetworkProvider& network, NetAddress address,
                                             rpc::RpcOptions options) {
  IoResult<std::unique_ptr<rpc::RpcClient>> client =
      co_await rpc::RpcClient::connect(network, address, std::move(options));
  if (!client.ok()) co_return nullptr;
  co_return std::move(client).value();
}

}  // namespace

Peer::Peer(Providers providers, NetAddress address, PeerOptions options)
    : providers_(providers),
      address_(address),
      options_(std::move(options)),
      change_(std::make_shared<Event>()) {
  requireKjLoop("rpc::Peer");
  std::string invalid = validatePeerOptions(options_);
  MOONPOOL_CHECK(invalid.empty(), "rpc::Peer options: " + invalid);
  loop_ = providers_.tasks().spawn("rpc peer " + address_.toString(), run());
}

Peer::Peer(Providers providers, const Directory& directory, std::string_view name,
           PeerOptions options)
    : Peer(providers, resolve(directory, name), std::move(options)) {}

Peer::~Peer() {
  loop_.cancel();
  if (session_) session_->end();
  notify();
}

Task<void> Peer::changed(PeerState from) {
  while (state_ == from) {
    std::shared_ptr<Event> change = change_;
    co_await change->wait();
  }
}

void Peer::notify() {
  std::shared_ptr<Event> fired = std::move(change_);
  change_ = std::make_shared<Event>();
  if (fired) fired->set();
}

void Peer::setState(PeerState next) {
  if (next == state_) return;
  if (next == PeerState::kFailed) ++stats_.failures;
  if (state_ == PeerState::kFailed && next == PeerState::kAvailable) ++stats_.recoveries;
  state_ = next;
  notify();
}

Task<void> Peer::run() {
  // The sink lives in a copy, not in options_ (which options() hands out): a Peer built from
  // another's options() must not report into it.
  rpc::RpcOptions rpcOptions = options_.rpc;
  if (!rpcOptions.onDisconnect) {
    rpcOptions.onDisconnect = [this](const rpc::DisconnectReport& report) {
      lastDisconnect_ = report;
    };
  }
  std::uint32_t failuresInARow = 0;
  for (;;) {
    ++stats_.connectAttempts;
    auto dialed = co_await whenAny(dial(providers_.network(), address_, rpcOptions),
                                   providers_.time().sleep(options_.connectTimeout));
    std::unique_ptr<rpc::RpcClient> client;
    if (dialed.index() == 0) client = std::move(std::get<0>(dialed));
    if (client == nullptr) {
      ++stats_.connectFailures;
      ++failuresInARow;
      if (failuresInARow >= options_.connectFailuresMax) setState(PeerState::kFailed);
      co_await backoff(failuresInARow);
      continue;
    }
    ++stats_.connects;
    if (stats_.connects > 1) ++stats_.reconnects;
    auto session = std::make_shared<internal::Session>(std::move(client));
    session_ = session;
    notify();
    const SessionEnd end = co_await monitor(session);
    if (session_ == session) session_ = nullptr;
    session->end();
    ++stats_.disconnects;
    if (end == SessionEnd::kPingsMissed) {
      setState(PeerState::kFailed);
    } else if (state_ == PeerState::kAvailable) {
      setState(PeerState::kConnecting);
    }
    // A connection that never answered a ping counts as a failed attempt, so a host that
    // accepts and drops at once is backed off from (not retried in a hot loop) and marked
    // failed like one that refuses.
    if (session->answered) {
      failuresInARow = 0;
      co_await backoff(1);
      continue;
    }
    ++stats_.connectFailures;
    if (++failuresInARow >= options_.connectFailuresMax) setState(PeerState::kFailed);
    co_await backoff(failuresInARow);
  }
}

Task<Peer::SessionEnd> Peer::monitor(std::shared_ptr<internal::Session> session) {
  auto ended = co_await whenAny(session->client->disconnected(), pingUntilMissed(session));
  co_return ended.index() == 1 ? SessionEnd::kPingsMissed : SessionEnd::kDisconnected;
}

Task<void> Peer::pingUntilMissed(std::shared_ptr<internal::Session> session) {
  std::uint32_t missed = 0;
  std::uint64_t nonce = 0;
  for (;;) {
    ++stats_.pingsSent;
    ++nonce;
    auto request = session->hub.pingRequest();
    request.setNonce(nonce);
    auto answer = co_await whenAny(pingAnswer(request.send(), nonce),
                                   providers_.time().sleep(options_.pingTimeout));
    std::optional<std::uint64_t> incarnation;
    if (answer.index() == 0) incarnation = std::get<0>(answer);
    if (incarnation) {
      missed = 0;
      session->answered = true;
      if (incarnation_ != 0 && *incarnation != incarnation_) ++stats_.incarnationChanges;
      incarnation_ = *incarnation;
      setState(PeerState::kAvailable);
    } else {
      ++stats_.pingsMissed;
      if (++missed >= options_.missedPingsMax) co_return;
    }
    co_await providers_.time().sleep(options_.pingInterval);
  }
}

Task<void> Peer::backoff(std::uint32_t failuresInARow) {
  // b = min(initial * 2^(n-1), max); wait U[b/2, b] (jitter keeps peers from reconnecting
  // in lockstep after a shared failure).
  Duration bound = options_.backoffInitial;
  for (std::uint32_t i = 1; i < failuresInARow && bound < options_.backoffMax; ++i) bound *= 2;
  bound = std::min(bound, options_.backoffMax);
  // Bounded by kPeerDurationMax (validatePeerOptions), so neither line overflows.
  const Duration half = bound / 2;
  const Duration wait = providers_.random().durationBetween(half, bound + Duration{1});
  co_await providers_.time().sleep(wait);
}

}  // namespace moonpool::rpc
