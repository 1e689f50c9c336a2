// Goal: the connection's outgoing messages are gathered into few writes without changing a
// byte of the stream, without unbounded memory and without starving on a busy loop: the
// messages of one turn leave in one write, in order and framed as Cap'n Proto frames them;
// a message over kCopyBytesMax is written from the caller's memory and reported written
// only once it is; while a write is in flight writers wait and the next batch follows; a
// failed write fails everything after it and is reported once; a loop whose queue never
// empties still gets the batch out; flushed() waits for the last byte.
// Method: BatchedWriter (capnp/src, private) over a recording KJ output stream on a bare KJ
// event loop; the stream can hold a write open or fail it.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async.h>

#include <string>
#include <vector>

#include "batched_writer.h"
#include "echo.capnp.h"

namespace moonpool::rpc::internal {
namespace {

class RecordingStream final : public kj::AsyncOutputStream {
 public:
  // implements kj::AsyncOutputStream
  kj::Promise<void> write(const void* buffer, size_t size) override {
    kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
    return write(kj::arrayPtr(&piece, 1));
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    ++writes;
    KJ_IF_MAYBE(error, failWith) { return kj::cp(*error); }
    for (const auto& piece : pieces) bytes.append(piece.asChars().begin(), piece.size());
    if (!hold) return kj::READY_NOW;
    auto paf = kj::newPromiseAndFulfiller<void>();
    held = kj::mv(paf.fulfiller);
    return kj::mv(paf.promise);
  }
  kj::Promise<void> whenWriteDisconnected() override { return kj::NEVER_DONE; }

  void release() {
    KJ_IF_MAYBE(fulfiller, held) { (*fulfiller)->fulfill(); }
    held = nullptr;
  }

  std::string bytes;
  int writes = 0;
  bool hold = false;
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> held;
  kj::Maybe<kj::Exception> failWith;
};

// A message holding `text`, and its bytes as Cap'n Proto's stream framing has them.
struct Message {
  explicit Message(const std::string& text) {
    builder.initRoot<Echo::EchoParams>().setText(text);
    auto flat = ::capnp::messageToFlatArray(builder);
    framed.assign(flat.asChars().begin(), flat.asChars().size());
  }
  kj::ArrayPtr<const kj::ArrayPtr<const ::capnp::word>> segments() {
    return builder.getSegmentsForOutput();
  }
  ::capnp::MallocMessageBuilder builder;
  std::string framed;
};

class BatchedWriterTest : public ::testing::Test {
 protected:
  // KJ's types may throw from their destructors; a fixture's may not (one that did would
  // end the test binary, as it should).
  ~BatchedWriterTest() noexcept override {}

