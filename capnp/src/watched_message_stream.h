// The message stream under one two-party RPC connection's TwoPartyVatNetwork: buffered
// reads, the byte caps, call counting and the reason a connection ended (capnp/ layer,
// private to two_party*.cpp; see two_party_connection.h for the whole stack).
#pragma once

#include <capnp/rpc-twoparty.h>
#include <capnp/serialize-async.h>
#include <kj/async-io.h>
#include <kj/function.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "moonpool/providers.h"
#include "moonpool/rpc/two_party.h"
#include "batched_writer.h"

namespace moonpool::rpc::internal {

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
  // Called when a write fails: the stream's owner ends the connection (resets it), so a
  // read Cap'n Proto waits on fails too.
  void onWriteFailure(kj::Function<void()> react) { onWriteFailure_ = kj::mv(react); }
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
  kj::Promise<void> end() override;

 private:
  // What parseBuffered found at the front of the read buffer.
  struct Parsed {
    enum class Kind : std::uint8_t { kMessage, kNeedBytes, kLarge, kError };
    Kind kind = Kind::kNeedBytes;
    kj::Own<::capnp::MessageReader> message;  // kMessage
    std::size_t moreBytes = 0;                // kNeedBytes: at least this many more to go on
    kj::Array<::capnp::word> large;           // kLarge: the whole message, partly filled
    std::size_t largeHave = 0;                // kLarge: bytes of it already in place
    kj::Maybe<kj::Exception> error;           // kError
  };
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> readNext(::capnp::ReaderOptions options);
  // Takes the next message off the read buffer when all of it is there; never throws.
  Parsed parseBuffered(const ::capnp::ReaderOptions& options);
  // Reads at least `moreBytes` more into the buffer, then parses again.
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> fill(std::size_t moreBytes,
                                                            ::capnp::ReaderOptions options);
  // A message larger than the buffer: the rest of it is read straight into `words`.
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> readLarge(kj::Array<::capnp::word> words,
                                                                 std::size_t have,
                                                                 ::capnp::ReaderOptions options);
  // A whole message: the watch, then Cap'n Proto gets it.
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> deliver(
      kj::Own<::capnp::MessageReader> message);
  // The stream ended or failed under a read: records why and fails the read.
  kj::Promise<kj::Maybe<::capnp::MessageReaderAndFds>> readFailed(kj::Exception error);
  void noteIncoming(::capnp::MessageReader& message);
  void noteOutgoing(kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments);
  // A Return went out: one call fewer in flight, and a read held at the cap may go on.
  void noteReturn();
  // Charges a message of `bytes` to the caps; the refusal when one would be exceeded.
  kj::Maybe<kj::Exception> chargeRead(std::size_t bytes);
  void releaseIncoming();
  // Re-measures the outgoing queue; the refusal when it is past a cap.
  kj::Maybe<kj::Exception> measureQueue();
  // A write completed: gives back to the budget what the queue no longer holds.
  void outgoingWritten();
  kj::Exception limitReached(std::string reason);

  // Frees room in the shared budget for `bytes` more by evicting larger holders; false
  // when this connection is the one to close.
  bool makeRoom(std::size_t bytes);

  StreamLimits limits_;
  std::uint64_t holderId_;
  kj::AsyncIoStream& stream_;
  kj::Canceler reading_;  // the pending read, so an eviction can fail it
  ::capnp::AsyncIoMessageStream inner_;  // the end of the stream
  // Bytes received and not yet handed over as messages: [readBegin_, readEnd_) of
  // readBuffer_ (kReadBufferWords words). A message starts at readBegin_, so on a word.
  kj::Array<::capnp::word> readBuffer_;
  std::size_t readBegin_ = 0;
  std::size_t readEnd_ = 0;
  ::capnp::TwoPartyVatNetwork* queue_ = nullptr;
  std::uint32_t callsInFlight_ = 0;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> room_;  // a read waiting below the cap
  std::optional<Ending> ending_;
  std::size_t incomingHeld_ = 0;  // charged to the budget for the message being read
  // The pending read is wrapped in reading_, so an eviction can fail it. Only the read of
  // a message too large for the read buffer is, when kCancellableReadBytes or more remain:
  // a wrap costs an event-loop turn per read (measured: simulated echo 0.72x with every
  // read wrapped), and what the buffer holds is too little to be worth evicting.
  bool readCancellable_ = false;
  std::size_t outgoingHeld_ = 0;  // the queue's size as last charged to the budget
  std::uint64_t messagesReceived_ = 0;
  std::optional<TimePoint> lastMessageAt_;
  kj::Maybe<kj::Function<void()>> onWriteFailure_;
  BatchedWriter writer_;  // last: its callbacks use the members above
};

}  // namespace moonpool::rpc::internal
