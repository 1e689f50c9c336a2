// The production network provider on KJ TCP (see real/real_network.h).
//
// Shape: a connection or listener keeps its KJ object in a shared "core". Every operation
// in flight holds the core too, and wraps its KJ promise in the core's kj::Canceler, so
// abort() and destruction can cancel pending KJ work synchronously (Canceler guarantees the
// wrapped promise is destroyed when cancel() returns) and then close the socket, while the
// awaiting tasks still resume safely with an error.
#include "moonpool/real/real_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kj/async-io.h>
#include <kj/exception.h>
#include <kj/io.h>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"
#include "moonpool/kj/connection_stream.h"
#include "moonpool/real/real_executor.h"

namespace moonpool {
namespace {

// ---------------------------------------------------------------------------------------
// Errors.

struct ErrnoKind {
  int code;
  IoErrorKind kind;
};

// The errno values a TCP operation reports, and the kind each becomes. KJ puts
// strerror(errno) into the exception description; we find it there.
// The largest backlog handed to listen() (an int); the kernel clamps it further.
constexpr std::size_t kBacklogMax = 65535;

constexpr ErrnoKind kErrnoKinds[] = {
    {ECONNREFUSED, IoErrorKind::kRefused},
    {ECONNRESET, IoErrorKind::kReset},
    {ECONNABORTED, IoErrorKind::kReset},
    {EPIPE, IoErrorKind::kBrokenPipe},
    {ETIMEDOUT, IoErrorKind::kTimedOut},
    {EHOSTUNREACH, IoErrorKind::kUnreachable},
    {ENETUNREACH, IoErrorKind::kUnreachable},
    {EADDRINUSE, IoErrorKind::kAddressInUse},
    {EADDRNOTAVAIL, IoErrorKind::kInvalidArgument},  // listening on an address not ours
    {EINVAL, IoErrorKind::kInvalidArgument},
};

IoError ioErrorFromKj(const kj::Exception& error, std::string_view operation) {
  const std::string_view description(error.getDescription().cStr());
  std::string message = std::string(operation) + ": " + std::string(description);
  for (const ErrnoKind& entry : kErrnoKinds) {
    if (description.find(std::strerror(entry.code)) != std::string_view::npos) {
      return IoError{entry.kind, std::move(message)};
    }
  }
  // No errno text: our own cancellations (abort, destruction) and KJ's other disconnects are
  // DISCONNECTED and mean the stream is gone; anything else is an unexpected failure.
  const IoErrorKind kind = error.getType() == kj::Exception::Type::DISCONNECTED
                               ? IoErrorKind::kReset
                               : IoErrorKind::kIo;
  return IoError{kind, std::move(message)};
}

kj::Exception disconnected(const char* why) {
  return kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__, kj::str(why));
}

// ---------------------------------------------------------------------------------------
// Addresses.

sockaddr_in toSockaddr(NetAddress address) {
  sockaddr_in out;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(address.port);
  out.sin_addr.s_addr = htonl(address.ip.value());
  return out;
}

enum class SocketEnd : std::uint8_t { kLocal, kPeer };

// The IPv4 address of one end of `stream`; all zero when the kernel no longer knows it
// (the peer reset the connection before we asked).
NetAddress socketAddress(kj::AsyncIoStream& stream, SocketEnd end) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  kj::uint length = sizeof storage;
  try {
    auto* raw = reinterpret_cast<sockaddr*>(&storage);
    if (end == SocketEnd::kLocal) {
      stream.getsockname(raw, &length);
    } else {
      stream.getpeername(raw, &length);
    }
  } catch (const kj::Exception&) {
    return NetAddress{};
  }
  MOONPOOL_CHECK_EQ(storage.ss_family, sa_family_t{AF_INET}, "only IPv4 sockets are made here");
  const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
  return NetAddress{IpAddress(ntohl(in->sin_addr.s_addr)), ntohs(in->sin_port)};
}

// ---------------------------------------------------------------------------------------
// Shared state of a connection (see the file comment).
//
// KJ streams may fail synchronously (tryRead and write try the system call at once and
// throw), so every KJ call below goes through kj::evalNow, which turns a throw into a
// rejected promise that the error handlers see.

enum class WriteSide : std::uint8_t { kOpen, kShutDown };

struct StreamCore {
  kj::Own<kj::AsyncIoStream> stream;  // null once closed by abort() or destruction
  // Declared after `stream`, so it is destroyed first: nothing wrapped outlives the stream.
  kj::Canceler inFlight;
  std::optional<IoError> failure;  // sticky: the first failure of a read or a write
  IoError closedError{IoErrorKind::kInvalidArgument, "connection closed"};
  WriteSide writeSide = WriteSide::kOpen;
  std::size_t readsInFlight = 0;
  std::size_t writesInFlight = 0;

