// A moonpool Connection exposed as a kj::AsyncIoStream (runtime/ kj layer).
//
// This is what lets Cap'n Proto run unmodified over any NetworkProvider: the simulated
// network (faults and all, on simulated time) or real TCP (where the RPC layer skips it and
// uses the KJ stream itself: KjStreamConnection below). Every KJ stream call becomes a
// Task on the current moonpool executor (bridge.h's toPromise), so in simulation each byte
// moves at a seeded scheduling decision; dropping a returned promise cancels its Task.
//
// Mapping onto network.h:
//   tryRead(buf, min, max)  reads until at least `min` bytes arrived (short reads are
//                           retried), or end of stream (then fewer, possibly 0);
//   write(pieces)           writes every byte: Connection::write accepts prefixes, so it
//                           loops, at most kPiecesPerWriteMax pieces per call;
//   shutdownWrite()         Connection::shutdownWrite() (half-close);
//   abortRead()             later reads fail; the connection itself stays open;
//   whenWriteDisconnected() resolves once a read or write failed (a reset, a broken pipe):
//                           a Connection cannot notice a dead peer without I/O.
// Errors become kj::Exception: DISCONNECTED for every I/O failure of an established stream
// (reset, broken pipe, partition timeout, device error), FAILED for misuse (an operation on a
// closed handle). The description names the operation, both addresses and the IoError.
//
// KJ's rules apply: one read and one write in flight at a time (checked), and the stream
// outlives the promises it returned. The Connection is shared with in-flight Tasks, so a
// caller breaking that rule leaks no dangling reference. Destroying the stream closes the
// connection gracefully (network.h), once no Task uses it any more.
#pragma once

#include <kj/async-io.h>

#include <cstddef>
#include <memory>
#include <string_view>

#include "moonpool/network.h"

namespace moonpool {

class ConnectionStream final : public kj::AsyncIoStream {
 public:
  // Pieces handed to one Connection::write (the simulated network bounds vectored writes).
  static constexpr std::size_t kPiecesPerWriteMax = 64;

  explicit ConnectionStream(std::unique_ptr<Connection> connection);
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;
  // KJ streams have no virtual destructor: kj::Own deletes through the concrete type.
  ~ConnectionStream();

  Connection& connection();
  NetAddress localAddress() const;
  NetAddress remoteAddress() const;
  // Resets the connection (Connection::abort): the peer sees kReset, in-flight bytes are lost.
  void abort();

  // implements kj::AsyncInputStream
  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<void> whenWriteDisconnected() override;
  // implements kj::AsyncIoStream
  void shutdownWrite() override;
  void abortRead() override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;

  // State shared with in-flight Tasks (defined in connection_stream.cpp).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  kj::ForkedPromise<void> disconnected_;
};

// A Connection that is a KJ stream underneath (RealNetworkProvider's TCP). Code that speaks
// KJ (Cap'n Proto's transport) uses that stream directly, with no Task per read or write,
// under one rule: while it does, it calls none of the Connection's read, write,
// shutdownWrite or abort, and it is done with the stream before the Connection is destroyed
// (destroying the Connection closes the stream).
class KjStreamConnection {
 public:
  virtual kj::AsyncIoStream& kjStream() = 0;

 protected:
  ~KjStreamConnection() = default;
};

// The KJ stream under `connection` when it has one (KjStreamConnection), otherwise null:
// wrap it in a ConnectionStream then.
kj::AsyncIoStream* nativeKjStream(Connection& connection);

// The kj::Exception a failed stream operation becomes (see the header comment):
// "<operation> on <local>-><remote>: <kind>: <message>".
kj::Exception streamException(const IoError& error, std::string_view operation,
                              const Connection& connection);

// The kj::Exception a failed connect or listen becomes: the type follows io.h's errorKindOf
// (refused and unreachable are DISCONNECTED, a timeout OVERLOADED, the rest FAILED).
kj::Exception networkException(const IoError& error, std::string_view operation,
                               NetAddress address);

}  // namespace moonpool
