// Two-party RPC server and client over a NetworkProvider (see rpc.h).
#include "moonpool/rpc/two_party.h"

#include <kj/debug.h>

#include <utility>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/spawn.h"
#include "two_party_connection.h"

namespace moonpool::rpc {

namespace {

using internal::RpcConnection;
using Side = ::capnp::rpc::twoparty::Side;

static_assert(static_cast<std::size_t>(DisconnectCause::kPeerAborted) + 1 == kDisconnectCauseCount,
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

void deliver(const RpcOptions& options, const DisconnectReport& report) {
  if (options.onDisconnect) {
    options.onDisconnect(report);
    return;
  }
  switch (report.cause) {
    case DisconnectCause::kProtocolError:
    case DisconnectCause::kCorrupted:
    case DisconnectCause::kPeerAborted:
      KJ_LOG(WARNING, "rpc connection dropped", report.toString().c_str());
      break;
    case DisconnectCause::kClosed:
    case DisconnectCause::kIoError:
      break;
  }
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
  if (options.backlog == 0) return invalidOption("backlog must be >= 1");
  if (options.connectionsMax == 0) return invalidOption("connectionsMax must be >= 1");
  return IoResult<void>();
}

// ---------------------------------------------------------------------------------------
// Server

struct RpcServer::Impl {
  Impl(std::unique_ptr<Listener> listener, ::capnp::Capability::Client bootstrap,
       RpcOptions options, Executor& executor)
      : listener(std::move(listener)),
        bootstrap(kj::mv(bootstrap)),
        options(std::move(options)),
        executor(executor),
        connections(executor, "rpc server " + this->listener->localAddress().toString()) {}

  std::unique_ptr<Listener> listener;
  ::capnp::Capability::Client bootstrap;
  RpcOptions options;
  Executor& executor;
  std::size_t open = 0;
  std::uint32_t serving = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::array<std::uint64_t, kDisconnectCauseCount> disconnects{};
  // Last: destroyed first, cancelling connection tasks while the fields above still live.
  TaskGroup connections;
};

namespace {

Task<void> serveConnection(RpcServer::Impl* server, [[maybe_unused]] Counted<std::size_t> open,
                           std::unique_ptr<Connection> connection) {
  RpcOptions options = server->options;
  options.framing = resolveFraming(options.framing, *connection);
  RpcConnection rpc(std::move(connection), Side::SERVER,
                    kj::Maybe<::capnp::Capability::Client>(server->bootstrap), options,
                    server->executor);
  co_await awaitPromise(rpc.onDisconnect());
  DisconnectReport report = rpc.report();
  ++server->disconnects[static_cast<std::size_t>(report.cause)];
  deliver(server->options, report);
}

}  // namespace

IoResult<std::unique_ptr<RpcServer>> RpcServer::listen(NetworkProvider& network,
                                                       NetAddress address,
                                                       ::capnp::Capability::Client bootstrap,
                                                       RpcOptions options) {
  IoResult<void> valid = validateRpcOptions(options);
  if (!valid.ok()) return valid.error();
  IoResult<std::unique_ptr<Listener>> listener = network.listen(address, options.backlog);
  if (!listener.ok()) return listener.error();
  return std::unique_ptr<RpcServer>(new RpcServer(std::make_unique<Impl>(
      std::move(listener).value(), kj::mv(bootstrap), std::move(options), Executor::current())));
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
  for (;;) {
    IoResult<std::unique_ptr<Connection>> accepted = co_await server.listener->accept();
    if (!accepted.ok()) accepted.error().raise();
    std::unique_ptr<Connection> connection = std::move(accepted).value();
    if (server.open >= server.options.connectionsMax) {
      ++server.refused;  // destroying it closes it
      continue;
    }
    ++server.accepted;
    std::string name = "rpc " + connection->localAddress().toString() + " <- " +
                       connection->remoteAddress().toString();
    server.connections
        .spawn(std::move(name),
               serveConnection(&server, Counted<std::size_t>(server.open), std::move(connection)))
        .detach();
  }
}

std::size_t RpcServer::openConnections() const { return impl_->open; }
std::uint64_t RpcServer::acceptedConnections() const { return impl_->accepted; }
std::uint64_t RpcServer::refusedConnections() const { return impl_->refused; }
std::uint64_t RpcServer::disconnects(DisconnectCause cause) const {
  return impl_->disconnects[static_cast<std::size_t>(cause)];
}

// ---------------------------------------------------------------------------------------
// Client

struct RpcClient::Impl {
  Impl(std::unique_ptr<Connection> connection, RpcOptions options, Executor& executor)
      : options(std::move(options)),
        connection(std::move(connection), Side::CLIENT, nullptr, this->options, executor) {
    watch = this->connection.onDisconnect()
                .then([this]() { deliver(this->options, this->connection.report()); })
                .eagerlyEvaluate(nullptr);
  }

  RpcOptions options;
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