  kj::EventLoop loop_;  // first: destroyed after everything that queues events on it
  kj::WaitScope waitScope_{loop_};
  RecordingStream stream_;
  std::vector<std::string> failures_;
  BatchedWriter writer_{stream_, [this](const kj::Exception& error) {
                          failures_.emplace_back(error.getDescription().cStr());
                        }};
};

TEST_F(BatchedWriterTest, TheMessagesOfOneTurnLeaveInOneWriteInOrder) {
  Message a("first"), b(std::string(500, 'b')), c("");
  kj::Promise<void> pa = writer_.write(a.segments());
  kj::Promise<void> pb = writer_.write(b.segments());
  kj::Promise<void> pc = writer_.write(c.segments());
  // Reported written at once: the batch holds copies.
  EXPECT_TRUE(pa.poll(waitScope_));
  EXPECT_TRUE(pc.poll(waitScope_));
  waitScope_.poll();
  EXPECT_EQ(stream_.writes, 1);
  EXPECT_EQ(stream_.bytes, a.framed + b.framed + c.framed);
  EXPECT_EQ(writer_.heldBytes(), 0u);
}

TEST_F(BatchedWriterTest, ALargeMessageIsWrittenFromItsOwnMemoryAndWaitsForItsWrite) {
  stream_.hold = true;
  Message small("small"), large(std::string(BatchedWriter::kCopyBytesMax + 100, 'L'));
  kj::Promise<void> ps = writer_.write(small.segments());
  kj::Promise<void> pl = writer_.write(large.segments());
  EXPECT_EQ(writer_.heldBytes(), small.framed.size()) << "only the small one was copied";
  EXPECT_FALSE(pl.poll(waitScope_)) << "the large one waits for its bytes to be written";
  EXPECT_EQ(stream_.writes, 1);
  stream_.release();
  EXPECT_TRUE(pl.poll(waitScope_));
  pl.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, small.framed + large.framed);
}

TEST_F(BatchedWriterTest, WhileAWriteIsInFlightWritersWaitAndTheNextBatchFollows) {
  stream_.hold = true;
  Message first("first"), second("second"), third("third");
  writer_.write(first.segments()).wait(waitScope_);
  waitScope_.poll();
  ASSERT_EQ(stream_.writes, 1);
  kj::Promise<void> p2 = writer_.write(second.segments());
  kj::Promise<void> p3 = writer_.write(third.segments());
  EXPECT_FALSE(p2.poll(waitScope_)) << "no promise of a write while one is in flight";
  EXPECT_EQ(writer_.heldBytes(), first.framed.size() + second.framed.size() +
                                     third.framed.size());
  stream_.release();  // the first write completes: the waiting batch goes out in one write
  waitScope_.poll();
  EXPECT_EQ(stream_.writes, 2);
  stream_.release();
  p2.wait(waitScope_);
  p3.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, first.framed + second.framed + third.framed);
  EXPECT_EQ(writer_.heldBytes(), 0u);
}

TEST_F(BatchedWriterTest, AFailedWriteFailsEverythingAfterItAndIsReportedOnce) {
  stream_.failWith = KJ_EXCEPTION(DISCONNECTED, "the peer reset the connection");
  Message a("a"), b("b");
  writer_.write(a.segments()).wait(waitScope_);  // copied: reported written before the write
  waitScope_.poll();
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("reset the connection"), std::string::npos) << failures_[0];
  kj::Promise<void> later = writer_.write(b.segments());
  EXPECT_THROW(later.wait(waitScope_), kj::Exception);
  EXPECT_THROW(writer_.flushed().wait(waitScope_), kj::Exception);
  EXPECT_EQ(failures_.size(), 1u) << "reported once";
  EXPECT_EQ(stream_.writes, 1) << "nothing is written after a failure";
}

TEST_F(BatchedWriterTest, ALoopWhoseQueueNeverEmptiesStillGetsTheBatchOut) {
  // Work that keeps requeueing itself, as a loaded server's loop does.
  bool busy = true;
  std::uint64_t spins = 0;
  kj::Function<kj::Promise<void>()> spin = [&]() -> kj::Promise<void> {
    if (!busy) return kj::READY_NOW;
    ++spins;
    return kj::evalLater([&]() { return spin(); });
  };
  kj::Promise<void> spinning = spin();
  Message a("under load");
  writer_.write(a.segments()).wait(waitScope_);
  constexpr unsigned kTurns = 64;
  loop_.run(kTurns);
  EXPECT_EQ(stream_.writes, 1) << "the batch left within " << kTurns << " turns";
  EXPECT_EQ(stream_.bytes, a.framed);
  EXPECT_GT(spins, 1u) << "the busy work kept running";
  busy = false;
  spinning.wait(waitScope_);
}

TEST_F(BatchedWriterTest, FlushedWaitsForTheLastByte) {
  stream_.hold = true;
  Message a("a");
  writer_.write(a.segments()).wait(waitScope_);
  kj::Promise<void> flushed = writer_.flushed();
  EXPECT_FALSE(flushed.poll(waitScope_));
  stream_.release();
  flushed.wait(waitScope_);
  EXPECT_EQ(stream_.bytes, a.framed);
  EXPECT_TRUE(writer_.flushed().poll(waitScope_)) << "nothing left to write";
}

}  // namespace
}  // namespace moonpool::rpc::internal
