// A moonpool Connection as a kj::AsyncIoStream (see connection_stream.h).
#include "moonpool/kj/connection_stream.h"

#include <arpa/inet.h>
#include <kj/debug.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "moonpool/check.h"
#include "moonpool/kj/bridge.h"

namespace moonpool {

struct ConnectionStream::Shared {
  std::unique_ptr<Connection> connection;
  kj::Own<kj::PromiseFulfiller<void>> disconnected;
  std::uint32_t readsInFlight = 0;
  std::uint32_t writesInFlight = 0;
  enum class ReadSide : std::uint8_t { kOpen, kAborted };
  ReadSide readSide = ReadSide::kOpen;

  // The exception for a failed operation; a failure also means writes cannot succeed any more.
  kj::Exception fail(const IoError& error, std::string_view operation) {
    if (disconnected->isWaiting()) disconnected->fulfill();
    return streamException(error, operation, *connection);
  }
};

namespace {

using Shared = ConnectionStream::Shared;

std::string describePath(const Connection& connection) {
  return connection.localAddress().toString() + "->" + connection.remoteAddress().toString();
}

// Counts one operation in flight from the call until its Task frame is destroyed (finished
// or cancelled, started or not): it travels into the frame as a by-value parameter.
class InFlight {
 public:
  explicit InFlight(std::uint32_t& count) : count_(&count) { ++*count_; }
  InFlight(InFlight&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  InFlight& operator=(InFlight&&) = delete;
  ~InFlight() {
    if (count_ != nullptr) --*count_;
  }

 private:
  std::uint32_t* count_;
};

Task<std::size_t> readAtLeast(std::shared_ptr<Shared> shared, [[maybe_unused]] InFlight guard,
                              std::byte* buffer, std::size_t minBytes, std::size_t maxBytes) {
  std::size_t got = 0;
  do {
    IoResult<std::size_t> n =
        co_await shared->connection->read(std::span(buffer + got, maxBytes - got));
    if (!n.ok()) throw shared->fail(n.error(), "read");
    if (*n == 0) break;  // end of stream: fewer than minBytes is KJ's way of saying so
    got += *n;
  } while (got < minBytes);
  co_return got;
}

// Drops `n` written bytes from the front of pieces[first..]; returns the new first piece.
std::size_t consume(std::vector<std::span<const std::byte>>& pieces, std::size_t first,
                    std::size_t n) {
  while (n > 0) {
    MOONPOOL_CHECK_LT(first, pieces.size(), "a write reported more bytes than it was given");
    std::span<const std::byte>& piece = pieces[first];
    if (n < piece.size()) {
      piece = piece.subspan(n);
      return first;
    }
    n -= piece.size();
    ++first;
  }
  return first;
}

Task<void> writeAll(std::shared_ptr<Shared> shared, [[maybe_unused]] InFlight guard,
                    std::vector<std::span<const std::byte>> pieces) {
  std::size_t first = 0;
  while (first < pieces.size()) {
    const std::size_t count = std::min(pieces.size() - first, ConnectionStream::kPiecesPerWriteMax);
    IoResult<std::size_t> n =
        co_await shared->connection->write(std::span(pieces).subspan(first, count));
    if (!n.ok()) throw shared->fail(n.error(), "write");
    MOONPOOL_CHECK_GT(*n, 0u, "Connection::write took nothing from a non-empty write");
    first = consume(pieces, first, *n);
  }
}

void fillSockaddr(NetAddress address, struct sockaddr* addr, kj::uint* length) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(address.port);
  in.sin_addr.s_addr = htonl(address.ip.value());
  std::memcpy(addr, &in, std::min<std::size_t>(*length, sizeof(in)));
  *length = sizeof(in);
}

}  // namespace

kj::AsyncIoStream* nativeKjStream(Connection& connection) {
  auto* native = dynamic_cast<KjStreamConnection*>(&connection);
  return native == nullptr ? nullptr : &native->kjStream();
}

kj::Exception streamException(const IoError& error, std::string_view operation,
                              const Connection& connection) {
  // Misuse (an operation on a closed handle) is a bug; everything else means the stream is
  // gone, which is what DISCONNECTED tells Cap'n Proto and its callers.
  const auto type = error.kind == IoErrorKind::kInvalidArgument ? kj::Exception::Type::FAILED
                                                                : kj::Exception::Type::DISCONNECTED;
  std::string description = std::string(operation) + " on " + describePath(connection) + ": " +
                            error.toString();
  return kj::Exception(type, __FILE__, __LINE__, kj::str(description.c_str()));
}

kj::Exception networkException(const IoError& error, std::string_view operation,
                               NetAddress address) {
  std::string description =
      std::string(operation) + " " + address.toString() + ": " + error.toString();
  return kj::Exception(toKjType(errorKindOf(error.kind)), __FILE__, __LINE__,
                       kj::str(description.c_str()));
}

ConnectionStream::ConnectionStream(std::unique_ptr<Connection> connection)
    : shared_(std::make_shared<Shared>()), disconnected_(nullptr) {
  MOONPOOL_CHECK(connection != nullptr, "ConnectionStream needs a connection");
  shared_->connection = std::move(connection);
  auto paf = kj::newPromiseAndFulfiller<void>();
  shared_->disconnected = kj::mv(paf.fulfiller);
  disconnected_ = paf.promise.fork();
}

ConnectionStream::~ConnectionStream() = default;

Connection& ConnectionStream::connection() { return *shared_->connection; }
NetAddress ConnectionStream::localAddress() const { return shared_->connection->localAddress(); }
NetAddress ConnectionStream::remoteAddress() const {
  return shared_->connection->remoteAddress();
}

void ConnectionStream::abort() {
  shared_->connection->abort();
  if (shared_->disconnected->isWaiting()) shared_->disconnected->fulfill();
}

kj::Promise<size_t> ConnectionStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  KJ_REQUIRE(minBytes <= maxBytes, "tryRead: minBytes > maxBytes", minBytes, maxBytes);
  MOONPOOL_CHECK_EQ(shared_->readsInFlight, 0u, "KJ streams allow one read in flight at a time");
  if (shared_->readSide == Shared::ReadSide::kAborted) {
    std::string path = describePath(*shared_->connection);
    return kj::Exception(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                         kj::str("read on ", path.c_str(), " after abortRead()"));
  }
  if (maxBytes == 0) return size_t{0};
  return toPromise(readAtLeast(shared_, InFlight(shared_->readsInFlight),
                               static_cast<std::byte*>(buffer), minBytes, maxBytes),
                   "kj stream read");
}

