// One two-party RPC connection: the stream stack under Cap'n Proto's RpcSystem, and the
// watch that tells why it ended (capnp/ layer, private to two_party.cpp).
//
// Stack, bottom up:
//   the byte stream         real TCP: the KJ stream itself (nativeKjStream, no Task per read
//                           or write); otherwise a ConnectionStream over the Connection
//   TLS                     optional (tls.h), wrapped by the caller before the connection
//   ChecksummedStream       optional CRC32C framing
//   WatchedMessageStream    messages parsed out of a per-connection read buffer (one read
//                           brings every message that has arrived, instead of three reads
//                           per message), each charged to the per-connection and shared byte
//                           caps as soon as its segment table says how large it is; a look at
//                           each message's kind: incoming calls are counted against
//                           callsInFlightMax, Abort messages (either way) give the reason a
//                           connection ended, and the outgoing queue is held to its caps;
//                           outgoing messages are gathered into one write per event-loop
//                           turn (batched_writer.h)
//   TwoPartyVatNetwork + RpcSystem, unmodified
#pragma once

#include <capnp/rpc-twoparty.h>
#include <capnp/rpc.h>
#include <capnp/serialize-async.h>
#include <kj/async-io.h>
#include <kj/time.h>

#include <memory>
#include <optional>
#include <string>

#include "moonpool/rpc/checksummed_stream.h"
#include "moonpool/kj/connection_stream.h"
#include "moonpool/rpc/two_party.h"
#include "moonpool/executor.h"
#include "moonpool/providers.h"
#include "watched_message_stream.h"

namespace moonpool::rpc::internal {

// kj::MonotonicClock on the executor's time (simulated time in simulation), so Cap'n Proto's
// queue-age metrics never read a wall clock inside the simulation.
class ExecutorClock final : public kj::MonotonicClock {
 public:
  explicit ExecutorClock(Executor& executor) : executor_(executor) {}
  // implements kj::MonotonicClock
  kj::TimePoint now() const override;

 private:
  Executor& executor_;
};

// The byte stream of a Connection for Cap'n Proto: the KJ stream underneath when the
// provider has one (real TCP), a ConnectionStream otherwise. Owns the Connection.
class BaseStream {
 public:
  explicit BaseStream(std::unique_ptr<Connection> connection);
  BaseStream(const BaseStream&) = delete;
  BaseStream& operator=(const BaseStream&) = delete;

  kj::AsyncIoStream& stream() { return *stream_; }
  NetAddress localAddress() const { return local_; }
  NetAddress remoteAddress() const { return remote_; }
  // Resets the connection (the peer sees a reset; this side's pending I/O fails).
  void abort();

 private:
  std::unique_ptr<Connection> connection_;
  kj::Maybe<kj::Own<ConnectionStream>> bridged_;
  kj::AsyncIoStream* stream_;
  NetAddress local_;
  NetAddress remote_;
};

class RpcConnection {
 public:
  // `base` carries the connection's bytes; `layered`, when set, is a stream over it (TLS)
  // that Cap'n Proto speaks through instead. `bootstrap`: what this side serves to the peer
  // (none for a pure client). `time` stamps the last message received (may be null).
  RpcConnection(std::unique_ptr<BaseStream> base, kj::Own<kj::AsyncIoStream> layered,
                ::capnp::rpc::twoparty::Side side,
                kj::Maybe<::capnp::Capability::Client> bootstrap, const RpcOptions& options,
                std::shared_ptr<RpcBudget> budget, TimeProvider* time, Executor& executor);
  ~RpcConnection();
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;

  // The peer's bootstrap capability.
  ::capnp::Capability::Client bootstrap();
  // Resolves when Cap'n Proto has dropped the connection.
  kj::Promise<void> onDisconnect() { return network_.onDisconnect(); }
  DisconnectReport report() const;
  // Something ended the connection (see WatchedMessageStream::ending and the framing).
  bool ended() const;
  NetAddress localAddress() const { return base_->localAddress(); }
  NetAddress remoteAddress() const { return base_->remoteAddress(); }
  const WatchedMessageStream& messages() const { return messages_; }
  // Ends the connection now for `reason` (a limit): records it and resets the stream.
  void close(DisconnectCause cause, std::string reason);

 private:
  kj::AsyncIoStream& framed(const RpcOptions& options);

  ExecutorClock clock_;
  std::unique_ptr<BaseStream> base_;
  kj::Own<kj::AsyncIoStream> layered_;
  kj::Maybe<kj::Own<ChecksummedStream>> checksummed_;
  // Destroyed in reverse, in one go: the RPC system and the network (whose outgoing
  // messages a write in flight may still point at, batched_writer.h) go before the stream
  // that writes them, with no event-loop turn between.
  WatchedMessageStream messages_;
  ::capnp::TwoPartyVatNetwork network_;
  ::capnp::RpcSystem<::capnp::rpc::twoparty::VatId> rpc_;
};

}  // namespace moonpool::rpc::internal
