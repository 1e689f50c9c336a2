// Two-party RPC: names, options and the client (see rpc/two_party.h; the server is in
// two_party_server.cpp).
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
#include "moonpool/rpc/tls.h"
#include "moonpool/spawn.h"
#include "tls_session.h"
#include "two_party_connection.h"
#include "two_party_shared.h"

namespace moonpool::rpc {

namespace {

using internal::BaseStream;
using internal::budgetFor;
using internal::deliver;
using internal::invalidOption;
using internal::LogLimiter;
using internal::RpcConnection;
using Side = ::capnp::rpc::twoparty::Side;

static_assert(static_cast<std::size_t>(DisconnectCause::kRefused) + 1 == kDisconnectCauseCount,
              "kDisconnectCauseCount counts every DisconnectCause");

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
// Client

struct RpcClient::Impl {
  Impl(std::unique_ptr<BaseStream> base, kj::Own<kj::AsyncIoStream> layered, RpcOptions options,
       Executor& executor)
      : options(std::move(options)),
        executor(executor),
        connection(std::move(base), kj::mv(layered), Side::CLIENT,
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
  if (options.tls == nullptr) co_return over(std::move(connection).value(), std::move(options));
  options.framing = resolveFraming(options.framing, **connection);
  auto base = std::make_unique<BaseStream>(std::move(connection).value());
  std::optional<std::string> failure;
  kj::Own<kj::AsyncIoStream> secured;
  try {
    internal::TlsSession session =
        co_await awaitPromise(internal::tlsConnect(*options.tls, base->stream()));
    secured = kj::mv(session.stream);
  } catch (const Exception& error) {
    failure = error.description();
  }
  if (failure) {
    co_return IoError{IoErrorKind::kRefused,
                      "TLS handshake with " + address.toString() + " failed: " + *failure};
  }
  co_return std::unique_ptr<RpcClient>(new RpcClient(std::make_unique<Impl>(
      std::move(base), kj::mv(secured), std::move(options), Executor::current())));
}

IoResult<std::unique_ptr<RpcClient>> RpcClient::over(std::unique_ptr<Connection> connection,
                                                     RpcOptions options) {
  IoResult<void> valid = validateRpcOptions(options);
  if (!valid.ok()) return valid.error();
  if (connection == nullptr) {
    return IoError{IoErrorKind::kInvalidArgument, "RpcClient::over: no connection"};
  }
  if (options.tls != nullptr) {
    return IoError{IoErrorKind::kInvalidArgument,
                   "RpcClient::over cannot run a TLS handshake: use connect()"};
  }
  options.framing = resolveFraming(options.framing, *connection);
  return std::unique_ptr<RpcClient>(new RpcClient(
      std::make_unique<Impl>(std::make_unique<BaseStream>(std::move(connection)),
                             kj::Own<kj::AsyncIoStream>(), std::move(options),
                             Executor::current())));
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