kj::Promise<void> ConnectionStream::write(const void* buffer, size_t size) {
  kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
  return write(kj::arrayPtr(&piece, 1));
}

kj::Promise<void> ConnectionStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  MOONPOOL_CHECK_EQ(shared_->writesInFlight, 0u, "KJ streams allow one write in flight at a time");
  std::vector<std::span<const std::byte>> copy;
  copy.reserve(pieces.size());
  for (const auto& piece : pieces) {
    if (piece.size() != 0) copy.push_back(std::as_bytes(std::span(piece.begin(), piece.size())));
  }
  if (copy.empty()) return kj::READY_NOW;
  return toPromise(writeAll(shared_, InFlight(shared_->writesInFlight), std::move(copy)),
                   "kj stream write");
}

kj::Promise<void> ConnectionStream::whenWriteDisconnected() { return disconnected_.addBranch(); }

void ConnectionStream::shutdownWrite() {
  MOONPOOL_CHECK_EQ(shared_->writesInFlight, 0u, "shutdownWrite() with a write in flight");
  IoResult<void> done = shared_->connection->shutdownWrite();
  if (!done.ok()) kj::throwRecoverableException(shared_->fail(done.error(), "shutdownWrite"));
}

void ConnectionStream::abortRead() { shared_->readSide = Shared::ReadSide::kAborted; }

void ConnectionStream::getsockname(struct sockaddr* addr, kj::uint* length) {
  fillSockaddr(localAddress(), addr, length);
}

void ConnectionStream::getpeername(struct sockaddr* addr, kj::uint* length) {
  fillSockaddr(remoteAddress(), addr, length);
}

}  // namespace moonpool
