// One two-party RPC connection: the stream stack under Cap'n Proto's RpcSystem, and the
// watch that tells why it ended (capnp/ layer, private to two_party.cpp).
//
// Stack, bottom up:
//   ConnectionStream        a moonpool Connection as a kj::AsyncIoStream
//   ChecksummedStream       optional CRC32C framing
//   WatchedMessageStream    capnp's AsyncIoMessageStream, plus a look at each message's
//                           kind: incoming calls are counted against callsInFlightMax and
//                           Abort messages (either way) give the reason a connection ended
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

class WatchedMessageStream final : public ::capnp::MessageStream {
 public:
  WatchedMessageStream(kj::AsyncIoStream& stream, std::uint32_t callsInFlightMax);

  struct Ending {
    DisconnectCause cause;
    std::string reason;
  };
  // The first thing that ended (or began to end) the connection.
  const std::optional<Ending>& ending() const { return ending_; }
  std::uint32_t callsInFlight() const { return callsInFlight_; }

  // implements ::capnp::MessageStream
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> tryReadMessage(
      kj::ArrayPtr<kj::AutoCloseFd> fdSpace, ::capnp::ReaderOptions options,
      kj::ArrayPtr<::capnp::word> scratchSpace) override;
  kj::Promise<void> writeMessage(
      kj::ArrayPtr<const int> fds,
      kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments) override;
  kj::Promise<void> writeMessages(
      kj::ArrayPtr<kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>>> messages) override;
  kj::Maybe<int> getSendBufferSize() override { return inner_.getSendBufferSize(); }
  kj::Promise<void> end() override { return inner_.end(); }

 private:
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> readNext(
      kj::ArrayPtr<kj::AutoCloseFd> fdSpace, ::capnp::ReaderOptions options,
      kj::ArrayPtr<::capnp::word> scratchSpace);
  kj::Promise<void> watchWrite(kj::Promise<void> write);
  void noteIncoming(::capnp::MessageReader& message);
  void noteOutgoing(kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments);
  void record(DisconnectCause cause, std::string reason);

  ::capnp::AsyncIoMessageStream inner_;
  std::uint32_t callsInFlight_ = 0;
  std::uint32_t callsInFlightMax_;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> room_;  // a read waiting below the cap
  std::optional<Ending> ending_;
};

class RpcConnection {
 public:
  // `bootstrap`: what this side serves to the peer (none for a pure client).
  RpcConnection(std::unique_ptr<Connection> connection, ::capnp::rpc::twoparty::Side side,
                kj::Maybe<::capnp::Capability::Client> bootstrap, const RpcOptions& options,
                Executor& executor);
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;

  // The peer's bootstrap capability.
  ::capnp::Capability::Client bootstrap();
  // Resolves when Cap'n Proto has dropped the connection.
  kj::Promise<void> onDisconnect() { return network_.onDisconnect(); }
  DisconnectReport report() const;
  // Something ended the connection (see WatchedMessageStream::ending and the framing).
  bool ended() const;
  NetAddress localAddress() const { return stream_.localAddress(); }
  NetAddress remoteAddress() const { return stream_.remoteAddress(); }

 private:
  kj::AsyncIoStream& framed();

  ExecutorClock clock_;
  ConnectionStream stream_;
  kj::Maybe<kj::Own<ChecksummedStream>> checksummed_;
  WatchedMessageStream messages_;
  ::capnp::TwoPartyVatNetwork network_;
  ::capnp::RpcSystem<::capnp::rpc::twoparty::VatId> rpc_;
};

}  // namespace moonpool::rpc::internal
