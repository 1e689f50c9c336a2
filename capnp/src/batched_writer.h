// Outgoing Cap'n Proto messages of one connection, gathered into one write (capnp/ layer,
// private to watched_message_stream.cpp).
//
// Cap'n Proto 0.9's TwoPartyVatNetwork writes its messages one at a time, each after the
// previous write's promise resolved, so every message costs a system call (and under TLS
// a record of its own). An echo call's client sends two in the same turn (the Finish of the
// last answer, then the next Call). BatchedWriter copies each small message into a batch and
// reports it written at once, then writes the whole batch kFlushRounds passes of KJ's queue
// later: one write, one TLS record, for all of them.
//
// Why rounds and not kj::evalLast (run once nothing else is queued): on a busy loop the
// queue need never empty (RealExecutor polls I/O between events), and a client in the same
// process as twelve peers flooding a server waited over a second for its bootstrap to leave.
// A count of rounds bounds the delay whatever the load. Two rounds are what Cap'n Proto
// 0.9 takes to hand over the next message once a write resolves (measured: one round still
// wrote the Finish and the next Call separately, two wrote them together; 3, 4 and 8
// rounds batched little more and cost latency).
//
// Memory stays bounded: a message is reported written at once only while no write is in
// flight and the batch holds less than kBatchBytesMax; otherwise its promise resolves when
// its batch has been written, so Cap'n Proto queues the messages behind it in its own queue
// (which RpcOptions::outgoingBytesMax caps). Messages over kCopyBytesMax are not copied: the
// batch points at them, and their promise keeps them alive until they are written.
//
// A failed write fails everything not yet written and every later write; `onFailure` hears
// of it once (a connection whose bytes cannot go out is over).
#pragma once

#include <capnp/common.h>
#include <kj/async-io.h>
#include <kj/function.h>
#include <kj/vector.h>

#include <cstddef>

namespace moonpool::rpc::internal {

class BatchedWriter {
 public:
  // Largest message copied into the batch, and the batch size past which writers wait.
  static constexpr std::size_t kCopyBytesMax = 16 * 1024;
  static constexpr std::size_t kBatchBytesMax = 64 * 1024;
  // Passes through KJ's queue between a batch's first message and its write (see above).
  static constexpr std::size_t kFlushRounds = 2;

  // `onFailure` hears of a failed write (once); `onWritten` of every write completed, when
  // heldBytes() has just gone down.
  BatchedWriter(kj::AsyncOutputStream& stream, kj::Function<void(const kj::Exception&)> onFailure,
                kj::Function<void()> onWritten);
  BatchedWriter(const BatchedWriter&) = delete;
  BatchedWriter& operator=(const BatchedWriter&) = delete;

  // One message in Cap'n Proto's stream framing (segment table, then segments). Resolves
  // when Cap'n Proto may reuse or free `segments`.
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments);
  // Resolves once everything handed to write() so far is written (or failed with it).
  kj::Promise<void> flushed();
  // Bytes copied and reported written but not yet written: counted with the peer's queue.
  std::size_t heldBytes() const { return batch_.copiedBytes + writing_.copiedBytes; }

 private:
  // A run of the batch: copied bytes in `copy` (offset, size) or a message's own segments.
  struct Piece {
    bool copied = false;
    std::size_t copyOffset = 0;              // copied: where in `copy`, and how much
    std::size_t size = 0;
    kj::ArrayPtr<const kj::byte> external;  // not copied: the bytes themselves
  };
  struct Batch {
    kj::Vector<kj::byte> copy;
    kj::Vector<Piece> pieces;
    kj::Vector<kj::Own<kj::PromiseFulfiller<void>>> waiters;  // resolved once it is written
    // Segment tables of uncopied messages (each a Cap'n Proto table, padded to a word).
    kj::Vector<kj::Array<::capnp::word>> tables;
    std::size_t copiedBytes = 0;
    bool empty() const { return pieces.empty(); }
    void clear();  // keeps the buffers' capacity
  };

  class ErrorSink final : public kj::TaskSet::ErrorHandler {
   public:
    explicit ErrorSink(BatchedWriter& writer) : writer_(writer) {}
    // implements kj::TaskSet::ErrorHandler
    void taskFailed(kj::Exception&& exception) override;

   private:
    BatchedWriter& writer_;
  };

  // Adds a message to `batch`; whether it was copied (else the batch points at it).
  bool append(Batch& batch, kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments);
  kj::Promise<void> waitFor(Batch& batch);
  void scheduleFlush();
  kj::Promise<void> flush();
  // Resolves after `rounds` passes through KJ's queue (each kj::evalLater waits for
  // everything queued before it).
  kj::Promise<void> afterRounds(std::size_t rounds);
  void fail(const kj::Exception& error);

  kj::AsyncOutputStream& stream_;
  kj::Function<void(const kj::Exception&)> onFailure_;
  kj::Function<void()> onWritten_;
  Batch batch_;    // gathering
  Batch writing_;  // being written (empty when no write is in flight)
  bool inFlight_ = false;
  bool flushScheduled_ = false;
  kj::Maybe<kj::Exception> failure_;
  ErrorSink errors_;
  kj::TaskSet tasks_;  // last: destroyed first, cancelling the flushes that use the above
};

}  // namespace moonpool::rpc::internal