  // Cancels pending operations (they complete with `why`) and closes the socket.
  void close(const char* why, IoError after) {
    inFlight.cancel(disconnected(why));
    MOONPOOL_CHECK(inFlight.isEmpty(), "Canceler::cancel left a promise behind");
    stream = nullptr;
    closedError = std::move(after);
  }
};

// Keeps an in-flight counter honest even when the awaiting task is cancelled.
class InFlightGuard {
 public:
  explicit InFlightGuard(std::size_t& count) : count_(count) { ++count_; }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  ~InFlightGuard() {
    MOONPOOL_CHECK_GT(count_, std::size_t{0}, "in-flight counter underflow");
    --count_;
  }

 private:
  std::size_t& count_;
};

// Why an operation cannot start on `core`, if it cannot.
std::optional<IoError> unusable(const StreamCore& core) {
  if (core.failure.has_value()) return core.failure;
  if (!core.stream) return core.closedError;
  return std::nullopt;
}

Task<IoResult<std::size_t>> readOn(std::shared_ptr<StreamCore> core, std::span<std::byte> buffer) {
  MOONPOOL_CHECK(!buffer.empty(), "read() needs a non-empty buffer");
  if (std::optional<IoError> why = unusable(*core)) co_return *why;
  MOONPOOL_CHECK_EQ(core->readsInFlight, std::size_t{0}, "one read at a time per connection");
  InFlightGuard guard(core->readsInFlight);
  auto startRead = [&]() { return core->stream->tryRead(buffer.data(), 1, buffer.size()); };
  kj::Promise<IoResult<std::size_t>> reading =
      core->inFlight.wrap(kj::evalNow(startRead))
          .then([](std::size_t n) -> IoResult<std::size_t> { return n; },
                [](kj::Exception&& error) -> IoResult<std::size_t> {
                  return ioErrorFromKj(error, "read");
                });
  IoResult<std::size_t> got = co_await awaitPromise(kj::mv(reading));
  // Closed under us (abort() or destruction): report why, not the cancellation.
  if (!core->stream) co_return core->closedError;
  if (!got.ok() && !core->failure.has_value()) core->failure = got.error();
  if (got.ok()) MOONPOOL_CHECK_LE(*got, buffer.size(), "KJ read past the buffer");
  co_return got;
}

Task<IoResult<std::size_t>> writeOn(std::shared_ptr<StreamCore> core,
                                    std::span<const std::span<const std::byte>> pieces) {
  // Copied before the first suspension: `pieces` may refer to the caller's frame.
  std::vector<kj::ArrayPtr<const kj::byte>> kjPieces;
  std::size_t total = 0;
  for (std::span<const std::byte> piece : pieces) {
    if (piece.empty()) continue;
    kjPieces.push_back(kj::arrayPtr(reinterpret_cast<const kj::byte*>(piece.data()), piece.size()));
    total += piece.size();
  }
  if (total == 0) co_return std::size_t{0};
  if (std::optional<IoError> why = unusable(*core)) co_return *why;
  if (core->writeSide == WriteSide::kShutDown) {
    co_return IoError{IoErrorKind::kBrokenPipe, "write after shutdownWrite()"};
  }
  MOONPOOL_CHECK_EQ(core->writesInFlight, std::size_t{0}, "one write at a time per connection");
  InFlightGuard guard(core->writesInFlight);
  auto startWrite = [&]() {
    return core->stream->write(kj::arrayPtr(kjPieces.data(), kjPieces.size()));
  };
  kj::Promise<IoResult<std::size_t>> writing =
      core->inFlight.wrap(kj::evalNow(startWrite))
          .then([total]() -> IoResult<std::size_t> { return total; },
                [](kj::Exception&& error) -> IoResult<std::size_t> {
                  return ioErrorFromKj(error, "write");
                });
  IoResult<std::size_t> took = co_await awaitPromise(kj::mv(writing));
  if (!core->stream) co_return core->closedError;
  if (!took.ok() && !core->failure.has_value()) core->failure = took.error();
  co_return took;
}

class RealConnection final : public Connection, public KjStreamConnection {
 public:
  explicit RealConnection(kj::Own<kj::AsyncIoStream> stream)
      : core_(std::make_shared<StreamCore>()),
        local_(socketAddress(*stream, SocketEnd::kLocal)),
        remote_(socketAddress(*stream, SocketEnd::kPeer)) {
    core_->stream = kj::mv(stream);
  }
  RealConnection(const RealConnection&) = delete;
  RealConnection& operator=(const RealConnection&) = delete;
  ~RealConnection() override {
    if (core_->stream) {
      core_->close("connection destroyed",
                   IoError{IoErrorKind::kInvalidArgument, "connection destroyed"});
    }
  }

