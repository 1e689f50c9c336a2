// Call: deadlines, fail-fast, delivery modes and error classification (see peer.h).
#include <utility>

#include "moonpool/check.h"
#include "moonpool/combinators.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/rpc/peer.h"
#include "session.h"

namespace moonpool::rpc {

std::string_view rpcFailureName(RpcFailure failure) {
  switch (failure) {
    case RpcFailure::kPeerFailed:
      return "peer failed";
    case RpcFailure::kTimedOut:
      return "timed out";
    case RpcFailure::kConnectionLost:
      return "connection lost";
    case RpcFailure::kBrokenRequest:
      return "broken request";
    case RpcFailure::kUnknownService:
      return "unknown service";
    case RpcFailure::kNotAuthorized:
      return "not authorized";
  }
  return "?";
}

namespace {

ErrorKind kindOf(RpcFailure failure) {
  switch (failure) {
    case RpcFailure::kTimedOut:
      return ErrorKind::kOverloaded;
    case RpcFailure::kUnknownService:
    case RpcFailure::kNotAuthorized:
      return ErrorKind::kFailed;
    default:
      return ErrorKind::kDisconnected;
  }
}

// The outcome of one attempt: nothing when answered, the error otherwise.
Task<std::optional<Exception>> attempt(kj::Promise<void> settled) {
  try {
    co_await awaitPromise(kj::mv(settled));
    co_return std::nullopt;
  } catch (const Exception& error) {
    co_return error;
  }
}

Task<void> waitLost(std::shared_ptr<internal::Session> session) {
  co_await session->lost.wait();
}

}  // namespace

RpcError::RpcError(RpcFailure failure, Delivered delivered, std::string description)
    : Exception(kindOf(failure),
                std::string(rpcFailureName(failure)) +
                    (delivered == Delivered::kMaybe ? " (maybe delivered): "
                                                    : " (not delivered): ") +
                    description),
      failure_(failure),
      delivered_(delivered) {}

Call::Call(Peer& peer, std::string_view service, std::string_view method, Delivery delivery,
           const CallOptions& options)
    : peer_(peer),
      service_(service),
      method_(method),
      delivery_(delivery),
      whenFailed_(options.whenFailed) {
  const TimePoint now = peer_.time().now();
  // Saturating: a timeout beyond what TimePoint holds means "no deadline but the far end".
  const Duration timeout = options.timeout.value_or(peer_.options().callTimeout);
  deadline_ = timeout >= TimePoint::max() - now ? TimePoint::max() : now + timeout;
  if (options.deadline && *options.deadline < deadline_) deadline_ = *options.deadline;
  ++peer_.stats_.calls;
}

Call::~Call() = default;

void Call::fail(RpcFailure failure, std::string why) {
  Delivered delivered = sentSoFar();
  if (failure == RpcFailure::kBrokenRequest || failure == RpcFailure::kConnectionLost) {
    delivered = Delivered::kMaybe;
  }
  if (failure == RpcFailure::kUnknownService || failure == RpcFailure::kNotAuthorized) {
    delivered = Delivered::kNo;
  }
  throw RpcError(failure, delivered,
                 service_ + "." + method_ + " to " + peer_.address().toString() + ": " +
                     std::move(why));
}

Task<::capnp::Capability::Client> Call::target() {
  TimeProvider& time = peer_.time();
  for (;;) {
    // The deadline first: a call is never sent after it.
    if (time.now() >= deadline_) {
      ++peer_.stats_.timeouts;
      fail(RpcFailure::kTimedOut, "no connection before the deadline");
    }
    std::shared_ptr<internal::Session> session = peer_.session_;
    if (session && !session->broken()) {
      session_ = session;
      co_return session->service(service_);
    }
    if (peer_.state() == PeerState::kFailed && whenFailed_ == WhenFailed::kFailFast) {
      ++peer_.stats_.failFast;
      fail(RpcFailure::kPeerFailed, "the failure monitor has the peer failed");
    }
    std::shared_ptr<Event> change = peer_.change_;
    co_await whenAny(change->wait(), time.sleepUntil(deadline_));
  }
}

Task<Call::Attempt> Call::settle(kj::Promise<void> settled, const bool& answered) {
  MOONPOOL_CHECK(session_ != nullptr, "rpc::Call::reply() without target()");
  ++attempts_;
  std::shared_ptr<internal::Session> session = session_;
  auto outcome = co_await whenAny(attempt(kj::mv(settled)), waitLost(session),
                                  peer_.time().sleepUntil(deadline_));
  if (answered) co_return Attempt::kAnswered;  // it wins ties with the loss and the deadline
  if (outcome.index() == 2) {
    ++peer_.stats_.timeouts;
    fail(RpcFailure::kTimedOut, "no answer before the deadline");
  }
  if (outcome.index() == 0) {
    std::optional<Exception>& error = std::get<0>(outcome);
    if (!error) co_return Attempt::kAnswered;
    if (isBrokenRequest(*error)) {
      ++peer_.stats_.brokenRequests;
      fail(RpcFailure::kBrokenRequest, error->description());
    }
    // The hub's own refusal is UNIMPLEMENTED with its marker; a server method's error that
    // merely mentions it (a nested call's RpcError is FAILED) is the server's error.
    if (error->kind() == ErrorKind::kUnimplemented &&
        error->description().find(internal::kNoServiceMarker) != std::string::npos) {
      session->services.erase(service_);  // asked again next time: it may be added later
      fail(RpcFailure::kUnknownService, error->description());
    }
    // The hub's refusal: FAILED, its marker first in Cap'n Proto's remote description (a
    // server method's error quoting a nested refusal starts with that RpcError's text).
    if (error->kind() == ErrorKind::kFailed &&
        error->description().find("remote exception: " +
                                  std::string(internal::kNotAuthorizedMarker)) !=
            std::string::npos) {
      session->services.erase(service_);  // membership may change; ask again next time
      fail(RpcFailure::kNotAuthorized, error->description());
    }
    // DISCONNECTED from a connection that is still up is the server's own error.
    if (error->kind() != ErrorKind::kDisconnected || !session->broken()) throw *error;
  }
  // The connection of this attempt broke before the answer.
  if (delivery_ == Delivery::kAtLeastOnce) {
    ++peer_.stats_.resends;
    co_return Attempt::kResend;
  }
  ++peer_.stats_.connectionLost;
  fail(RpcFailure::kConnectionLost, "the connection broke before the answer");
}

}  // namespace moonpool::rpc
