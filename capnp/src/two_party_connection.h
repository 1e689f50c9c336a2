// One two-party RPC connection: the stream stack under Cap'n Proto's RpcSystem, and the
// watch that tells why it ended (capnp/ layer, private to two_party.cpp).
//
// Stack, bottom up:
//   the byte stream         real TCP: the KJ stream itself (nativeKjStream, no Task per read
//                           or write); otherwise a ConnectionStream over the Connection
//   TLS                     optional (tls.h), wrapped by the caller before the connection
//   ChecksummedStream       optional CRC32C framing
//   WatchedMessageStream    capnp's AsyncIoMessageStream over a meter that charges every
//                           read to the per-connection and shared byte caps, plus a look at
//                           each message's kind: incoming calls are counted against
//                           callsInFlightMax, Abort messages (either way) give the reason a
//                           connection ended, and the outgoing queue is held to its caps
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

// What a WatchedMessageStream holds its connection to.
struct StreamLimits {
  std::uint32_t callsInFlightMax = 1;
  std::size_t incomingBytesMax = 0;
  std::size_t outgoingBytesMax = 0;
  std::shared_ptr<RpcBudget> budget;  // never null
  TimeProvider* time = nullptr;       // stamps lastMessageAt(); may be null
};

class WatchedMessageStream final : public ::capnp::MessageStream {
 public:
  WatchedMessageStream(kj::AsyncIoStream& stream, StreamLimits limits);
  WatchedMessageStream(const WatchedMessageStream&) = delete;
  WatchedMessageStream& operator=(const WatchedMessageStream&) = delete;
  // Gives back what the connection held of the shared budget.
  ~WatchedMessageStream() noexcept(false);

  struct Ending {
    DisconnectCause cause;
    std::string reason;
  };
  // The first thing that ended (or began to end) the connection.
  const std::optional<Ending>& ending() const { return ending_; }
  std::uint32_t callsInFlight() const { return callsInFlight_; }
  std::uint64_t messagesReceived() const { return messagesReceived_; }
  // When the last complete message arrived (by limits.time); unset before the first.
  std::optional<TimePoint> lastMessageAt() const { return lastMessageAt_; }
  // The queue of outgoing messages to hold to the caps (set once the network exists).
  void watchQueue(::capnp::TwoPartyVatNetwork& network) { queue_ = &network; }
  // Records why this side is ending the connection (the first cause wins).
  void record(DisconnectCause cause, std::string reason);
  // Bytes charged to the budget for the message being read.
  std::size_t incomingHeld() const { return incomingHeld_; }
  // Ends the connection to make room in the shared budget: fails the pending read with
  // `reason` and gives its bytes back now.
  void evictForBudget(std::string reason);

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
  // A Return went out: one call fewer in flight, and a read held at the cap may go on.
  void noteReturn();
  // Charges a read of up to `bytes` to the caps; the refusal when one would be exceeded.
  kj::Maybe<kj::Exception> chargeRead(std::size_t bytes);
  void releaseIncoming();
  // Re-measures the outgoing queue; the refusal when it is past a cap.
  kj::Maybe<kj::Exception> measureQueue();
  kj::Exception limitReached(std::string reason);

  // Forwards to the stream, charging each read first (see chargeRead).
  class Meter final : public kj::AsyncIoStream {
   public:
    Meter(WatchedMessageStream& owner, kj::AsyncIoStream& stream)
        : owner_(owner), stream_(stream) {}
    // implements kj::AsyncInputStream
    kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
    // implements kj::AsyncOutputStream
    kj::Promise<void> write(const void* buffer, size_t size) override {
      return stream_.write(buffer, size);
    }
    kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
      return stream_.write(pieces);
    }
    kj::Promise<void> whenWriteDisconnected() override { return stream_.whenWriteDisconnected(); }
    // implements kj::AsyncIoStream
    void shutdownWrite() override { stream_.shutdownWrite(); }
    void abortRead() override { stream_.abortRead(); }
    void getsockopt(int level, int option, void* value, kj::uint* length) override {
      stream_.getsockopt(level, option, value, length);
    }
    void setsockopt(int level, int option, const void* value, kj::uint length) override {
      stream_.setsockopt(level, option, value, length);
    }
    void getsockname(struct sockaddr* addr, kj::uint* length) override {
      stream_.getsockname(addr, length);
    }
    void getpeername(struct sockaddr* addr, kj::uint* length) override {
      stream_.getpeername(addr, length);
    }

   private:
    WatchedMessageStream& owner_;
    kj::AsyncIoStream& stream_;
  };

  // Frees room in the shared budget for `bytes` more by evicting larger holders; false
  // when this connection is the one to close.
  bool makeRoom(std::size_t bytes);

  StreamLimits limits_;
  std::uint64_t holderId_;
  kj::Canceler reading_;  // the pending read, so an eviction can fail it
  Meter meter_;
  ::capnp::AsyncIoMessageStream inner_;
  ::capnp::TwoPartyVatNetwork* queue_ = nullptr;
  std::uint32_t callsInFlight_ = 0;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> room_;  // a read waiting below the cap
  std::optional<Ending> ending_;
  std::size_t incomingHeld_ = 0;  // charged to the budget for the message being read
  // The pending read is wrapped in reading_, so an eviction can fail it. Only reads of
  // kCancellableReadBytes or more are: a wrap costs an event-loop turn per read (measured:
  // simulated echo 0.72x with every read wrapped), and smaller reads hold too little to be
  // worth evicting (a message's large part is its body, read in one piece).
  bool readCancellable_ = false;
  std::size_t outgoingHeld_ = 0;  // the queue's size as last charged to the budget
  std::uint64_t messagesReceived_ = 0;
  std::optional<TimePoint> lastMessageAt_;
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
  WatchedMessageStream messages_;
  ::capnp::TwoPartyVatNetwork network_;
  ::capnp::RpcSystem<::capnp::rpc::twoparty::VatId> rpc_;
};

}  // namespace moonpool::rpc::internal