  // implements Connection
  [[clang::coro_wrapper]] Task<IoResult<std::size_t>> read(std::span<std::byte> buffer) override {
    return readOn(core_, buffer);
  }
  [[clang::coro_wrapper]] Task<IoResult<std::size_t>> write(
      std::span<const std::span<const std::byte>> pieces) override {
    return writeOn(core_, pieces);
  }
  IoResult<void> shutdownWrite() override;
  void abort() override;
  NetAddress localAddress() const override { return local_; }
  NetAddress remoteAddress() const override { return remote_; }
  // implements KjStreamConnection
  kj::AsyncIoStream& kjStream() override {
    MOONPOOL_CHECK(core_->stream.get() != nullptr, "kjStream() of a closed connection");
    return *core_->stream;
  }

 private:
  std::shared_ptr<StreamCore> core_;
  NetAddress local_;
  NetAddress remote_;
};

IoResult<void> RealConnection::shutdownWrite() {
  if (std::optional<IoError> why = unusable(*core_)) return *why;
  if (core_->writeSide == WriteSide::kShutDown) return IoResult<void>();
  if (core_->writesInFlight != 0) {
    return IoError{IoErrorKind::kInvalidArgument, "shutdownWrite() while a write is in flight"};
  }
  try {
    core_->stream->shutdownWrite();
  } catch (const kj::Exception& error) {
    return ioErrorFromKj(error, "shutdownWrite");
  }
  core_->writeSide = WriteSide::kShutDown;
  return IoResult<void>();
}

void RealConnection::abort() {
  if (!core_->stream) return;
  // Linger on with a zero timeout: close() then discards unsent data and sends an RST.
  const linger resetOnClose{.l_onoff = 1, .l_linger = 0};
  try {
    core_->stream->setsockopt(SOL_SOCKET, SO_LINGER, &resetOnClose, sizeof resetOnClose);
  } catch (const kj::Exception&) {
    // Not a socket option this stream supports: the close below is then a plain FIN, and
    // the peer sees end of stream instead of a reset. KJ TCP streams always support it.
  }
  core_->close("connection aborted locally",
               IoError{IoErrorKind::kReset, "connection was aborted locally"});
}

// ---------------------------------------------------------------------------------------
// Listeners.

struct ListenerCore {
  NetAddress address;
  kj::Own<kj::ConnectionReceiver> receiver;  // null once the listener is destroyed
  kj::Canceler inFlight;  // after `receiver`: destroyed first
  std::size_t acceptsInFlight = 0;
};

// A KJ stream, or why there is none (KJ promises need a type without invariants).
struct StreamOutcome {
  kj::Own<kj::AsyncIoStream> stream;
  std::optional<IoError> error;
};

Task<IoResult<std::unique_ptr<Connection>>> awaitStream(kj::Promise<StreamOutcome> pending) {
  StreamOutcome outcome = co_await awaitPromise(kj::mv(pending));
  if (outcome.error.has_value()) co_return *std::move(outcome.error);
  MOONPOOL_CHECK(outcome.stream.get() != nullptr, "a successful outcome carries a stream");
  co_return std::unique_ptr<Connection>(std::make_unique<RealConnection>(kj::mv(outcome.stream)));
}

kj::Promise<StreamOutcome> toOutcome(kj::Promise<kj::Own<kj::AsyncIoStream>> pending,
                                     std::string operation) {
  return pending.then(
      [](kj::Own<kj::AsyncIoStream>&& stream) { return StreamOutcome{kj::mv(stream), {}}; },
      [operation = std::move(operation)](kj::Exception&& error) {
        return StreamOutcome{kj::Own<kj::AsyncIoStream>(), ioErrorFromKj(error, operation)};
      });
}

IoError listenerClosed(const ListenerCore& core) {
  return IoError{IoErrorKind::kInvalidArgument,
                 "listener " + core.address.toString() + " is closed"};
}

Task<IoResult<std::unique_ptr<Connection>>> acceptOn(std::shared_ptr<ListenerCore> core) {
  if (!core->receiver) co_return listenerClosed(*core);
  MOONPOOL_CHECK_EQ(core->acceptsInFlight, std::size_t{0}, "one accept at a time per listener");
  InFlightGuard guard(core->acceptsInFlight);
  IoResult<std::unique_ptr<Connection>> accepted = co_await awaitStream(
      toOutcome(core->inFlight.wrap(kj::evalNow([&]() { return core->receiver->accept(); })),
                "accept"));
  if (!core->receiver) co_return listenerClosed(*core);
  co_return accepted;
}

class RealListener final : public Listener {
 public:
  RealListener(kj::Own<kj::ConnectionReceiver> receiver, NetAddress local)
      : core_(std::make_shared<ListenerCore>()) {
    core_->address = local;
    core_->receiver = kj::mv(receiver);
  }
  RealListener(const RealListener&) = delete;
  RealListener& operator=(const RealListener&) = delete;
  ~RealListener() override {
    // A pending accept completes with kInvalidArgument ("closed"); then the socket closes.
    core_->inFlight.cancel(disconnected("listener destroyed"));
    core_->receiver = nullptr;
  }

  // implements Listener
  [[clang::coro_wrapper]] Task<IoResult<std::unique_ptr<Connection>>> accept() override {
    return acceptOn(core_);
  }
  NetAddress localAddress() const override { return core_->address; }

 private:
  std::shared_ptr<ListenerCore> core_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// The provider.

RealNetworkProvider::RealNetworkProvider(RealExecutor& executor, IpAddress localIp)
    : executor_(executor), localIp_(localIp) {
  MOONPOOL_CHECK_NE(localIp_.value(), 0u, "a provider needs an address peers can reach");
}

RealNetworkProvider::~RealNetworkProvider() = default;

namespace {

IoError errnoError(int code, const std::string& where) {
  for (const ErrnoKind& entry : kErrnoKinds) {
    if (entry.code == code) return IoError{entry.kind, where + ": " + std::strerror(code)};
  }
  return IoError{IoErrorKind::kIo, where + ": " + std::strerror(code)};
}

// A listening socket with exactly `backlog` (KJ's own listen() always asks for SOMAXCONN).
IoResult<kj::Own<kj::ConnectionReceiver>> listenSocket(kj::LowLevelAsyncIoProvider& io,
                                                       NetAddress address, std::size_t backlog,
                                                       const std::string& where) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoError(errno, where + ": socket");
  kj::AutoCloseFd owned(fd);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    return errnoError(errno, where + ": SO_REUSEADDR");
  }
  const sockaddr_in raw = toSockaddr(address);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&raw), sizeof raw) != 0) {
    return errnoError(errno, where + ": bind");
  }
  // The kernel clamps it to net.core.somaxconn.
  const int asked = static_cast<int>(std::min<std::size_t>(backlog, kBacklogMax));
  if (::listen(fd, asked) != 0) return errnoError(errno, where + ": listen");
  return io.wrapListenSocketFd(kj::mv(owned), kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC |
                                                  kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK);
}

}  // namespace

IoResult<std::unique_ptr<Listener>> RealNetworkProvider::listen(NetAddress address,
                                                                std::size_t backlog) {
  const std::string where = "listen on " + address.toString();
  if (backlog == 0) return IoError{IoErrorKind::kInvalidArgument, where + ": backlog 0"};
  try {
    IoResult<kj::Own<kj::ConnectionReceiver>> made =
        listenSocket(executor_.lowLevelIo(), address, backlog, where);
    if (!made.ok()) return made.error();
    kj::Own<kj::ConnectionReceiver> receiver = std::move(made).value();
    const auto port = static_cast<std::uint16_t>(receiver->getPort());
    MOONPOOL_CHECK_NE(port, std::uint16_t{0}, "the kernel bound no port");
    // A wildcard listener is reached at this provider's address.
    const NetAddress local{address.ip.isUnspecified() ? localIp_ : address.ip, port};
    return std::unique_ptr<Listener>(std::make_unique<RealListener>(kj::mv(receiver), local));
  } catch (const kj::Exception& error) {
    return ioErrorFromKj(error, where);
  }
}

Task<IoResult<std::unique_ptr<Connection>>> RealNetworkProvider::connect(NetAddress address) {
  const sockaddr_in raw = toSockaddr(address);
  kj::Own<kj::NetworkAddress> target = executor_.io().getNetwork().getSockaddr(&raw, sizeof raw);
  // evalNow turns a synchronous failure (socket() itself) into a rejected promise.
  kj::Promise<kj::Own<kj::AsyncIoStream>> connecting =
      kj::evalNow([&]() { return target->connect(); }).attach(kj::mv(target));
  co_return co_await awaitStream(toOutcome(kj::mv(connecting), "connect to " + address.toString()));
}

}  // namespace moonpool
